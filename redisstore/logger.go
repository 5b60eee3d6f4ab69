package redisstore

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/redis/go-redis/v9"
)

// RouteRedisLog sends go-redis's own log to logger at debug level.
//
// go-redis logs through one logger for the whole process ([redis.SetLogger]),
// and while Redis is down it prints "failed to dial" about twice a second.
// The store says what matters itself, once when an outage starts and once
// when it ends, so [Open] routes go-redis's lines here, where they are kept
// for debugging and out of the way. Call it yourself with a client made
// for [New]; it changes the logger of every go-redis client of the process.
func RouteRedisLog(logger *slog.Logger) {
	redis.SetLogger(redisLogger{logger})
}

type redisLogger struct{ l *slog.Logger }

func (r redisLogger) Printf(ctx context.Context, format string, v ...any) {
	r.l.DebugContext(ctx, "redisstore: go-redis: "+fmt.Sprintf(format, v...))
}
