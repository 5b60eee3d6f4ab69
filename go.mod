module github.com/ssogate/ssogate

go 1.25

require (
	github.com/go-chi/chi/v5 v5.5.0
	github.com/gorilla/securecookie v1.1.2
	github.com/gorilla/sessions v1.4.0
)
