package main

import (
	"net/http"

	"github.com/gin-gonic/gin"
)

// wrapMiddleware adapts net/http middleware, such as gate.RequireSSO, to a
// gin handler.
//
// The middleware decides. When it calls next, the request it passes on,
// which carries the profile in its context, becomes c.Request, and the rest
// of the gin chain runs inside next: the headers the middleware set
// (Cache-Control: no-store, Vary: Cookie) are on c.Writer already, and
// whatever it does after next still wraps the downstream handlers, as it
// would in net/http. When it does not call next, it has answered the request
// itself (a redirect to sign in, a 401) and the chain is aborted, so no
// later handler runs.
//
// The middleware must call next before it returns, with the ResponseWriter
// it was given; ssogate's does.
func wrapMiddleware(mw func(http.Handler) http.Handler) gin.HandlerFunc {
	return func(c *gin.Context) {
		passed := false
		mw(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			passed = true
			c.Request = r
			c.Next()
		})).ServeHTTP(c.Writer, c.Request)
		if !passed {
			c.Abort()
		}
	}
}

// ginRouter lets gate.Mount register the sign-in handlers on a gin router,
// for every method: the handlers answer the methods they do not serve with
// 405 themselves. Mount uses the configured paths, so the callback follows
// the redirect URI's path.
type ginRouter struct{ r gin.IRoutes }

// Handle registers h at pattern, a plain path.
func (g ginRouter) Handle(pattern string, h http.Handler) {
	g.r.Any(pattern, gin.WrapH(h))
}
