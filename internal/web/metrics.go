package web

import (
	"crypto/subtle"
	"strconv"
	"strings"
	"time"

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/middleware/adaptor"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// MetricsPath is where both servers answer Prometheus.
const MetricsPath = "/metrics"

// Metrics is a server's Prometheus registry with the request metrics both
// servers share; each adds its own collectors to Registry.
type Metrics struct {
	Registry *prometheus.Registry
	server   string
	token    string
	requests *prometheus.CounterVec
	latency  *prometheus.HistogramVec
}

// NewMetrics makes a registry whose metrics carry server ("bus" or
// "office") as a constant label. With a token, /metrics answers only
// requests that carry it as a bearer token; without one, only requests
// from loopback.
func NewMetrics(server, token string) *Metrics {
	reg := prometheus.NewRegistry()
	f := prometheus.WrapRegistererWith(prometheus.Labels{"server": server}, reg)
	m := &Metrics{
		Registry: reg,
		server:   server,
		token:    token,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "infobus_http_requests_total",
			Help: "HTTP requests answered, by route pattern, method and status.",
		}, []string{"route", "method", "status"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "infobus_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by route pattern and method.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 10},
		}, []string{"route", "method"}),
	}
	f.MustRegister(m.requests, m.latency, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Register adds a server's own collectors, labelled like the shared ones.
func (m *Metrics) Register(cs ...prometheus.Collector) {
	prometheus.WrapRegistererWith(prometheus.Labels{"server": m.server}, m.Registry).MustRegister(cs...)
}

// Observe is middleware that counts and times each request. It goes
// before LogRequests, which has answered errors by the time it returns, so
// the status counted is the one sent; route is the pattern, never the
// path, so that ids do not make a metric per visit.
func (m *Metrics) Observe(c *fiber.Ctx) error {
	start := time.Now()
	err := c.Next()
	// The registry keeps label values: copies, not Fiber's reused memory.
	route, method := strings.Clone(c.Route().Path), strings.Clone(c.Method())
	m.requests.WithLabelValues(route, method, strconv.Itoa(c.Response().StatusCode())).Inc()
	m.latency.WithLabelValues(route, method).Observe(time.Since(start).Seconds())
	return err
}

// Handler serves the registry in Prometheus's text format, to the token's
// holder or, without a token, to loopback only: the figures say how busy
// the programme is, which is nobody else's business.
func (m *Metrics) Handler() fiber.Handler {
	serve := adaptor.HTTPHandler(promhttp.HandlerFor(m.Registry, promhttp.HandlerOpts{}))
	return func(c *fiber.Ctx) error {
		if m.token != "" {
			got := []byte(c.Get(fiber.HeaderAuthorization))
			if subtle.ConstantTimeCompare(got, []byte("Bearer "+m.token)) != 1 {
				return fiber.NewError(fiber.StatusUnauthorized, "metrics need the token set with --metrics-token")
			}
		} else if !c.Context().RemoteIP().IsLoopback() {
			return fiber.NewError(fiber.StatusForbidden, "metrics answer on loopback only; set --metrics-token to read them from elsewhere")
		}
		return serve(c)
	}
}
