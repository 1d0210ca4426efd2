package office

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"html/template"
	"io/fs"
	"net/url"
	"path"
	"strings"
	"time"
	_ "time/tzdata" // the office shows Dutch local time on any server

	"github.com/gofiber/fiber/v2"
	"github.com/gofiber/fiber/v2/utils"

	"infobus/schema"
)

// The office's web pages: server-rendered html/template pages that share
// one layout (templates/layout.html), one stylesheet and one strings
// catalogue. To add a page:
//
//  1. templates/NAME.html defines "title" and "main"; texts come from the
//     catalogue with {{.T "key"}} (or {{.N "key" count}} for "key.one" and
//     "key.other"), keys added to every locales/*.json file.
//  2. A form posts with method="post", holds {{template "form-token" .}},
//     shows {{template "error-summary" .}} and its inputs with
//     {{template "field" (.Field name type labelKey hintKey autocomplete)}}.
//     handleFormCheck refuses any POST without the token; nothing else to do.
//  3. The handler: p := s.newPage(c); fill p.Data (and p.Errors, p.Values,
//     p.Notice); return s.render(c, status, "NAME", p). Errors it returns
//     become readable pages in handlePageError.
//  4. The route in routes(), below the page middleware, with
//     s.requireStaff or s.requireAdmin, and s.limit(n, window) on public
//     doors; a menu entry in navItems.
//  5. A change to personal data or accounts writes audit(ctx, tx, …) in
//     the same transaction.

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static/office.css
var officeCSS []byte

// Cookie names.
const (
	cookieLang    = "infobus_lang"
	cookieSession = "infobus_session"
	cookieForm    = "infobus_form"
)

// Locals keys a page middleware fills.
const (
	localLang    = "lang"
	localSession = "session"
	localExpired = "session_expired"
)

// zone is the office's local time, in which every page shows times.
var zone = func() *time.Location {
	loc, err := time.LoadLocation("Europe/Amsterdam")
	if err != nil {
		return time.UTC
	}
	return loc
}()

// stylesheet is the embedded CSS under a name that changes with its
// content, so that it can be cached for a year, and gzipped once.
var stylesheet = func() (s struct {
	name      string
	plain, gz []byte
}) {
	sum := sha256.Sum256(officeCSS)
	s.name = "office." + hex.EncodeToString(sum[:5]) + ".css"
	s.plain = officeCSS
	var b bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&b, gzip.BestCompression)
	zw.Write(officeCSS)
	zw.Close()
	s.gz = b.Bytes()
	return s
}()

// StylesheetPath is where the pages link their stylesheet.
func StylesheetPath() string { return "/static/" + stylesheet.name }

// pages holds one template set per page: the layout and partials, cloned,
// plus the page's own file, so that every page defines "main" its own way.
var pages = mustParsePages(templateFiles)

func mustParsePages(fsys fs.FS) map[string]*template.Template {
	base := template.Must(template.New("").ParseFS(fsys, "templates/layout.html", "templates/partials.html"))
	files, err := fs.Glob(fsys, "templates/*.html")
	if err != nil {
		panic(err)
	}
	out := map[string]*template.Template{}
	for _, f := range files {
		name := strings.TrimSuffix(path.Base(f), ".html")
		if name == "layout" || name == "partials" {
			continue
		}
		out[name] = template.Must(template.Must(base.Clone()).ParseFS(fsys, f))
	}
	return out
}

// navItem is a link in the staff menu; Role "" is for every staff member.
// A later page adds its own line here.
type navItem struct {
	Href, Label, Role string
}

var navItems = []navItem{
	{Href: "/", Label: "nav.home"},
	{Href: "/insight", Label: "nav.insight"},
	{Href: "/reports", Label: "nav.reports"},
	{Href: "/visits", Label: "nav.visits"},
	{Href: "/plan", Label: "nav.plan"},
	{Href: "/set-aside", Label: "nav.setaside"},
	{Href: "/fleet", Label: "nav.fleet", Role: RoleAdmin},
	{Href: "/staff", Label: "nav.staff", Role: RoleAdmin},
	{Href: "/audit", Label: "nav.audit", Role: RoleAdmin},
	{Href: "/reasons", Label: "nav.reasons", Role: RoleAdmin},
	{Href: "/rules", Label: "nav.rules", Role: RoleAdmin},
	{Href: "/texts", Label: "nav.texts", Role: RoleAdmin},
	{Href: "/mail", Label: "nav.mail", Role: RoleAdmin},
}

// NavLink is a menu link as a page shows it.
type NavLink struct {
	Href, Label string
	Current     bool
}

// LangLink switches the page to another language.
type LangLink struct {
	Lang, Label, Href string
}

// Page is what every template gets: the person's language and session,
// the form token, the layout's links, and the page's own Data.
type Page struct {
	Lang      string
	Session   *Session // nil when nobody is logged in
	CSS       string
	Nav       []NavLink
	LangLinks []LangLink
	// Errors maps a form field to the message shown beside it; the
	// template "error-summary" lists them for screen readers.
	Errors map[string]string
	// Values are a form's values to show again after a refusal.
	Values map[string]string
	// Notice is a catalogue key for a short confirmation at the top.
	Notice string
	Data   any
	// Public marks a page for the public rather than staff (the
	// entrepreneur's follow-up page): its own name in the header, and no
	// staff menu or links.
	Public bool

	formToken func() string
}

// FormToken is the token every form carries ({{template "form-token" .}}).
// It is made when a page first asks for it: a page without a form (a 404
// for the browser's favicon, say) must not replace the cookie a form
// page set a moment before.
func (p *Page) FormToken() string { return p.formToken() }

// T is the text of a catalogue key in the page's language; args are
// name, value pairs for the text's {name} placeholders.
func (p *Page) T(key string, args ...any) string { return tr(p.Lang, key, args...) }

// N is T for a counted text ("key.one", "key.other"), with {n} filled in.
func (p *Page) N(key string, n int, args ...any) string { return trn(p.Lang, key, n, args...) }

// Time shows t as local time in the page's language: "14.30 uur".
func (p *Page) Time(t time.Time) string { return t.In(zone).Format(p.T("fmt.time")) }

// Date shows t as a local date: "30 november 2026".
func (p *Page) Date(t time.Time) string {
	t = t.In(zone)
	return tr(p.Lang, "fmt.date", "day", t.Day(), "month", p.T("month."+strings.ToLower(t.Month().String())), "year", t.Year())
}

// Field is what the "field" partial needs to show a labelled input with
// its error and hint.
type Field struct {
	Name, Type, Label, Hint, Value, Error, Autocomplete string
	Required                                            bool
}

// Field describes an input for the "field" partial: the label and hint
// come from the catalogue (hintKey may be ""), the value and error from
// the page.
func (p *Page) Field(name, typ, labelKey, hintKey, autocomplete string) Field {
	f := Field{Name: name, Type: typ, Label: p.T(labelKey), Value: p.Values[name], Error: p.Errors[name],
		Autocomplete: autocomplete, Required: true}
	if hintKey != "" {
		f.Hint = p.T(hintKey)
	}
	if typ == "password" {
		f.Value = "" // never sent back to the browser
	}
	return f
}

// newPage starts a page for the request: language, session, form token and
// the layout's links.
func (s *Server) newPage(c *fiber.Ctx) *Page {
	p := &Page{Lang: langOf(c), CSS: stylesheet.name, Errors: map[string]string{}, Values: map[string]string{}}
	if se, ok := c.Locals(localSession).(*Session); ok {
		p.Session = se
		for _, n := range navItems {
			if n.Role == "" || n.Role == se.Staff.Role {
				p.Nav = append(p.Nav, NavLink{Href: n.Href, Label: n.Label, Current: n.Href == c.Path()})
			}
		}
	}
	p.formToken = func() string { return s.formToken(c) }
	p.Public = strings.HasPrefix(c.Path(), publicPrefix)
	p.relink(c, c.Path())
	return p
}

// publicPrefix starts the paths of the public's pages.
const publicPrefix = "/f/"

// relink points the language links at path, for a page answered to a
// POST whose own address shows nothing on a GET.
func (p *Page) relink(c *fiber.Ctx, path string) {
	p.LangLinks = p.LangLinks[:0]
	q, _ := url.ParseQuery(string(c.Request().URI().QueryString()))
	q.Del("saved") // a confirmation is said once
	for _, l := range strs.langs() {
		if l == p.Lang {
			continue
		}
		q.Set("lang", l)
		p.LangLinks = append(p.LangLinks, LangLink{Lang: l, Label: tr(l, "lang.name"), Href: path + "?" + q.Encode()})
	}
}

// render writes page name (templates/name.html) with status. Pages show
// private data unless a handler says otherwise, so nothing is cached.
func (s *Server) render(c *fiber.Ctx, status int, name string, p *Page) error {
	t, ok := pages[name]
	if !ok {
		return errors.New("no template " + name)
	}
	var b bytes.Buffer
	if err := t.ExecuteTemplate(&b, "layout", p); err != nil {
		return err
	}
	if len(c.Response().Header.Peek(fiber.HeaderCacheControl)) == 0 {
		c.Set(fiber.HeaderCacheControl, "no-store")
	}
	c.Set(fiber.HeaderContentLanguage, p.Lang)
	c.Set(fiber.HeaderContentType, fiber.MIMETextHTMLCharsetUTF8)
	return c.Status(status).Send(b.Bytes())
}

// renderMessage shows a page with only a title and a message, both
// catalogue keys: the error pages, and confirmations without a form.
func (s *Server) renderMessage(c *fiber.Ctx, status int, titleKey, textKey string, args ...any) error {
	p := s.newPage(c)
	p.Data = messageData{Title: titleKey, Text: tr(p.Lang, textKey, args...)}
	return s.render(c, status, "message", p)
}

type messageData struct {
	Title string // catalogue key
	Text  string // the message, already in the page's language
}

// handlePageLocale picks the person's language: ?lang= (remembered in a
// cookie, so it works without JavaScript), else the cookie, else Dutch.
func (s *Server) handlePageLocale(c *fiber.Ctx) error {
	if l := c.Query("lang"); l != "" {
		if _, ok := strs[l]; ok {
			c.Cookie(&fiber.Cookie{Name: cookieLang, Value: l, Path: "/", MaxAge: 365 * 24 * 3600,
				HTTPOnly: true, SameSite: fiber.CookieSameSiteLaxMode, Secure: s.https(c)})
			c.Locals(localLang, l)
		}
	}
	return c.Next()
}

// langOf is the request's language; also usable before any middleware ran,
// as in the error handler for a body over the limit.
func langOf(c *fiber.Ctx) string {
	if l, ok := c.Locals(localLang).(string); ok {
		return l
	}
	if l := c.Cookies(cookieLang); l != "" {
		if _, ok := strs[l]; ok {
			return l
		}
	}
	return DefaultLang
}

func (s *Server) handleStylesheet(c *fiber.Ctx) error {
	if c.Params("name") != stylesheet.name {
		return fiber.ErrNotFound
	}
	c.Set(fiber.HeaderContentType, "text/css; charset=utf-8")
	c.Set(fiber.HeaderCacheControl, "public, max-age=31536000, immutable")
	c.Set(fiber.HeaderVary, fiber.HeaderAcceptEncoding)
	if strings.Contains(c.Get(fiber.HeaderAcceptEncoding), "gzip") {
		c.Set(fiber.HeaderContentEncoding, "gzip")
		return c.Send(stylesheet.gz)
	}
	return c.Send(stylesheet.plain)
}

// isPage tells the office's pages from its machine answers (sync,
// health), which keep answering JSON.
func isPage(c *fiber.Ctx) bool {
	p := c.Path()
	return !strings.HasPrefix(p, "/sync/") && p != "/healthz"
}

// handlePageError is the error handler's branch for pages: a readable page
// in the person's language, never the internal error's text, which only
// the log sees.
func (s *Server) handlePageError(c *fiber.Ctx, err error) error {
	var (
		fe *fiber.Error
		ve *schema.ValidationError
	)
	switch {
	case errors.Is(err, errFormToken):
		return s.renderMessage(c, fiber.StatusForbidden, "error.form.title", "error.form.text")
	case errors.Is(err, errForbidden):
		return s.renderMessage(c, fiber.StatusForbidden, "error.forbidden.title", "error.forbidden.text")
	case errors.Is(err, ErrNotFound), errors.As(err, &fe) && fe.Code == fiber.StatusNotFound:
		return s.renderMessage(c, fiber.StatusNotFound, "error.notfound.title", "error.notfound.text")
	case errors.As(err, &fe) && fe.Code == fiber.StatusRequestEntityTooLarge:
		return s.renderMessage(c, fe.Code, "error.toolarge.title", "error.toolarge.text")
	case errors.As(err, &fe) && fe.Code == fiber.StatusTooManyRequests:
		return s.renderMessage(c, fe.Code, "error.ratelimit.title", "error.ratelimit.text")
	case errors.As(err, &fe) && fe.Code < 500:
		return s.renderMessage(c, fe.Code, "error.request.title", "error.request.text")
	case errors.As(err, &ve):
		return s.renderMessage(c, fiber.StatusBadRequest, "error.request.title", "error.request.text")
	}
	s.log.Error("internal error", "method", c.Method(), "path", c.Path(), "err", err)
	if rerr := s.renderMessage(c, fiber.StatusInternalServerError, "error.internal.title", "error.internal.text"); rerr != nil {
		return c.Status(fiber.StatusInternalServerError).SendString("internal error")
	}
	return nil
}

// copyForm returns a form value that may outlive the handler.
func copyForm(c *fiber.Ctx, name string) string { return utils.CopyString(c.FormValue(name)) }
