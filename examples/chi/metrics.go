package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"

	"github.com/ssogate/ssogate/otelssogate"
)

// defaultMetricsAddr is where the metrics are served unless METRICS_ADDR
// says otherwise: the port OpenTelemetry's Prometheus exporters use.
const defaultMetricsAddr = "localhost:9464"

// metrics serves ssogate's OpenTelemetry metrics for Prometheus on a
// listener of its own.
type metrics struct {
	tel *otelssogate.Telemetry
	srv *http.Server
	ln  net.Listener
	mp  *sdkmetric.MeterProvider
}

// startMetrics makes the metrics and serves them at addr (METRICS_ADDR;
// "off" serves none). The listener must be on this machine: metrics name
// customers' organizations and connections and must never be public, so
// they get a port of their own rather than a route of the app, which a
// proxy could expose. A scraper elsewhere needs an authenticating proxy
// (or an OpenTelemetry collector) on this machine. When the default port is
// taken (another replica on this machine), a free one is used.
func startMetrics(addr string, out io.Writer, logger *slog.Logger) (*metrics, error) {
	if addr == "off" {
		return nil, nil
	}
	explicit := addr != ""
	if !explicit {
		addr = defaultMetricsAddr
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("METRICS_ADDR: %w", err)
	}
	if !loopback(host) {
		return nil, errors.New("METRICS_ADDR must be a loopback address, such as localhost:9464: metrics must never be public")
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil && !explicit {
		ln, err = net.Listen("tcp", net.JoinHostPort(host, "0"))
	}
	if err != nil {
		return nil, fmt.Errorf("METRICS_ADDR: %w", err)
	}

	reg := prometheus.NewRegistry()
	exporter, err := otelprom.New(otelprom.WithRegisterer(reg))
	if err != nil {
		ln.Close()
		return nil, err
	}
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(exporter))
	tel, err := otelssogate.New(otelssogate.Config{MeterProvider: mp})
	if err != nil {
		ln.Close()
		return nil, err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	m := &metrics{tel: tel, ln: ln, mp: mp, srv: &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		WriteTimeout:      30 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}}
	go m.srv.Serve(ln)
	fmt.Fprintf(out, "Metrics for Prometheus at http://%s/metrics (this machine only)\n", ln.Addr())
	return m, nil
}

// Close stops serving the metrics.
func (m *metrics) Close() error {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return errors.Join(m.srv.Shutdown(ctx), m.mp.Shutdown(ctx))
}

// loopback reports whether host names this machine only.
func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
