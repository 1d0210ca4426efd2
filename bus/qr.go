package bus

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"path"
	"strconv"
	"strings"
	"sync"

	"github.com/gofiber/fiber/v2"
	"github.com/skip2/go-qrcode"

	"infobus/schema"
)

// QR image sizes in pixels (the PNG's side; the SVG's width and height).
const (
	MinQRSize     = 128
	MaxQRSize     = 1024
	DefaultQRSize = 512
	// qrRenderer names how images are drawn: it is part of each ETag, so a
	// change to the drawing must change it, or clients keep the old image
	// for a year.
	qrRenderer = "go-qrcode-da1b656/medium/svg-path-v1"
	// qrCacheEntries bounds the drawn images kept in memory: a tablet's
	// pool, a sheet of cards, and room to spare; a PNG is about 2 KB.
	qrCacheEntries = 1024
)

// QRTarget is what a code's QR encodes: the entrepreneur's page at the
// office.
func QRTarget(officeURL string, c schema.Code) string {
	return strings.TrimSuffix(officeURL, "/") + "/f/" + string(c)
}

// qrCache keeps drawn images by ETag. The ETag covers the URL, size, format
// and renderer, so an entry never goes stale; when full it drops one entry
// at random, which is enough for a working set this small.
type qrCache struct {
	mu      sync.Mutex
	entries map[string][]byte
}

func (q *qrCache) get(etag string) ([]byte, bool) {
	q.mu.Lock()
	defer q.mu.Unlock()
	b, ok := q.entries[etag]
	return b, ok
}

func (q *qrCache) put(etag string, b []byte) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.entries == nil {
		q.entries = map[string][]byte{}
	}
	if len(q.entries) >= qrCacheEntries {
		for k := range q.entries {
			delete(q.entries, k)
			break
		}
	}
	q.entries[etag] = b
}

// handleQR draws the QR of a code's page, as PNG or SVG. It needs no device
// token (an <img> cannot send one), so it draws only codes this bus made:
// anything else, including a code that does not parse, is a 404.
func (s *Server) handleQR(c *fiber.Ctx) error {
	file := c.Params("file")
	ext := path.Ext(file)
	if ext != ".png" && ext != ".svg" {
		return fiber.ErrNotFound
	}
	size := DefaultQRSize
	if raw := c.Query("size"); raw != "" {
		n, err := strconv.Atoi(raw)
		if err != nil || n < MinQRSize || n > MaxQRSize {
			return fieldError("size", fmt.Sprintf("must be a whole number of pixels from %d to %d", MinQRSize, MaxQRSize),
				fmt.Sprintf("moet een heel aantal pixels van %d tot en met %d zijn", MinQRSize, MaxQRSize))
		}
		size = n
	}
	code, err := schema.ParseCode(strings.TrimSuffix(file, ext))
	if err != nil {
		return fiber.ErrNotFound
	}
	signer, err := s.store.codeSigner(c.UserContext())
	if err != nil {
		return err
	}
	if code.Prefix() != signer.prefix || !code.Verify(signer.key) {
		return fiber.ErrNotFound
	}
	target := QRTarget(signer.officeURL, code)
	etag := qrETag(target, ext, size)
	c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
	c.Set(fiber.HeaderETag, etag)
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	if ext == ".svg" {
		c.Set(fiber.HeaderContentType, "image/svg+xml")
		// Opened on its own, an SVG is a document: it may do nothing.
		c.Set(fiber.HeaderContentSecurityPolicy, "default-src 'none'")
	} else {
		c.Set(fiber.HeaderContentType, "image/png")
	}
	if etagMatches(c.Get(fiber.HeaderIfNoneMatch), etag) {
		return c.SendStatus(fiber.StatusNotModified)
	}
	body, ok := s.qrImages.get(etag)
	if !ok {
		if ext == ".svg" {
			body, err = qrSVG(target, size)
		} else {
			body, err = qrPNG(target, size)
		}
		if err != nil {
			return err
		}
		s.qrImages.put(etag, body)
	}
	return c.Send(body)
}

// qrETag is a strong validator: the same URL, format, size and renderer
// always draw the same bytes.
func qrETag(target, ext string, size int) string {
	sum := sha256.Sum256([]byte(qrRenderer + "\x00" + ext + "\x00" + strconv.Itoa(size) + "\x00" + target))
	return `"` + hex.EncodeToString(sum[:12]) + `"`
}

// etagMatches applies If-None-Match's weak comparison, as RFC 9110 asks
// for GET: a list, "*", or a W/ form of our tag all match.
func etagMatches(header, etag string) bool {
	for part := range strings.SplitSeq(header, ",") {
		part = strings.TrimPrefix(strings.TrimSpace(part), "W/")
		if part == etag || part == "*" {
			return true
		}
	}
	return false
}

func newQR(target string) (*qrcode.QRCode, error) {
	q, err := qrcode.New(target, qrcode.Medium)
	if err != nil {
		return nil, err
	}
	// The quiet zone (four modules) is part of the code: scanners need it.
	q.DisableBorder = false
	return q, nil
}

// qrPNG draws target as a size×size PNG.
func qrPNG(target string, size int) ([]byte, error) {
	q, err := newQR(target)
	if err != nil {
		return nil, err
	}
	return q.PNG(size)
}

// qrSVG draws target as an SVG of one path, one unit per module, quiet zone
// included. size 0 leaves width and height to the page's CSS.
func qrSVG(target string, size int) ([]byte, error) {
	q, err := newQR(target)
	if err != nil {
		return nil, err
	}
	bits := q.Bitmap()
	n := len(bits)
	var b strings.Builder
	b.Grow(n * n)
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d"`, n, n)
	if size > 0 {
		fmt.Fprintf(&b, ` width="%d" height="%d"`, size, size)
	}
	b.WriteString(` shape-rendering="crispEdges" role="img" aria-label="QR-code">`)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="`, n, n)
	for y, row := range bits {
		for x := 0; x < len(row); {
			if !row[x] {
				x++
				continue
			}
			start := x
			for x < len(row) && row[x] {
				x++
			}
			fmt.Fprintf(&b, "M%d %dh%dv1h-%dz", start, y, x-start, x-start)
		}
	}
	b.WriteString(`"/></svg>`)
	return []byte(b.String()), nil
}
