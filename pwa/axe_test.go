package pwa_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// axeSource finds axe-core: INFOBUS_AXE_JS (set by .ci/run), or a copy
// installed at the repository's root with
// `npm install --no-save --no-package-lock axe-core@4`.
func axeSource(tb testing.TB) string {
	tb.Helper()
	path := os.Getenv("INFOBUS_AXE_JS")
	if path == "" {
		path = filepath.Join("..", "node_modules", "axe-core", "axe.min.js")
	}
	b, err := os.ReadFile(path)
	if err != nil {
		missing(tb, fmt.Sprintf("axe-core not found (%v): run `npm install --no-save --no-package-lock axe-core@4` at the repository root, or set INFOBUS_AXE_JS", err))
	}
	return string(b)
}

// axeRules are the WCAG 2.1 A and AA rules: the design's floor.
var axeRules = []string{"wcag2a", "wcag2aa", "wcag21a", "wcag21aa"}

type axeViolation struct {
	ID     string `json:"id"`
	Impact string `json:"impact"`
	Help   string `json:"help"`
	Nodes  []struct {
		Target  []any  `json:"target"`
		Summary string `json:"failureSummary"`
	} `json:"nodes"`
}

// checkAxe runs axe-core on the page as it stands, on a tablet on its side
// and upright, and reports every violation of the WCAG 2.1 A/AA rules as a
// test error.
func (p *tab) checkAxe(what, axe string) {
	p.tb.Helper()
	for _, o := range orientations {
		p.viewport(o.w, o.h)
		p.runAxe(what+" ("+o.name+")", axe)
	}
}

func (p *tab) runAxe(what, axe string) {
	p.tb.Helper()
	// A page's script cannot be injected through its CSP; the DevTools
	// protocol's evaluation is not bound by it.
	if !eval[bool](p, `typeof window.axe === 'object'`) {
		eval[any](p, axe+"\n;true")
	}
	tags, _ := json.Marshal(axeRules)
	raw := eval[string](p, fmt.Sprintf(`axe.run(document, {runOnly: {type: 'tag', values: %s}, resultTypes: ['violations']})
		.then(r => JSON.stringify(r.violations))`, tags))
	var vs []axeViolation
	if err := json.Unmarshal([]byte(raw), &vs); err != nil {
		p.tb.Fatalf("axe on %s: %v", what, err)
	}
	for _, v := range vs {
		var where []string
		for _, n := range v.Nodes {
			where = append(where, fmt.Sprintf("%v: %s", n.Target, strings.ReplaceAll(n.Summary, "\n", " ")))
		}
		p.tb.Errorf("axe on %s: %s (%s): %s\n\t%s", what, v.ID, v.Impact, v.Help, strings.Join(where, "\n\t"))
	}
}

// TestBrowserAccessibility runs axe-core on every screen the crew see:
// pairing (also with an error), settings, the empty form, the form with
// every error shown, and the list with a visit on the bus and one waiting.
func TestBrowserAccessibility(t *testing.T) {
	axe := axeSource(t)
	b := startBus(t)
	p := newTab(t, b)

	p.open("/")
	p.screen("pair")
	p.checkAxe("the pairing screen", axe)
	p.typeInto("pair-code", "ZZZZ-ZZZZ")
	p.click("pair-submit")
	p.waitFor("the pairing error", `document.getElementById('pair-error').textContent !== ''`)
	p.checkAxe("the pairing screen with an error", axe)

	p.open("/#pair=" + b.pairingCode())
	p.screen("settings")
	p.checkAxe("the settings screen", axe)
	p.typeInto("settings-crew", "Fatima")
	p.click("settings-save")
	p.click("nav-list")
	p.screen("list")
	p.checkAxe("the empty list", axe)

	p.click("new-visit")
	p.screen("form")
	p.checkAxe("the empty form", axe)
	p.click("consent-given")
	p.click("followup-add")
	p.click("save")
	p.waitFor("the error summary", `document.querySelectorAll('#form-errors li').length > 0`)
	p.checkAxe("the form with every error shown", axe)
	p.click("cancel")
	p.screen("list")

	sent := p.logVisit(visit{name: "Bakkerij Het Hoekje", wijk: "WK051828", topics: []string{"parkeren"}})
	p.waitFor("a visit on the bus", rowState(sent)+` === 'bus'`)
	p.setOffline(true)
	waiting := p.logVisit(visit{name: "Kapsalon Knip", wijk: "WK051807", topics: []string{"subsidies"}})
	p.waitFor("a visit waiting", rowState(waiting)+` === 'tablet'`)
	p.checkAxe("the list", axe)
}
