module github.com/ssogate/ssogate

go 1.25.0

require (
	github.com/gorilla/securecookie v1.1.2
	github.com/gorilla/sessions v1.4.0
	golang.org/x/net v0.58.0
	golang.org/x/sync v0.22.0
)

require golang.org/x/text v0.41.0 // indirect
