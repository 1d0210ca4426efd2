package bus

import (
	"fmt"
	"io"
	"net/http"
	"testing"
)

// BenchmarkQRPNG measures drawing one QR code of a code's page, from the
// URL to PNG (or SVG) bytes, as the bus does on a cache miss.
//
//	go test ./bus -run '^$' -bench 'QR' -benchmem
func BenchmarkQRPNG(b *testing.B) {
	target := testOfficeURL + "/f/7Z00000000000"
	for _, size := range []int{256, DefaultQRSize, MaxQRSize} {
		b.Run(fmt.Sprintf("png/size=%d", size), func(b *testing.B) {
			for b.Loop() {
				if _, err := qrPNG(target, size); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
	b.Run("svg", func(b *testing.B) {
		for b.Loop() {
			if _, err := qrSVG(target, DefaultQRSize); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkQRCached measures GET /qr/{code}.png over HTTP on a real
// loopback listener once the image is drawn: a 304 for a client that has
// it, and the cached bytes for one that does not. Each request reads the
// enrollment and checks the MAC, as every request must.
func BenchmarkQRCached(b *testing.B) {
	store := mustOpenStore(b, "", nil)
	defer store.Close()
	mustEnroll(b, store)
	bus := mustStartBus(b, store)
	code := bus.reserve(bus.pair(), 1)[0]
	url := bus.url + code.QRPNG
	first, err := testClient.Get(url)
	if err != nil {
		b.Fatal(err)
	}
	io.Copy(io.Discard, first.Body)
	first.Body.Close()
	etag := first.Header.Get("ETag")
	for _, tt := range []struct {
		name, inm string
		status    int
	}{{"304", etag, http.StatusNotModified}, {"bytes", "", http.StatusOK}} {
		b.Run(tt.name, func(b *testing.B) {
			req, _ := http.NewRequest(http.MethodGet, url, nil)
			if tt.inm != "" {
				req.Header.Set("If-None-Match", tt.inm)
			}
			for b.Loop() {
				resp, err := testClient.Do(req)
				if err != nil {
					b.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != tt.status {
					b.Fatalf("got %d, want %d", resp.StatusCode, tt.status)
				}
			}
		})
	}
}
