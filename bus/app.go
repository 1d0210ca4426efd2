package bus

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io/fs"
	"mime"
	"path"
	"strings"
	"sync"

	"github.com/gofiber/fiber/v2"

	"infobus/pwa"
)

// appFile is one file of the tablet app, ready to serve. Its gzip form is
// made on first request and kept: the app is fixed for the life of the
// binary, and compressing it all at start would triple the start-up time.
type appFile struct {
	body         []byte
	contentType  string
	etag         string
	cacheControl string
	gz           *lazyGzip // shared by a file's plain and versioned names; nil for images
}

// lazyGzip is a body's gzip form, made once.
type lazyGzip struct {
	once sync.Once
	body []byte
	data []byte // nil when gzip does not make the body smaller
}

func (z *lazyGzip) get() []byte {
	z.once.Do(func() {
		var buf bytes.Buffer
		w, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
		w.Write(z.body)
		w.Close()
		if buf.Len() < len(z.body) {
			z.data = buf.Bytes()
		}
	})
	return z.data
}

// appCSP allows the app nothing from elsewhere: it has no inline script or
// style and talks only to the bus that served it.
const appCSP = "default-src 'self'; img-src 'self' data: blob:; connect-src 'self'; " +
	"base-uri 'none'; form-action 'self'; frame-ancestors 'none'; object-src 'none'"

// loadApp reads every file of the app, under its own name and under the
// versioned prefix the page asks for.
func loadApp(app fs.FS, version string) (map[string]*appFile, error) {
	files := map[string]*appFile{}
	err := fs.WalkDir(app, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		body, err := fs.ReadFile(app, name)
		if err != nil {
			return err
		}
		f := newAppFile(name, body)
		files[name] = f
		versioned := *f
		versioned.cacheControl = "public, max-age=31536000, immutable"
		files[pwa.VersionPrefix+version+"/"+name] = &versioned
		return nil
	})
	return files, err
}

// newAppFile prepares a file for sending: revalidated on every use (no-cache
// with an ETag) and gzipped when that makes it smaller. Images are
// compressed already.
func newAppFile(name string, body []byte) *appFile {
	sum := sha256.Sum256(body)
	f := &appFile{
		body:         body,
		contentType:  contentType(name),
		etag:         `"` + hex.EncodeToString(sum[:8]) + `"`,
		cacheControl: "no-cache",
	}
	if !strings.HasPrefix(f.contentType, "image/") {
		f.gz = &lazyGzip{body: body}
	}
	return f
}

func contentType(name string) string {
	switch path.Ext(name) {
	case ".webmanifest":
		return "application/manifest+json"
	case ".js":
		return "text/javascript; charset=utf-8"
	}
	if t := mime.TypeByExtension(path.Ext(name)); t != "" {
		return t
	}
	return "application/octet-stream"
}

// handleApp serves the tablet app. index.html, sw.js and the manifest keep
// stable names and are revalidated on every load (no-cache with an ETag), so
// a new binary reaches the tablets; everything the page loads sits under a
// versioned path and is cached for good.
func (s *Server) handleApp(c *fiber.Ctx) error {
	name := strings.TrimPrefix(c.Path(), "/")
	if name == "" {
		name = "index.html"
	}
	f, ok := s.appFiles[name]
	if !ok {
		return fiber.ErrNotFound
	}
	if name == "index.html" {
		c.Set(fiber.HeaderContentSecurityPolicy, appCSP)
	}
	if name == "sw.js" {
		// The worker may control the whole origin, not just its folder.
		c.Set("Service-Worker-Allowed", "/")
	}
	return sendAppFile(c, f)
}

// sendAppFile answers with a prepared file: 304 when the client has it,
// gzip when the client takes it.
func sendAppFile(c *fiber.Ctx, f *appFile) error {
	c.Set(fiber.HeaderContentType, f.contentType)
	c.Set(fiber.HeaderCacheControl, f.cacheControl)
	c.Set(fiber.HeaderETag, f.etag)
	c.Set(fiber.HeaderVary, fiber.HeaderAcceptEncoding)
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	c.Set(fiber.HeaderReferrerPolicy, "no-referrer")
	if c.Get(fiber.HeaderIfNoneMatch) == f.etag {
		return c.SendStatus(fiber.StatusNotModified)
	}
	if f.gz != nil && strings.Contains(c.Get(fiber.HeaderAcceptEncoding), "gzip") {
		if gz := f.gz.get(); gz != nil {
			c.Set(fiber.HeaderContentEncoding, "gzip")
			return c.Send(gz)
		}
	}
	return c.Send(f.body)
}
