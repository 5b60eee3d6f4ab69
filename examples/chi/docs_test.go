package main

import (
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/ssogate/ssogate"
)

// The chi snippet of docs/routers.md, as it is there.
var _ = chiRoutes

func chiRoutes(gate *ssogate.Middleware, home, app, me, adminPage http.HandlerFunc) chi.Router {
	r := chi.NewRouter()
	gate.Mount(r) // /login, /callback, /logout

	r.Get("/", home) // public

	r.Group(func(r chi.Router) {
		r.Use(gate.RequireSSO) // signed-in users only
		r.Get("/app", app)
		r.Get("/api/me", me)
	})
	r.Group(func(r chi.Router) {
		r.Use(gate.RequireSSO, gate.RequireRole("org_01HSTAFF", "admin")) // your company's admins only
		r.Get("/admin", adminPage)
	})
	return r
}
