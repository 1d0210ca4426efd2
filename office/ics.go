package office

import (
	"strings"
	"time"
	"unicode/utf8"

	"infobus/schema"
)

// A small iCalendar (RFC 5545) writer for the public schedule: one
// VCALENDAR with the Europe/Amsterdam VTIMEZONE and VEVENTs whose times
// are local to it, so that a calendar shows 09:30 on both sides of the
// change to summer time. Lines end in CRLF and fold at 75 octets.

// icsTimezone is Europe/Amsterdam as every calendar knows it: CET, and
// CEST from the last Sunday of March to the last Sunday of October.
const icsTimezone = `BEGIN:VTIMEZONE
TZID:Europe/Amsterdam
X-LIC-LOCATION:Europe/Amsterdam
BEGIN:DAYLIGHT
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
TZNAME:CEST
DTSTART:19700329T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
END:DAYLIGHT
BEGIN:STANDARD
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
TZNAME:CET
DTSTART:19701025T030000
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
END:STANDARD
END:VTIMEZONE`

type icsEvent struct {
	UID                            string
	Start, End                     time.Time
	Summary, Location, Description string
	URL                            string
}

type calendar struct {
	b     strings.Builder
	stamp string
}

func newCalendar(name string, now time.Time) *calendar {
	c := &calendar{stamp: now.UTC().Format("20060102T150405Z")}
	c.line("BEGIN:VCALENDAR")
	c.line("VERSION:2.0")
	c.line("PRODID:-//Gemeente Den Haag//Infobus//NL")
	c.line("CALSCALE:GREGORIAN")
	c.line("METHOD:PUBLISH")
	c.line("X-WR-CALNAME:" + icsText(name))
	c.line("X-WR-TIMEZONE:Europe/Amsterdam")
	c.line("REFRESH-INTERVAL;VALUE=DURATION:PT12H")
	for _, l := range strings.Split(icsTimezone, "\n") {
		c.line(l)
	}
	return c
}

func (c *calendar) event(e icsEvent) {
	c.line("BEGIN:VEVENT")
	c.line("UID:" + icsText(e.UID))
	c.line("DTSTAMP:" + c.stamp)
	c.line("DTSTART;TZID=Europe/Amsterdam:" + e.Start.In(schema.Zone).Format("20060102T150405"))
	c.line("DTEND;TZID=Europe/Amsterdam:" + e.End.In(schema.Zone).Format("20060102T150405"))
	c.line("SUMMARY:" + icsText(e.Summary))
	c.line("LOCATION:" + icsText(e.Location))
	c.line("DESCRIPTION:" + icsText(e.Description))
	if e.URL != "" {
		c.line("URL:" + e.URL)
	}
	c.line("END:VEVENT")
}

// String ends the calendar and returns it.
func (c *calendar) String() string {
	c.line("END:VCALENDAR")
	return c.b.String()
}

// line writes one content line, folded at 75 octets without splitting a
// UTF-8 character.
func (c *calendar) line(s string) {
	// A continuation line's leading space counts towards its 75.
	for limit := 75; len(s) > limit; limit = 74 {
		n := limit
		for n > 0 && !utf8.RuneStart(s[n]) {
			n--
		}
		c.b.WriteString(s[:n])
		c.b.WriteString("\r\n ")
		s = s[n:]
	}
	c.b.WriteString(s)
	c.b.WriteString("\r\n")
}

// icsText escapes a TEXT value.
func icsText(s string) string {
	return strings.NewReplacer(`\`, `\\`, ";", `\;`, ",", `\,`, "\r\n", `\n`, "\n", `\n`, "\r", `\n`).Replace(s)
}
