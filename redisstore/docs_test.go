package redisstore_test

import (
	"log"
	"os"

	"github.com/ssogate/ssogate"
	"github.com/ssogate/ssogate/redisstore"
)

// The snippet of docs/sessions.md, as it is there.
var _ = newReplica

func newReplica(cfg ssogate.Config) *ssogate.Middleware {
	store, err := redisstore.Open(os.Getenv("REDIS_URL"), redisstore.Options{}) // redis://host:6379/0
	if err != nil {
		log.Fatal(err)
	}
	cfg.Backplane = store // every replica: the same Redis, the same CookieSecrets
	gate, err := ssogate.New(cfg)
	if err != nil {
		log.Fatal(err)
	}
	return gate
}
