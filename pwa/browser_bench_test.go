package pwa_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"
)

// meter is a reverse proxy in front of the bus that counts the bytes it
// sends back, headers included, by path: every request of the browser
// context goes through it, the page's and the service worker's alike.
type meter struct {
	srv *httptest.Server
	mu  sync.Mutex
	by  map[string]int64
}

func newMeter(tb testing.TB, target string) *meter {
	u, err := url.Parse(target)
	if err != nil {
		tb.Fatal(err)
	}
	m := &meter{by: map[string]int64{}}
	rp := httputil.NewSingleHostReverseProxy(u)
	m.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rp.ServeHTTP(&countingWriter{ResponseWriter: w, m: m, path: r.URL.Path}, r)
	}))
	tb.Cleanup(m.srv.Close)
	return m
}

// take returns the bytes counted since the last take, split into the app
// shell (every file of the app, sw.js included) and the API.
func (m *meter) take() (shell, api int64, paths []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for p, n := range m.by {
		if strings.HasPrefix(p, "/api/") {
			api += n
		} else {
			shell += n
		}
		paths = append(paths, fmt.Sprintf("%s=%d", p, n))
	}
	sort.Strings(paths)
	m.by = map[string]int64{}
	return shell, api, paths
}

func (m *meter) add(path string, n int) {
	m.mu.Lock()
	m.by[path] += int64(n)
	m.mu.Unlock()
}

// countingWriter counts bytes before they go out, so that a response the
// browser has is always counted.
type countingWriter struct {
	http.ResponseWriter
	m    *meter
	path string
}

func (w *countingWriter) WriteHeader(code int) {
	var h bytes.Buffer
	w.Header().Write(&h)
	w.m.add(w.path, len(fmt.Sprintf("HTTP/1.1 %d %s\r\n", code, http.StatusText(code)))+h.Len()+2)
	w.ResponseWriter.WriteHeader(code)
}

func (w *countingWriter) Write(p []byte) (int, error) {
	w.m.add(w.path, len(p))
	return w.ResponseWriter.Write(p)
}

func (w *countingWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// settled is true once the page has what it loads after start-up: the
// reference lists and the modules of a paired tablet (validate.js last).
const settled = `['/api/reference', '/statusbar.js', '/validate.js'].every(
	(s) => performance.getEntriesByType('resource').some((e) => new URL(e.name).pathname.endsWith(s)))`

// BenchmarkAppBytes measures what a tablet downloads to open the app: the
// first time (empty cache, no service worker; until the worker has cached
// the app), and again (a reload, served by the worker). Bytes are as sent,
// gzip where the bus compresses, headers included.
func BenchmarkAppBytes(b *testing.B) {
	bs := startBus(b)
	m := newMeter(b, bs.url)
	var firstShell, firstAPI, repeatShell, repeatAPI int64
	var lastFirst, lastRepeat []string
	for b.Loop() {
		p := newTab(b, &testBus{tb: b, url: m.srv.URL})
		m.take()
		p.open("/")
		p.waitFor("the load to settle", settled)
		// An active worker has cached the whole shell.
		p.waitFor("the service worker to be active", `navigator.serviceWorker.ready.then(() => true)`)
		s, a, paths := m.take()
		firstShell, firstAPI, lastFirst = firstShell+s, firstAPI+a, paths

		p.reload()
		p.waitFor("the load to settle", settled)
		s, a, paths = m.take()
		repeatShell, repeatAPI, lastRepeat = repeatShell+s, repeatAPI+a, paths
		chromedp.Cancel(p.ctx)
	}
	n := float64(b.N)
	b.ReportMetric(float64(firstShell)/n, "first-shell-B")
	b.ReportMetric(float64(firstAPI)/n, "first-api-B")
	b.ReportMetric(float64(repeatShell)/n, "repeat-shell-B")
	b.ReportMetric(float64(repeatAPI)/n, "repeat-api-B")
	b.ReportMetric(0, "ns/op")
	b.Logf("first load: %s", strings.Join(lastFirst, " "))
	b.Logf("repeat load: %s", strings.Join(lastRepeat, " "))
}

// Slow 4G as Chrome DevTools defines it (formerly "Fast 3G"; the values
// Lighthouse uses too): 150 ms RTT × 3.75 = 562.5 ms latency per request,
// 1.6 Mbit/s × 0.9 down, 750 kbit/s × 0.9 up.
const (
	slow4GLatencyMs = 150 * 3.75
	slow4GDown      = 1.6 * 1000 * 1000 / 8 * 0.9 // bytes/s
	slow4GUp        = 750 * 1000 / 8 * 0.9        // bytes/s
)

// readyMark records when the app marks itself ready, in ms since the
// navigation started (performance.now's origin), before any page script.
const readyMark = `new MutationObserver((_, o) => {
	if (document.documentElement && document.documentElement.dataset.ready === 'true') {
		window.__infobusReadyAt = performance.now();
		o.disconnect();
	}
}).observe(document, {subtree: true, attributes: true, attributeFilter: ['data-ready']});`

// BenchmarkAppSlow4G measures the time from navigation start until the app
// is ready for the crew (html[data-ready="true"]), cold: a new browser
// context with an empty cache and no service worker, over Slow 4G.
func BenchmarkAppSlow4G(b *testing.B) {
	bs := startBus(b)
	var total float64
	var times []float64
	for b.Loop() {
		p := newTab(b, bs)
		p.do("throttle to Slow 4G", chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
			if _, err := cdp.Call(ctx, t, network.Enable, network.EnableParams{}); err != nil {
				return err
			}
			if _, err := cdp.Call(ctx, t, network.EmulateNetworkConditionsByRule, network.EmulateNetworkConditionsByRuleParams{
				MatchedNetworkConditions: []*network.Conditions{{
					Latency: slow4GLatencyMs, DownloadThroughput: slow4GDown, UploadThroughput: slow4GUp,
				}},
			}); err != nil {
				return err
			}
			_, err := cdp.Call(ctx, t, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{Source: readyMark})
			return err
		}))
		p.open("/")
		ms := eval[float64](p, `window.__infobusReadyAt`)
		total += ms
		times = append(times, ms)
		chromedp.Cancel(p.ctx)
	}
	sort.Float64s(times)
	b.ReportMetric(total/float64(b.N), "ms-to-ready")
	b.ReportMetric(times[len(times)/2], "p50-ms-to-ready")
	b.ReportMetric(times[len(times)-1], "max-ms-to-ready")
	b.ReportMetric(0, "ns/op")
}
