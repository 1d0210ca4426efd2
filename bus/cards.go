package bus

import (
	"bytes"
	"context"
	"fmt"
	"html/template"
	"io"

	"github.com/gofiber/fiber/v2"

	"infobus/schema"
)

// Printed cards.
const (
	// DefaultCardContact is the contact line on cards unless configured.
	DefaultCardContact = "Ondernemersloket Den Haag"
	DefaultCards       = 8 // one page
	MaxCards           = 400
	CardsPerPage       = 8
)

// cardsPage is an A4 sheet of cards, two across and four down, with dashed
// lines to cut along. Sizes are in millimetres so that the print matches
// the paper whatever the screen.
var cardsPage = template.Must(template.New("cards").Parse(`<!doctype html>
<html lang="nl">
<head>
<meta charset="utf-8">
<title>Kaarten met een code – Cards with a code</title>
<style>
@page { size: A4; margin: 0; }
* { box-sizing: border-box; }
html, body { margin: 0; padding: 0; background: #fff; color: #2e2e2e;
  font-family: system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
.page { width: 210mm; height: 297mm; display: grid; grid-template-columns: repeat(2, 105mm);
  grid-template-rows: repeat(4, 74.25mm); break-after: page; page-break-after: always; }
.page:last-child { break-after: auto; page-break-after: auto; }
.card { border: 0.2mm dashed #999; padding: 6mm; display: flex; gap: 5mm; align-items: center; overflow: hidden; }
.qr { flex: 0 0 40mm; width: 40mm; height: 40mm; }
.qr svg { display: block; width: 100%; height: 100%; }
.text { display: flex; flex-direction: column; gap: 2.5mm; min-width: 0; }
.code { font-family: ui-monospace, "DejaVu Sans Mono", Menlo, Consolas, monospace; font-size: 12pt;
  font-weight: 700; letter-spacing: 0.04em; white-space: nowrap; color: #000; }
.nl { font-size: 10pt; line-height: 1.3; margin: 0; }
.en { font-size: 9pt; line-height: 1.3; margin: 0; color: #555; }
.contact { font-size: 8.5pt; margin: 0; color: #238541; font-weight: 600; }
@media screen {
  body { background: #f9f8f6; }
  .page { margin: 8mm auto; background: #fff; box-shadow: 0 0 2mm rgba(0,0,0,.2); }
}
</style>
</head>
<body>
{{- range .Pages}}
<div class="page">
{{- range .}}
<section class="card" aria-label="Kaart {{.Grouped}}">
<div class="qr">{{.SVG}}</div>
<div class="text">
<p class="code">{{.Grouped}}</p>
<p class="nl">Scan de code en zie wat we met uw vraag doen.</p>
<p class="en" lang="en">Scan the code to see what we do with your question.</p>
<p class="contact">{{$.Contact}}</p>
</div>
</section>
{{- end}}
</div>
{{- end}}
</body>
</html>
`))

type card struct {
	Grouped string
	SVG     template.HTML
}

// IssueCards issues n codes for printed cards (reserved for CardsDevice)
// and writes an A4 sheet of them to w, eight a page, each with its QR, the
// code, a line in Dutch and English and the contact line. It returns the
// codes, and the errors of ReserveCodes.
func (s *Store) IssueCards(ctx context.Context, w io.Writer, n int, contact string) ([]schema.Code, error) {
	if n < 1 || n > MaxCards {
		return nil, fieldError("count", fmt.Sprintf("must be a whole number from 1 to %d", MaxCards),
			fmt.Sprintf("moet een heel getal van 1 tot en met %d zijn", MaxCards))
	}
	signer, err := s.codeSigner(ctx)
	if err != nil {
		return nil, err
	}
	codes, err := s.ReserveCodes(ctx, CardsDevice, n)
	if err != nil {
		return nil, err
	}
	if contact == "" {
		contact = DefaultCardContact
	}
	var pages [][]card
	for i, c := range codes {
		svg, err := qrSVG(QRTarget(signer.officeURL, c), 0)
		if err != nil {
			return nil, err
		}
		if i%CardsPerPage == 0 {
			pages = append(pages, nil)
		}
		// The SVG is ours, drawn from a bitmap: it holds no text from anyone.
		pages[len(pages)-1] = append(pages[len(pages)-1], card{Grouped: c.Grouped(), SVG: template.HTML(svg)})
	}
	return codes, cardsPage.Execute(w, struct {
		Pages   [][]card
		Contact string
	}{pages, contact})
}

// cardsCSP lets the sheet use its own inline style and nothing else.
const cardsCSP = "default-src 'none'; style-src 'unsafe-inline'; base-uri 'none'; form-action 'none'; frame-ancestors 'self'"

// handleCards issues codes for printed cards and answers with the sheet to
// print, so that the tablet app can offer it.
func (s *Server) handleCards(c *fiber.Ctx) error {
	n, err := countParam(c, "n", DefaultCards, MaxCards)
	if err != nil {
		return err
	}
	return s.sendCards(c, n)
}

// sendCards issues n cards and answers with their sheet.
func (s *Server) sendCards(c *fiber.Ctx, n int) error {
	var buf bytes.Buffer
	if _, err := s.store.IssueCards(c.UserContext(), &buf, n, s.cfg.CardContact); err != nil {
		return err
	}
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	c.Set(fiber.HeaderCacheControl, "no-store")
	c.Set(fiber.HeaderContentSecurityPolicy, cardsCSP)
	c.Set(fiber.HeaderXContentTypeOptions, "nosniff")
	return c.Send(buf.Bytes())
}
