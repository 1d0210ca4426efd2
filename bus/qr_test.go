package bus

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/makiuchi-d/gozxing"
	gozxingqr "github.com/makiuchi-d/gozxing/qrcode"

	"infobus/schema"
	infosync "infobus/sync"
)

// get fetches url with the given header pairs and returns the response
// and its whole body.
func get(tb testing.TB, url string, header ...string) (*http.Response, []byte) {
	tb.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		tb.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := testClient.Do(req)
	if err != nil {
		tb.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	buf.ReadFrom(resp.Body)
	return resp, buf.Bytes()
}

func decodeQR(tb testing.TB, img image.Image) string {
	tb.Helper()
	bmp, err := gozxing.NewBinaryBitmapFromImage(img)
	if err != nil {
		tb.Fatal(err)
	}
	res, err := gozxingqr.NewQRCodeReader().Decode(bmp, nil)
	if err != nil {
		tb.Fatalf("decode QR: %v", err)
	}
	return res.GetText()
}

// TestQRPNG: the image decodes, with a real QR reader, to exactly the
// entrepreneur's page of the code, at every size allowed.
func TestQRPNG(t *testing.T) {
	store := mustOpenStore(t, "", nil)
	mustEnroll(t, store)
	b := mustStartBus(t, store)
	code := b.reserve(b.pair(), 1)[0]
	want := testOfficeURL + "/f/" + code.Code
	if code.URL != want {
		t.Fatalf("pool says URL %q, want %q", code.URL, want)
	}
	for _, size := range []int{MinQRSize, DefaultQRSize, MaxQRSize} {
		path := code.QRPNG
		if size != DefaultQRSize {
			path += "?size=" + strconv.Itoa(size)
		}
		resp, body := get(t, b.url+path)
		if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/png" {
			t.Fatalf("GET %s: got %d %s", path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		img, err := png.Decode(bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if img.Bounds().Dx() != size || img.Bounds().Dy() != size {
			t.Errorf("size %d: image is %v", size, img.Bounds())
		}
		if got := decodeQR(t, img); got != want {
			t.Errorf("size %d: QR says %q, want %q", size, got, want)
		}
		// The quiet zone: the outer rows and columns are white.
		for i := 0; i < size; i++ {
			for _, p := range [][2]int{{i, 0}, {0, i}, {i, size - 1}, {size - 1, i}} {
				if r, _, _, _ := img.At(p[0], p[1]).RGBA(); r != 0xffff {
					t.Fatalf("size %d: pixel %v on the edge is dark: no quiet zone", size, p)
				}
			}
		}
	}
	// A lower-case, grouped spelling draws the same code.
	resp, _ := get(t, b.url+"/qr/"+strings.ToLower(code.Grouped)+".png")
	if resp.StatusCode != http.StatusOK {
		t.Errorf("grouped spelling: got %d", resp.StatusCode)
	}
}

// rasterizeSVG draws our one-path SVG (M x y h w v1 h-w z runs) into an
// image, four pixels a module, so that the QR reader can check it.
func rasterizeSVG(tb testing.TB, body []byte) image.Image {
	tb.Helper()
	var doc struct {
		XMLName xml.Name `xml:"svg"`
		ViewBox string   `xml:"viewBox,attr"`
		Paths   []struct {
			D string `xml:"d,attr"`
		} `xml:"path"`
	}
	if err := xml.Unmarshal(body, &doc); err != nil {
		tb.Fatalf("SVG is not valid XML: %v", err)
	}
	if len(doc.Paths) != 1 {
		tb.Fatalf("SVG has %d paths, want 1", len(doc.Paths))
	}
	var n int
	if _, err := fmt.Sscanf(doc.ViewBox, "0 0 %d", &n); err != nil {
		tb.Fatalf("viewBox %q: %v", doc.ViewBox, err)
	}
	const scale = 4
	img := image.NewGray(image.Rect(0, 0, n*scale, n*scale))
	for i := range img.Pix {
		img.Pix[i] = 0xff
	}
	run := regexp.MustCompile(`^M(\d+) (\d+)h(\d+)v1h-(\d+)z`)
	d := doc.Paths[0].D
	for d != "" {
		m := run.FindStringSubmatch(d)
		if m == nil || m[3] != m[4] {
			tb.Fatalf("path segment %.30q is not a run", d)
		}
		x, _ := strconv.Atoi(m[1])
		y, _ := strconv.Atoi(m[2])
		w, _ := strconv.Atoi(m[3])
		for px := x * scale; px < (x+w)*scale; px++ {
			for py := y * scale; py < (y+1)*scale; py++ {
				img.SetGray(px, py, color.Gray{})
			}
		}
		d = d[len(m[0]):]
	}
	return img
}

func TestQRSVG(t *testing.T) {
	store := mustOpenStore(t, "", nil)
	mustEnroll(t, store)
	b := mustStartBus(t, store)
	code := b.reserve(b.pair(), 1)[0]
	resp, body := get(t, b.url+code.QRSVG+"?size=300")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "image/svg+xml" {
		t.Fatalf("got %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if !bytes.Contains(body, []byte(`width="300" height="300"`)) {
		t.Errorf("SVG lacks the asked size: %.200s", body)
	}
	if got, want := decodeQR(t, rasterizeSVG(t, body)), testOfficeURL+"/f/"+code.Code; got != want {
		t.Errorf("SVG QR says %q, want %q", got, want)
	}
}

// TestQRRefuses: only the bus's own codes are drawn; a bad size is named.
func TestQRRefuses(t *testing.T) {
	store := mustOpenStore(t, "", nil)
	mustEnroll(t, store)
	b := mustStartBus(t, store)
	code := b.reserve(b.pair(), 1)[0]
	foreign, _ := schema.NewCode("7Z", bytes.Repeat([]byte{8}, infosync.CodeKeySize), 99)
	otherPrefix, _ := schema.NewCode("AB", bytes.Repeat([]byte{7}, infosync.CodeKeySize), 99)
	tests := []struct {
		name, path string
		status     int
		field      string
	}{
		{"MAC fails", "/qr/" + string(foreign) + ".png", 404, ""},
		{"another bus's prefix", "/qr/" + string(otherPrefix) + ".svg", 404, ""},
		{"typo", "/qr/" + typo(code.Code) + ".png", 404, ""},
		{"U is not a symbol", "/qr/" + code.Code[:12] + "U.png", 404, ""},
		{"not a code", "/qr/hallo.png", 404, ""},
		{"other format", "/qr/" + code.Code + ".gif", 404, ""},
		{"no format", "/qr/" + code.Code, 404, ""},
		{"too small", code.QRPNG + "?size=127", 400, "size"},
		{"too large", code.QRSVG + "?size=1025", 400, "size"},
		{"not a number", code.QRPNG + "?size=groot", 400, "size"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := get(t, b.url+tt.path)
			if resp.StatusCode != tt.status {
				t.Fatalf("got %d %s, want %d", resp.StatusCode, body, tt.status)
			}
			if tt.field != "" {
				if e := decodeError(t, body); e.Fields[tt.field] == "" || e.FieldsNL[tt.field] == "" {
					t.Fatalf("got %s, want %q named in both languages", body, tt.field)
				}
			}
		})
	}
}

// TestQRCaching: a strong ETag and a year of immutable caching; a client
// that has the image gets a 304 without a body.
func TestQRCaching(t *testing.T) {
	store := mustOpenStore(t, "", nil)
	mustEnroll(t, store)
	b := mustStartBus(t, store)
	codes := b.reserve(b.pair(), 2)
	etags := map[string]bool{}
	for _, path := range []string{codes[0].QRPNG, codes[0].QRSVG, codes[0].QRPNG + "?size=256", codes[1].QRPNG} {
		resp, body := get(t, b.url+path)
		etag := resp.Header.Get("ETag")
		if resp.StatusCode != 200 || !strings.HasPrefix(etag, `"`) || strings.HasPrefix(etag, "W/") {
			t.Fatalf("%s: got %d, ETag %q; want a strong ETag", path, resp.StatusCode, etag)
		}
		if cc := resp.Header.Get("Cache-Control"); cc != "public, max-age=31536000, immutable" {
			t.Errorf("%s: Cache-Control %q", path, cc)
		}
		if etags[etag] {
			t.Errorf("%s: ETag %s is shared with another image", path, etag)
		}
		etags[etag] = true
		// The same request again: the same bytes, from the cache.
		again, body2 := get(t, b.url+path)
		if again.Header.Get("ETag") != etag || !bytes.Equal(body, body2) {
			t.Errorf("%s: a second answer differs", path)
		}
		for _, inm := range []string{etag, "W/" + etag, `"other", ` + etag, "*"} {
			resp, body := get(t, b.url+path, "If-None-Match", inm)
			if resp.StatusCode != http.StatusNotModified || len(body) != 0 {
				t.Errorf("%s with If-None-Match %s: got %d and %d bytes, want 304 and none", path, inm, resp.StatusCode, len(body))
			}
		}
		if resp, _ := get(t, b.url+path, "If-None-Match", `"other"`); resp.StatusCode != 200 {
			t.Errorf("%s with another ETag: got %d, want 200", path, resp.StatusCode)
		}
	}
}
