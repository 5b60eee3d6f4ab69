module github.com/ssogate/ssogate

go 1.25

require (
	github.com/gorilla/securecookie v1.1.2
	github.com/gorilla/sessions v1.4.0
)
