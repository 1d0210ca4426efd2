package bus

import (
	_ "embed"
	"encoding/base64"
	"html/template"
	"strings"

	"github.com/gofiber/fiber/v2"
	"github.com/skip2/go-qrcode"
)

// The setup page is how a tablet comes to trust the bus: the crew scan its QR
// from the laptop screen, download the CA and follow the steps for their
// tablet. It needs no device token, because a tablet that cannot reach the
// app over HTTPS yet cannot have paired.

//go:embed setup.html
var setupHTML string

// setupPage is parsed once; it is read-only from then on.
var setupPage = template.Must(template.New("setup").Parse(setupHTML))

// setupCSP allows the page's own inline style and its inline QR image, and
// nothing else: the page runs no script.
const setupCSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// CAFileName is the name tablets save the CA certificate under.
const CAFileName = "infobus-ca.crt"

func (s *Server) setupRoutes(r fiber.Router) {
	r.Get("", s.handleSetup)
	r.Get("/ca.crt", s.handleSetupCA)
}

// setupView is what the template shows.
type setupView struct {
	Mode        string // "ca", "provided" or "plain"
	AppURL      string
	SetupURL    string
	Host        string // the host a browser's certificate warning names
	QR          template.URL
	CAName      string
	Constrained bool // the CA carries name constraints (Constrained)
	Fingerprint string
	CAFile      string
}

func (s *Server) handleSetup(c *fiber.Ctx) error {
	base := strings.TrimSuffix(s.cfg.PublicURL, "/")
	if base == "" {
		// Only on loopback without a configured URL; copied, because Fiber
		// reuses the request's memory.
		base = strings.Clone(c.BaseURL())
	}
	v := setupView{Mode: "plain", AppURL: base + "/", SetupURL: base + "/setup", Host: urlHost(base), CAFile: CAFileName}
	switch t := s.cfg.TLS; {
	case t == nil:
	case t.Provided():
		v.Mode = "provided"
	default:
		v.Mode, v.CAName, v.Fingerprint = "ca", t.CAName(), t.CAFingerprint()
		v.Constrained = Constrained(t.ca)
	}
	png, err := qrcode.Encode(v.SetupURL, qrcode.Medium, 320)
	if err != nil {
		return err
	}
	// html/template would refuse a data: URL in a plain string.
	v.QR = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))

	var page strings.Builder
	if err := setupPage.Execute(&page, v); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentSecurityPolicy, setupCSP)
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	c.Set(fiber.HeaderReferrerPolicy, "no-referrer")
	c.Set(fiber.HeaderCacheControl, "no-cache")
	c.Type("html", "utf-8")
	return c.SendString(page.String())
}

// handleSetupCA serves the local CA in DER, with the type Android and iOS
// both offer to install. With a provided certificate, or without HTTPS,
// there is nothing to install.
func (s *Server) handleSetupCA(c *fiber.Ctx) error {
	if s.cfg.TLS == nil || s.cfg.TLS.Provided() {
		return fiber.ErrNotFound
	}
	c.Set(fiber.HeaderContentType, "application/x-x509-ca-cert")
	// Inline, not attachment: iPadOS Safari offers a profile by the type, and
	// the name is only for Android's Downloads.
	c.Set(fiber.HeaderContentDisposition, `inline; filename="`+CAFileName+`"`)
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	c.Set(fiber.HeaderCacheControl, "no-cache")
	return c.Send(s.cfg.TLS.CACert())
}
