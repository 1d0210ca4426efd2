package pwa_test

import (
	"encoding/json"
	"errors"
	"maps"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"infobus/schema"
	"infobus/schema/schematest"
)

// appValidate imports the app's checker as the page has it.
const appValidate = `import('/v/' + new URL(document.querySelector('script[type=module]').src).pathname.split('/')[2] + '/validate.js')`

// TestRulesParity runs schema's table of visits through the tablet's checker,
// with the rule catalogue as the bus serves it in /api/reference, and wants
// the same fields refused for the same reasons, in both languages, as
// schema.Validate refuses them.
func TestRulesParity(t *testing.T) {
	b := startBus(t)
	p := newTab(t, b)
	p.open("/")

	type problem struct{ Key, EN, NL string }
	visits := make([]schema.Visit, len(schematest.VisitCases))
	want := make([]map[string]problem, len(schematest.VisitCases))
	for i, tc := range schematest.VisitCases {
		v := schematest.ValidVisit()
		tc.Change(&v)
		visits[i] = v // as the form would hand it over: not yet normalized
		n := v
		n.Normalize()
		want[i] = map[string]problem{}
		var ve *schema.ValidationError
		if err := n.Validate(); errors.As(err, &ve) {
			for f, pr := range ve.Fields {
				want[i][f] = problem{schematest.MessageKey(pr), pr.EN, pr.NL}
			}
		} else if err != nil {
			t.Fatalf("%s: %v", tc.Name, err)
		}
	}
	in, err := json.Marshal(visits)
	if err != nil {
		t.Fatal(err)
	}
	got := eval[[]map[string]problem](p, `(async () => {
		const m = await `+appValidate+`;
		const res = await fetch('/api/reference');
		const ref = await res.json();
		if (!m.usableReference(ref)) throw new Error('the app cannot read the reference answer');
		return `+string(in)+`.map((v) => {
			const errs = m.validate(m.normalize(v), ref);
			return Object.fromEntries(Object.entries(errs).map(([f, p]) => [f, { Key: p.key, EN: p.en, NL: p.nl }]));
		});
	})()`)
	if len(got) != len(want) {
		t.Fatalf("the app checked %d visits, want %d", len(got), len(want))
	}
	for i, tc := range schematest.VisitCases {
		g, w := got[i], want[i]
		if gk, wk := slices.Sorted(maps.Keys(g)), slices.Sorted(maps.Keys(w)); !slices.Equal(gk, wk) {
			t.Errorf("%s: the app refuses %v, the bus %v", tc.Name, gk, wk)
			continue
		}
		for f := range w {
			if g[f] != w[f] {
				t.Errorf("%s: %s: the app says %+v, the bus %+v", tc.Name, f, g[f], w[f])
			}
		}
	}
}

// TestBrowserOldReference starts the app on lists cached by a version from
// before the rule catalogue: offline it says it waits for the lists and
// saves nothing; back in range it fetches them, and a visit given consent
// records the version of the consent text the form showed.
func TestBrowserOldReference(t *testing.T) {
	b := startBus(t)
	p := newTab(t, b)
	p.pair()
	p.reload()
	p.waitFor("the service worker to control the page", `navigator.serviceWorker.controller !== null`)
	eval[chromedp.Void](p, appDB+`.then(async (db) => {
		const ref = await db.get('reference');
		delete ref.rules;
		await db.set('reference', ref);
	})`)

	b.stop()
	p.setOffline(true)
	p.reload()
	p.screen("list")
	p.click("new-visit")
	p.screen("form")
	p.waitFor("the form to say it waits for the lists", `document.getElementById('form-notice').textContent.includes('nog niet geladen')`)
	p.typeInto("business-name", "Bakkerij Oud")
	p.click("save")
	if n := eval[int](p, appDB+`.then(db => db.allVisits()).then(v => v.length)`); n != 0 {
		t.Fatalf("saved %d visits without rules, want none", n)
	}
	eval[chromedp.Void](p, `location.hash = '#/'`)
	p.screen("list")

	b.restart()
	p.setOffline(false)
	p.reload()
	p.waitFor("lists with the catalogue", appDB+`.then(db => db.get('reference')).then(r => r.rules && r.rules.format === 1)`)
	p.click("new-visit")
	p.fill(visit{name: "Bakkerij Nieuw", wijk: "WK051828", topics: []string{"parkeren"}})
	if got, want := eval[string](p, `document.querySelector('label[for=consent-given]').textContent`), schema.ConsentText.NL; got != want {
		t.Errorf("consent label %q, want the catalogue's text %q", got, want)
	}
	p.click("consent-given")
	p.typeInto("contact-name", "A. Bakker")
	p.click("save")
	p.screen("list")
	p.waitFor("the visit on the bus", `document.querySelectorAll('[data-state="bus"][data-visit-id]').length === 1`)
	got := b.visits()
	if len(got) != 1 || got[0].Consent.TextVersion != schema.ConsentTextVersion {
		t.Fatalf("bus holds %+v, want one visit with consent text version %q", got, schema.ConsentTextVersion)
	}
}

// TestCodeCheckParity runs spellings of follow-up codes through the
// tablet's check, with the rules as the bus serves them in /api/reference,
// and wants the same verdict as schema.ParseCode: the same canonical code,
// or the same refusal in the same words.
func TestCodeCheckParity(t *testing.T) {
	b := startBus(t)
	p := newTab(t, b)
	p.open("/")

	key := []byte("a key for the parity test")
	var inputs []string
	for i := range 40 {
		c, err := schema.NewCode(schema.CodePrefix(i*25), key, uint32(i)*2654435761)
		if err != nil {
			t.Fatal(err)
		}
		s := string(c)
		inputs = append(inputs, s, c.Grouped(), strings.ToLower(c.Grouped()), " "+s[:5]+" "+s[5:]+"\t",
			strings.NewReplacer("0", "o", "1", "l").Replace(s), strings.ReplaceAll(s, "1", "I"),
			s[:12], s+"0", s[:6]+s[7:8]+s[6:7]+s[8:], // too short, too long, a swap
			s[:3]+string(schema.CodeAlphabet[(strings.IndexByte(schema.CodeAlphabet, s[3])+i+1)%32])+s[4:]) // a typo
	}
	inputs = append(inputs, "", "   ", "-", "ABCD-EFGH-JKMN-U", "abcu", "AB*D", "ı"+strings.Repeat("0", 12), "ÀBCD",
		strings.Repeat("A", 52), strings.Repeat("A", 53), strings.Repeat("-", 60), "0000 0000 0000 0", "\u00a0"+strings.Repeat("0", 13))

	type verdict struct{ Code, NL, EN string }
	want := make([]verdict, len(inputs))
	for i, s := range inputs {
		c, err := schema.ParseCode(s)
		var ce *schema.CodeError
		switch {
		case err == nil:
			want[i] = verdict{Code: string(c)}
		case errors.As(err, &ce):
			want[i] = verdict{NL: ce.NL, EN: ce.EN}
		default:
			t.Fatal(err)
		}
	}
	in, err := json.Marshal(inputs)
	if err != nil {
		t.Fatal(err)
	}
	got := eval[[]verdict](p, `(async () => {
		const m = await `+appModule("codes.js")+`;
		const ref = await (await fetch('/api/reference')).json();
		return `+string(in)+`.map((s) => {
			const res = m.check(s, ref.codes);
			if (res.code) return { Code: res.code, NL: '', EN: '' };
			const pr = m.problem(res, ref.codes);
			return { Code: '', NL: pr.nl, EN: pr.en };
		});
	})()`)
	for i, s := range inputs {
		if got[i] != want[i] {
			t.Errorf("%q: tablet %+v, bus %+v", s, got[i], want[i])
		}
	}
}
