package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// fault is what the proxy does to one request.
type fault int

const (
	passThrough      fault = iota
	dropBeforeBody         // close the connection before the office sees the request
	truncateRequest        // send the office half the body, then hang up
	answer502              // answer 502 without asking the office
	answer503              // answer 503 without asking the office
	stallBefore            // hold the request until the client gives up; the office never sees it
	answer500After         // the office commits, the bus hears 500
	dropAfterCommit        // the office commits, the connection drops before the answer
	stallAfterCommit       // the office commits, the answer never comes
	truncateResponse       // the office commits, half its answer arrives
	numFaults
)

var faultNames = [...]string{"pass", "drop-before-body", "truncate-request", "502", "503", "stall-before",
	"500-after-commit", "drop-after-commit", "stall-after-commit", "truncate-response"}

func (f fault) String() string { return faultNames[f] }

// faultProxy is a real HTTP reverse proxy on loopback that breaks requests
// on the way to the office and answers on the way back, the ways a van's
// 4G link and the networks between break them.
type faultProxy struct {
	target *url.URL
	srv    *http.Server
	URL    string

	mu             sync.Mutex
	rng            *rand.Rand
	rate           float64           // chance of a fault per request
	next           []fault           // faults to use first, in order
	counts         map[fault]int     // faults done
	onPush         func(body []byte) // sees every push body that reaches the office
	bytesUp        atomic.Int64      // request body bytes forwarded to the office
	bytesPerSecond int               // throttle the request body towards the office; 0 for none

	transport *http.Transport
}

func newFaultProxy(tb testing.TB, target string, seed uint64) *faultProxy {
	tb.Helper()
	u, err := url.Parse(target)
	if err != nil {
		tb.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	p := &faultProxy{target: u, rng: rand.New(rand.NewPCG(seed, 1)), counts: map[fault]int{},
		transport: &http.Transport{DisableCompression: true, MaxIdleConnsPerHost: 4}}
	p.srv = &http.Server{Handler: p, ReadHeaderTimeout: 10 * time.Second}
	p.URL = "http://" + ln.Addr().String()
	go p.srv.Serve(ln)
	tb.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		p.srv.Shutdown(ctx)
		p.srv.Close()
		p.transport.CloseIdleConnections()
	})
	return p
}

func (p *faultProxy) setRate(r float64) {
	p.mu.Lock()
	p.rate = r
	p.mu.Unlock()
}

// queue makes the next requests meet these faults, whatever the rate.
func (p *faultProxy) queue(f ...fault) {
	p.mu.Lock()
	p.next = append(p.next, f...)
	p.mu.Unlock()
}

func (p *faultProxy) pick() fault {
	p.mu.Lock()
	defer p.mu.Unlock()
	f := passThrough
	switch {
	case len(p.next) > 0:
		f, p.next = p.next[0], p.next[1:]
	case p.rng.Float64() < p.rate:
		f = fault(1 + p.rng.IntN(int(numFaults)-1))
	}
	p.counts[f]++
	return f
}

func (p *faultProxy) faultCounts() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	out := map[string]int{}
	for f, n := range p.counts {
		out[f.String()] = n
	}
	return out
}

func (p *faultProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f := p.pick()
	if f == dropBeforeBody {
		hangUp(w)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		hangUp(w)
		return
	}
	switch f {
	case answer502, answer503:
		w.WriteHeader(map[fault]int{answer502: http.StatusBadGateway, answer503: http.StatusServiceUnavailable}[f])
		io.WriteString(w, "proxy says no")
		return
	case stallBefore:
		waitForClient(r)
		return
	case truncateRequest:
		p.sendHalf(r, body)
		hangUp(w)
		return
	}
	if r.URL.Path == "/sync/v1/push" && p.onPush != nil {
		p.onPush(body)
	}
	resp, respBody, err := p.forward(r, body)
	if err != nil {
		w.WriteHeader(http.StatusBadGateway)
		return
	}
	switch f {
	case answer500After:
		w.WriteHeader(http.StatusInternalServerError)
		return
	case dropAfterCommit:
		hangUp(w)
		return
	case stallAfterCommit:
		waitForClient(r)
		return
	case truncateResponse:
		conn, buf, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		fmt.Fprintf(buf, "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nInfobus-Sync-Version: 1\r\nContent-Length: %d\r\n\r\n",
			resp.StatusCode, http.StatusText(resp.StatusCode), len(respBody))
		buf.Write(respBody[:len(respBody)/2])
		buf.Flush()
		conn.Close()
		return
	}
	for k, vs := range resp.Header {
		for _, v := range vs {
			w.Header().Add(k, v)
		}
	}
	w.WriteHeader(resp.StatusCode)
	w.Write(respBody)
}

func (p *faultProxy) forward(r *http.Request, body []byte) (*http.Response, []byte, error) {
	var rd io.Reader = bytes.NewReader(body)
	if p.bytesPerSecond > 0 {
		rd = &throttledReader{r: rd, rate: p.bytesPerSecond, start: time.Now()}
	}
	out, err := http.NewRequestWithContext(context.WithoutCancel(r.Context()), r.Method, p.target.String()+r.URL.RequestURI(), rd)
	if err != nil {
		return nil, nil, err
	}
	out.ContentLength = int64(len(body))
	out.Header = r.Header.Clone()
	resp, err := p.transport.RoundTrip(out)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	p.bytesUp.Add(int64(len(body)))
	respBody, err := io.ReadAll(resp.Body)
	return resp, respBody, err
}

// sendHalf sends the office the request with half its body and closes the
// connection: the office must not act on it.
func (p *faultProxy) sendHalf(r *http.Request, body []byte) {
	conn, err := net.DialTimeout("tcp", p.target.Host, time.Second)
	if err != nil {
		return
	}
	defer conn.Close()
	bw := bufio.NewWriter(conn)
	fmt.Fprintf(bw, "%s %s HTTP/1.1\r\nHost: %s\r\n", r.Method, r.URL.RequestURI(), p.target.Host)
	for k, vs := range r.Header {
		if strings.EqualFold(k, "Content-Length") {
			continue
		}
		for _, v := range vs {
			fmt.Fprintf(bw, "%s: %s\r\n", k, v)
		}
	}
	fmt.Fprintf(bw, "Content-Length: %d\r\n\r\n", len(body))
	bw.Write(body[:len(body)/2])
	bw.Flush()
	time.Sleep(5 * time.Millisecond)
}

func hangUp(w http.ResponseWriter) {
	conn, _, err := w.(http.Hijacker).Hijack()
	if err == nil {
		conn.Close()
	}
}

// waitForClient holds a request until the client gives up, or a bound.
func waitForClient(r *http.Request) {
	select {
	case <-r.Context().Done():
	case <-time.After(10 * time.Second):
	}
}

// throttledReader lets rate bytes a second through, like a weak link.
type throttledReader struct {
	r     io.Reader
	rate  int
	start time.Time
	n     int
}

func (t *throttledReader) Read(p []byte) (int, error) {
	if len(p) > 4096 {
		p = p[:4096]
	}
	n, err := t.r.Read(p)
	t.n += n
	due := t.start.Add(time.Duration(float64(t.n) / float64(t.rate) * float64(time.Second)))
	time.Sleep(time.Until(due))
	return n, err
}
