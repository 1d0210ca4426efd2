package bus

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/makiuchi-d/gozxing"
	gozxingqr "github.com/makiuchi-d/gozxing/qrcode"

	"infobus/schema"
	infosync "infobus/sync"
)

const testOfficeURL = "https://kantoor.example.nl"

// mustEnroll enrolls store with an office as bus prefix 7Z and returns the
// enrollment.
func mustEnroll(tb testing.TB, store *Store) infosync.Enrollment {
	tb.Helper()
	e := infosync.Enrollment{OfficeURL: testOfficeURL, BusID: "0190f5a0-0000-7000-8000-000000000001",
		BusToken: strings.Repeat("t", 43), CodeKey: bytes.Repeat([]byte{7}, infosync.CodeKeySize), CodePrefix: "7Z"}
	if err := store.Enroll(context.Background(), e, false); err != nil {
		tb.Fatal(err)
	}
	return e
}

type codesAnswer struct {
	Codes []codeView `json:"codes"`
}

func (b *testBus) reserve(token string, n int) []codeView {
	b.tb.Helper()
	status, body := b.do(http.MethodGet, "/api/codes?n="+strconv.Itoa(n), token, nil)
	if status != http.StatusOK {
		b.tb.Fatalf("GET /api/codes: got %d %s, want 200", status, body)
	}
	var a codesAnswer
	if err := json.Unmarshal(body, &a); err != nil {
		b.tb.Fatal(err)
	}
	if len(a.Codes) != n {
		b.tb.Fatalf("got %d codes, want %d", len(a.Codes), n)
	}
	return a.Codes
}

func TestCodesNeedEnrollment(t *testing.T) {
	store := mustOpenStore(t, "", nil)
	b := mustStartBus(t, store)
	token := b.pair()
	for _, path := range []string{"/api/codes?n=3", "/api/cards?n=1"} {
		status, body := b.do(http.MethodGet, path, token, nil)
		e := decodeError(t, body)
		if status != http.StatusConflict || e.Error != "not_enrolled" || e.MessageNL == "" || e.Message == "" {
			t.Errorf("GET %s: got %d %s, want 409 not_enrolled in both languages", path, status, body)
		}
	}
	// An enrollment from before codes existed has no prefix: still no codes.
	e := mustEnroll(t, store)
	e.CodePrefix = ""
	if err := store.Enroll(context.Background(), e, false); err != nil {
		t.Fatal(err)
	}
	status, body := b.do(http.MethodGet, "/api/codes?n=3", token, nil)
	if status != http.StatusConflict || decodeError(t, body).Error != "not_enrolled" {
		t.Errorf("without a prefix: got %d %s, want 409 not_enrolled", status, body)
	}
	if status, _ := b.do(http.MethodGet, "/api/codes?n=3", "", nil); status != http.StatusUnauthorized {
		t.Errorf("without a token: got %d, want 401", status)
	}
}

func TestCodesCount(t *testing.T) {
	store := mustOpenStore(t, "", nil)
	mustEnroll(t, store)
	b := mustStartBus(t, store)
	token := b.pair()
	tests := []struct {
		name, path, field string
		status, n         int
	}{
		{"default", "/api/codes", "", 200, DefaultCodesPerRequest},
		{"one", "/api/codes?n=1", "", 200, 1},
		{"most", "/api/codes?n=50", "", 200, 50},
		{"zero", "/api/codes?n=0", "n", 400, 0},
		{"too many", "/api/codes?n=51", "n", 400, 0},
		{"negative", "/api/codes?n=-3", "n", 400, 0},
		{"not a number", "/api/codes?n=veel", "n", 400, 0},
		{"cards too many", "/api/cards?n=401", "n", 400, 0},
		{"cards zero", "/api/cards?n=0", "n", 400, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			status, body := b.do(http.MethodGet, tt.path, token, nil)
			if status != tt.status {
				t.Fatalf("got %d %s, want %d", status, body, tt.status)
			}
			if tt.field != "" {
				e := decodeError(t, body)
				if e.Fields[tt.field] == "" || e.FieldsNL[tt.field] == "" {
					t.Fatalf("got %s, want the field %q named in both languages", body, tt.field)
				}
				return
			}
			var a codesAnswer
			if err := json.Unmarshal(body, &a); err != nil || len(a.Codes) != tt.n {
				t.Fatalf("got %s, want %d codes", body, tt.n)
			}
		})
	}
}

// TestCodesTwoDevices: tablets reserving at the same time never get the
// same code, every code is the bus's, and each is recorded for its device.
func TestCodesTwoDevices(t *testing.T) {
	store := mustOpenStore(t, "", nil)
	e := mustEnroll(t, store)
	b := mustStartBus(t, store)
	tokens := []string{b.pair(), b.pair()}
	var (
		mu   sync.Mutex
		seen = map[string]int{}
		wg   sync.WaitGroup
	)
	for d, token := range tokens {
		for range 8 {
			wg.Go(func() {
				codes := b.reserve(token, 50)
				mu.Lock()
				defer mu.Unlock()
				for _, c := range codes {
					if prev, ok := seen[c.Code]; ok {
						t.Errorf("code %s given to device %d and again to device %d", c.Code, prev, d)
					}
					seen[c.Code] = d
				}
			})
		}
	}
	wg.Wait()
	if len(seen) != 2*8*50 {
		t.Fatalf("got %d distinct codes, want %d", len(seen), 2*8*50)
	}
	// Each code is recorded for the device that asked for it.
	deviceOf := map[int]string{}
	for code, d := range seen {
		c, err := schema.ParseCode(code)
		if err != nil || c.Prefix() != e.CodePrefix || !c.Verify(e.CodeKey) {
			t.Fatalf("code %s: parse %v, prefix %s; want the bus's own", code, err, c.Prefix())
		}
		var device string
		if err := store.db.Read.QueryRow(`SELECT device_id FROM codes WHERE code = ?`, code).Scan(&device); err != nil {
			t.Fatal(err)
		}
		if prev, ok := deviceOf[d]; ok && prev != device {
			t.Fatalf("tablet %d's codes are recorded for %s and %s", d, prev, device)
		}
		deviceOf[d] = device
	}
	if len(deviceOf) != 2 || deviceOf[0] == deviceOf[1] {
		t.Fatalf("codes recorded for devices %v, want one per tablet", deviceOf)
	}
}

func visitWithCodes(tb testing.TB, n int, codes ...string) map[string]any {
	v := newVisit(tb, n)
	fu := v["followups"].([]map[string]any)[0]
	var fus []map[string]any
	for i, c := range codes {
		f := map[string]any{}
		for k, val := range fu {
			f[k] = val
		}
		f["id"] = newVisit(tb, 0)["id"] // a fresh UUIDv7
		f["code"] = c
		if i == 0 {
			f["id"] = fu["id"]
		}
		fus = append(fus, f)
	}
	v["followups"] = fus
	return v
}

// TestCodeBoundOnce: a code goes with one follow-up, ever. Another
// follow-up carrying it, or a code this bus never issued, is refused with
// nothing written.
func TestCodeBoundOnce(t *testing.T) {
	store := mustOpenStore(t, "", nil)
	mustEnroll(t, store)
	b := mustStartBus(t, store)
	token := b.pair()
	codes := b.reserve(token, 4)
	otherKey := bytes.Repeat([]byte{8}, infosync.CodeKeySize)
	foreign, _ := schema.NewCode("7Z", otherKey, 12345)
	unissued, _ := schema.NewCode("7Z", bytes.Repeat([]byte{7}, infosync.CodeKeySize), 12345)

	// Typed the way a person might: lower case, grouped.
	a := visitWithCodes(t, 1, strings.ToLower(codes[0].Grouped))
	if status, body := b.do(http.MethodPut, "/api/visits/"+a["id"].(string), token, a); status != http.StatusCreated {
		t.Fatalf("first visit: got %d %s", status, body)
	}
	view, err := store.FindVisitByID(context.Background(), a["id"].(string))
	if err != nil {
		t.Fatal(err)
	}
	if got := view.FollowUps[0].Code; got != codes[0].Code {
		t.Fatalf("stored code %q, want canonical %q", got, codes[0].Code)
	}
	// The same follow-up keeps its code across revisions.
	a["rev"] = 2
	a["notes"] = "Tweede versie."
	if status, body := b.do(http.MethodPut, "/api/visits/"+a["id"].(string), token, a); status != http.StatusOK {
		t.Fatalf("second rev: got %d %s", status, body)
	}

	tests := []struct {
		name   string
		codes  []string
		status int
		error  string
		field  string
		issued bool
	}{
		{"bound to another follow-up", []string{codes[0].Code}, 409, "code_taken", "followups[0].code", true},
		{"second follow-up taken", []string{codes[1].Code, codes[0].Grouped}, 409, "code_taken", "followups[1].code", true},
		{"another bus's key", []string{string(foreign)}, 409, "code_taken", "followups[0].code", false},
		{"well made, never issued", []string{string(unissued)}, 409, "code_taken", "followups[0].code", false},
		{"typo", []string{typo(codes[2].Code)}, 400, "validation", "followups[0].code", false},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			v := visitWithCodes(t, 10+i, tt.codes...)
			status, body := b.do(http.MethodPut, "/api/visits/"+v["id"].(string), token, v)
			e := decodeError(t, body)
			if status != tt.status || e.Error != tt.error || e.FieldsNL[tt.field] == "" || e.MessageNL == "" {
				t.Fatalf("got %d %s, want %d %s naming %s in Dutch", status, body, tt.status, tt.error, tt.field)
			}
			if _, err := store.FindVisitByID(context.Background(), v["id"].(string)); err != ErrNotFound {
				t.Fatalf("refused visit was stored: %v", err)
			}
		})
	}
	// Nothing half-written: the refused visit's first code (codes[1]) is
	// still free for another follow-up.
	c := visitWithCodes(t, 30, codes[1].Code)
	if status, body := b.do(http.MethodPut, "/api/visits/"+c["id"].(string), token, c); status != http.StatusCreated {
		t.Fatalf("a code from a refused visit stays free: got %d %s", status, body)
	}
	// The binding outlives the visit: deleting it does not free the code.
	a["rev"], a["deleted"] = 3, true
	if status, body := b.do(http.MethodPut, "/api/visits/"+a["id"].(string), token, a); status != http.StatusOK {
		t.Fatalf("delete: got %d %s", status, body)
	}
	d := visitWithCodes(t, 31, codes[0].Code)
	if status, body := b.do(http.MethodPut, "/api/visits/"+d["id"].(string), token, d); status != http.StatusConflict {
		t.Fatalf("code of a deleted visit: got %d %s, want 409", status, body)
	}
}

// typo changes the check symbol of a code to another one.
func typo(code string) string {
	i := strings.IndexByte(schema.CodeAlphabet, code[12])
	return code[:12] + string(schema.CodeAlphabet[(i+1)%32])
}

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

// TestCards: a sheet of cards, eight a page, each with its QR, its code,
// both languages and the contact line; the codes are the bus's and
// reserved for cards.
func TestCards(t *testing.T) {
	store := mustOpenStore(t, "", nil)
	e := mustEnroll(t, store)
	var buf bytes.Buffer
	codes, err := store.IssueCards(context.Background(), &buf, 9, "")
	if err != nil {
		t.Fatal(err)
	}
	html := buf.String()
	if len(codes) != 9 {
		t.Fatalf("got %d codes, want 9", len(codes))
	}
	if n := strings.Count(html, `<div class="page">`); n != 2 {
		t.Errorf("9 cards on %d pages, want 2", n)
	}
	if n := strings.Count(html, `<section class="card"`); n != 9 {
		t.Errorf("%d cards, want 9", n)
	}
	if n := strings.Count(html, "<svg "); n != 9 {
		t.Errorf("%d QR images, want 9", n)
	}
	for _, want := range []string{"@page { size: A4", DefaultCardContact, "Scan de code", `lang="en"`} {
		if !strings.Contains(html, want) {
			t.Errorf("sheet lacks %q", want)
		}
	}
	for _, c := range codes {
		if !strings.Contains(html, c.Grouped()) || !c.Verify(e.CodeKey) {
			t.Errorf("code %s missing from the sheet or not the bus's", c)
		}
		var device string
		if err := store.db.Read.QueryRow(`SELECT device_id FROM codes WHERE code = ?`, string(c)).Scan(&device); err != nil || device != CardsDevice {
			t.Errorf("code %s reserved for %q (%v), want %q", c, device, err, CardsDevice)
		}
	}
	// A card's QR reads as its code's page.
	svg := html[strings.Index(html, "<svg "):]
	svg = svg[:strings.Index(svg, "</svg>")+len("</svg>")]
	if got, want := decodeQR(t, rasterizeSVG(t, []byte(svg))), QRTarget(testOfficeURL, codes[0]); got != want {
		t.Errorf("card QR says %q, want %q", got, want)
	}
	// The contact line is text, escaped like any.
	buf.Reset()
	if _, err := store.IssueCards(context.Background(), &buf, 1, "Loket <b>070</b>"); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), "Loket &lt;b&gt;070&lt;/b&gt;") {
		t.Errorf("contact line not escaped")
	}
	for _, n := range []int{0, MaxCards + 1} {
		if _, err := store.IssueCards(context.Background(), &buf, n, ""); err == nil {
			t.Errorf("%d cards: no error", n)
		}
	}
}

func TestCardsHTTP(t *testing.T) {
	store := mustOpenStore(t, "", nil)
	mustEnroll(t, store)
	b := mustStartBus(t, store)
	token := b.pair()
	req, _ := http.NewRequest(http.MethodGet, b.url+"/api/cards?n=3", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := testClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	buf.ReadFrom(resp.Body)
	if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("got %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if n := strings.Count(buf.String(), `<section class="card"`); n != 3 {
		t.Errorf("%d cards, want 3", n)
	}
	if status, _ := b.do(http.MethodGet, "/api/cards?n=3", "", nil); status != http.StatusUnauthorized {
		t.Errorf("without a token: got %d, want 401", status)
	}
}
