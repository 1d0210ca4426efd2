package bus

import (
	"compress/gzip"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"infobus/pwa"
)

func TestServesTheApp(t *testing.T) {
	b := mustStartBus(t, mustOpenStore(t, "", nil))
	get := func(path string, header ...string) *http.Response {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, b.url+path, nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		// A bare transport: http.Client would ask for gzip and undo it silently.
		resp, err := (&http.Transport{DisableCompression: true}).RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { resp.Body.Close() })
		return resp
	}

	page := get("/", "Accept-Encoding", "gzip")
	if page.StatusCode != http.StatusOK || page.Header.Get("Content-Encoding") != "gzip" {
		t.Fatalf("GET /: got %d encoding %q, want 200 gzip", page.StatusCode, page.Header.Get("Content-Encoding"))
	}
	if cc := page.Header.Get("Cache-Control"); cc != "no-cache" {
		t.Errorf("index.html Cache-Control: got %q, want no-cache so a new version reaches the tablets", cc)
	}
	if !strings.Contains(page.Header.Get("Content-Security-Policy"), "default-src 'self'") {
		t.Errorf("index.html CSP: got %q", page.Header.Get("Content-Security-Policy"))
	}
	zr, err := gzip.NewReader(page.Body)
	if err != nil {
		t.Fatal(err)
	}
	html, _ := io.ReadAll(zr)
	assets := regexp.MustCompile(`v/[0-9a-f]+/[a-z]+\.(?:js|css)`).FindAllString(string(html), -1)
	if len(assets) == 0 {
		t.Fatalf("index.html names no versioned assets:\n%s", html)
	}
	for _, a := range assets {
		a = "/" + a
		resp := get(a)
		if resp.StatusCode != http.StatusOK || !pwa.IsVersioned(a) {
			t.Errorf("%s: got %d, want 200 and a versioned path", a, resp.StatusCode)
		}
		if cc := resp.Header.Get("Cache-Control"); !strings.Contains(cc, "immutable") {
			t.Errorf("%s Cache-Control: got %q, want immutable", a, cc)
		}
	}
	if resp := get("/v/000000000000/app.js"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("another version's asset: got %d, want 404", resp.StatusCode)
	}

	sw := get("/sw.js")
	if sw.StatusCode != http.StatusOK || sw.Header.Get("Cache-Control") != "no-cache" || !strings.HasPrefix(sw.Header.Get("Content-Type"), "text/javascript") {
		t.Errorf("sw.js: got %d %q %q, want 200 no-cache JavaScript", sw.StatusCode, sw.Header.Get("Cache-Control"), sw.Header.Get("Content-Type"))
	}
	if again := get("/sw.js", "If-None-Match", sw.Header.Get("ETag")); again.StatusCode != http.StatusNotModified {
		t.Errorf("sw.js revalidated: got %d, want 304", again.StatusCode)
	}
	if m := get("/manifest.webmanifest"); m.Header.Get("Content-Type") != "application/manifest+json" {
		t.Errorf("manifest Content-Type: got %q", m.Header.Get("Content-Type"))
	}
	if nf := get("/api/nope"); nf.StatusCode != http.StatusNotFound || !strings.HasPrefix(nf.Header.Get("Content-Type"), "application/json") {
		t.Errorf("unknown API route: got %d %q, want a JSON 404", nf.StatusCode, nf.Header.Get("Content-Type"))
	}
}
