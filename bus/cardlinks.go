package bus

import (
	"crypto/rand"
	"encoding/hex"
	"sync"
	"time"

	"github.com/gofiber/fiber/v2"
)

// A sheet of cards is a page to print, so the tablet opens it in a tab of
// its own; a tab cannot send the device token, and a Blob URL of the sheet
// would inherit the app's CSP, which forbids the sheet's inline style. So
// the app asks for a link instead: a random ticket, good for one opening
// within cardLinkTTL, that names how many cards to issue.
const (
	cardLinkTTL = 2 * time.Minute
	// maxCardLinks bounds the tickets waiting at once: a device asking in
	// a loop cannot fill the memory.
	maxCardLinks = 64
)

type cardLink struct {
	n       int
	expires time.Time
}

// cardLinks holds the tickets not yet used.
type cardLinks struct {
	mu    sync.Mutex
	links map[string]cardLink
}

func (l *cardLinks) add(n int, now time.Time) (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	ticket := hex.EncodeToString(b[:])
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.links == nil {
		l.links = map[string]cardLink{}
	}
	for k, v := range l.links {
		if !now.Before(v.expires) {
			delete(l.links, k)
		}
	}
	if len(l.links) >= maxCardLinks {
		return "", fiber.ErrTooManyRequests
	}
	l.links[ticket] = cardLink{n: n, expires: now.Add(cardLinkTTL)}
	return ticket, nil
}

// take uses a ticket up: it reports the number of cards, or false for a
// ticket that is unknown, used or expired.
func (l *cardLinks) take(ticket string, now time.Time) (int, bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	link, ok := l.links[ticket]
	delete(l.links, ticket)
	if !ok || !now.Before(link.expires) {
		return 0, false
	}
	return link.n, true
}

// handleCardLink answers a device with a one-time link to a sheet of n
// cards. The codes are issued when the link is opened.
func (s *Server) handleCardLink(c *fiber.Ctx) error {
	n, err := countParam(c, "n", DefaultCards, MaxCards)
	if err != nil {
		return err
	}
	// Refuse now, in the app, what the sheet could not do: a bus without
	// an office cannot sign codes.
	if _, err := s.store.codeSigner(c.UserContext()); err != nil {
		return err
	}
	ticket, err := s.cardLinks.add(n, s.store.now())
	if err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(fiber.Map{"url": "/cards/" + ticket, "expires_in": int(cardLinkTTL.Seconds())})
}

// cardLinkGone is the page for a link used already or expired.
const cardLinkGone = `<!doctype html>
<html lang="nl"><head><meta charset="utf-8"><title>Link verlopen – Link expired</title></head>
<body><p>Deze link is al gebruikt of verlopen. Vraag in de app opnieuw om kaarten.</p>
<p lang="en">This link has been used or has expired. Ask for cards again in the app.</p></body></html>
`

// handleCardSheet issues the cards of a link's ticket and answers with
// the sheet, once.
func (s *Server) handleCardSheet(c *fiber.Ctx) error {
	n, ok := s.cardLinks.take(c.Params("ticket"), s.store.now())
	if !ok {
		c.Set(fiber.HeaderCacheControl, "no-store")
		c.Set(fiber.HeaderContentSecurityPolicy, cardsCSP)
		c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
		return c.Status(fiber.StatusNotFound).SendString(cardLinkGone)
	}
	return s.sendCards(c, n)
}
