module github.com/ssogate/ssogate/examples/basic

go 1.26.0

require (
	github.com/ssogate/ssogate v0.0.0
	github.com/ssogate/ssogate/redisstore v0.0.0
)

require (
	github.com/cespare/xxhash/v2 v2.3.0 // indirect
	github.com/gorilla/securecookie v1.1.2 // indirect
	github.com/gorilla/sessions v1.4.0 // indirect
	github.com/redis/go-redis/v9 v9.23.0 // indirect
	go.uber.org/atomic v1.12.0 // indirect
	golang.org/x/net v0.58.0 // indirect
	golang.org/x/sync v0.22.0 // indirect
	golang.org/x/sys v0.48.0 // indirect
	golang.org/x/text v0.41.0 // indirect
)

replace (
	github.com/ssogate/ssogate => ../..
	github.com/ssogate/ssogate/redisstore => ../../redisstore
)
