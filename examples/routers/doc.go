// Package routers holds one small app per router (chi, echo, gin and
// gorilla/mux; net/http's is examples/minimal), each a main.go that a user
// copies into a module of their own as it is: it imports only ssogate and
// its router, and CI copies each out, runs go mod init and builds it
// alone. Each reads its settings with ssogate.ConfigFromEnv, so it needs
// a WorkOS environment or a running "ssogate emulator":
//
//	go run ./cmd/ssogate emulator -redirect-uri http://localhost:8080/callback &
//	export WORKOS_API_KEY=sk_test_workostest WORKOS_CLIENT_ID=client_workostest WORKOS_BASE_URL=http://127.0.0.1:8788
//	export WORKOS_REDIRECT_URI=http://localhost:8080/callback WORKOS_COOKIE_PASSWORD="$(go run ./cmd/ssogate secret)"
//	go run ./examples/routers/chi
package routers
