package main

import (
	"net/http"

	"github.com/gin-gonic/gin"
	"github.com/ssogate/ssogate"
)

// The gin snippet of docs/routers.md, as it is there; wrapMiddleware is
// adapt.go's.
var _ = ginRoutes

func ginRoutes(gate *ssogate.Middleware) *gin.Engine {
	r := gin.New()                                   // not gin.Default, whose gin.Recovery logs cookies
	r.Use(wrapMiddleware(gate.Redact), gin.Logger()) // Redact hides the callback's code and state from the log
	r.Any("/login", gin.WrapF(gate.Login))
	r.Any("/callback", gin.WrapF(gate.Callback))
	r.Any("/logout", gin.WrapF(gate.Logout))
	signedIn := r.Group("/", wrapMiddleware(gate.RequireSSO))
	signedIn.GET("/api/me", func(c *gin.Context) {
		p, _ := ssogate.ProfileFromContext(c.Request.Context())
		c.JSON(http.StatusOK, p)
	})
	return r
}
