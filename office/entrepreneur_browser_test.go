package office

// The entrepreneur's page in headless Chromium: the three states in both
// languages checked by axe-core, and the feedback form sent with the
// page's scripts switched off (it has none).

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"infobus/schema"
)

func setScripts(on bool) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: !on})
		return err
	})
}

func TestBrowserFollowUpPage(t *testing.T) {
	path := chromium(t)
	axe := axeScript(t)
	base, store := serveOffice(t)
	ctx := context.Background()
	e := mustAddBus(t, store, "bus")
	known, processing, revised := mustCode(t, e, 11), mustCode(t, e, 12), mustCode(t, e, 13)
	fu := newID(t)
	mustPush(t, store, e, 1, codedRecord(t, newID(t), 1, map[string]string{fu: string(known)}))
	if _, err := store.SetFollowUpStatus(ctx, fu, schema.StatusDone, "We hebben de informatie gemaild."); err != nil {
		t.Fatal(err)
	}

	tctx := startBrowser(t, path, 360, 740, 120*time.Second) // a small phone
	run := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		browserStep(t, tctx, 20*time.Second, what, actions...)
	}
	text := func() string {
		t.Helper()
		s, err := chromedp.Run(tctx, chromedp.Evaluate[string](`document.documentElement.lang + "\n" + document.scripts.length + "\n" + document.body.innerText`))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	checkAxe := func(what string) {
		t.Helper()
		reportAxe(t, tctx, axe, what)
	}

	for _, lang := range []string{"nl", "en"} {
		for _, tc := range []struct{ state, path, want string }{
			{"unknown", "/f/HALLO", map[string]string{"nl": "We kennen deze code niet", "en": "We do not know this code"}[lang]},
			{"processing", "/f/" + string(processing), map[string]string{"nl": "We verwerken uw gesprek", "en": "We are processing your conversation"}[lang]},
			{"known", "/f/" + string(known), map[string]string{"nl": "We hebben de informatie gemaild.", "en": "What we did"}[lang]},
		} {
			run("open the "+tc.state+" page", chromedp.Navigate(base+tc.path+"?lang="+lang), chromedp.WaitVisible(chromedp.ID("main")))
			got := text()
			if !strings.HasPrefix(got, lang+"\n0\n") || !strings.Contains(got, tc.want) {
				t.Errorf("%s page in %s: want lang %s, no script and %q; got\n%s", tc.state, lang, lang, tc.want, got)
			}
			checkAxe("the " + tc.state + " page in " + lang)
		}
		// The form with an error, then sent, with the page's scripts off.
		code := map[string]string{"nl": string(processing), "en": string(revised)}[lang]
		run("open the form", chromedp.Navigate(base+"/f/"+code+"?lang="+lang), chromedp.WaitVisible(chromedp.ID("comment")))
		run("send without a mark", setScripts(false), chromedp.SendKeys(chromedp.ID("comment"), "Fijn gesprek, dank u."),
			chromedp.Click(chromedp.CSS(`form.form button[type=submit]`)), chromedp.WaitVisible(chromedp.CSS(`[role=alert]`)), setScripts(true))
		checkAxe("the form with an error in " + lang)
		run("send with a mark", setScripts(false), chromedp.Click(chromedp.CSS(`input[name=rating][value="8"]`)),
			chromedp.Click(chromedp.CSS(`input[name=contact_preference][value=phone]`)),
			chromedp.Click(chromedp.CSS(`form.form button[type=submit]`)), chromedp.WaitVisible(chromedp.CSS(`.notice`)), setScripts(true))
		checkAxe("the page after feedback in " + lang)
		fb, err := store.FeedbackByCode(ctx, schema.Code(code))
		if err != nil || fb.Rating != 8 || fb.Comment != "Fijn gesprek, dank u." || fb.ContactPreference != schema.PreferPhone {
			t.Errorf("feedback sent in %s: %+v, %v", lang, fb, err)
		}
	}
}

// TestBrowserFollowUpPageLoop opens the entrepreneur's page in the states
// of the loop back (loop.go) in both languages, checks each with axe-core,
// and sends the answer and the satisfaction forms with scripts off.
func TestBrowserFollowUpPageLoop(t *testing.T) {
	path := chromium(t)
	axe := axeScript(t)
	base, store := serveOffice(t)
	ctx := context.Background()
	e := mustAddBus(t, store, "bus")
	codes := map[string]schema.Code{}
	ids := map[string]string{}
	recs := map[string]string{}
	for i, name := range []string{"waiting-nl", "waiting-en", "done-nl", "done-en"} {
		codes[name], ids[name] = mustCode(t, e, uint32(31+i)), newID(t)
		recs[ids[name]] = string(codes[name])
	}
	mustPush(t, store, e, 1, codedRecord(t, newID(t), 1, recs))
	for _, lang := range []string{"nl", "en"} {
		if err := store.AskQuestion(ctx, "sam@denhaag.nl", ids["waiting-"+lang], "Op welk adres is het terras?"); err != nil {
			t.Fatal(err)
		}
		for _, st := range []string{schema.StatusInProgress, schema.StatusDone} {
			if _, err := store.MoveFollowUp(ctx, "sam@denhaag.nl", ids["done-"+lang], st, "We hebben de informatie gemaild."); err != nil {
				t.Fatal(err)
			}
		}
	}

	tctx := startBrowser(t, path, 360, 740, 120*time.Second)
	run := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		browserStep(t, tctx, 20*time.Second, what, actions...)
	}
	check := func(what, lang string, want ...string) {
		t.Helper()
		got, err := chromedp.Run(tctx, chromedp.Evaluate[string](`document.documentElement.lang + "\n" + document.scripts.length + "\n" + document.body.innerText`))
		if err != nil {
			t.Fatal(err)
		}
		if !strings.HasPrefix(got, lang+"\n0\n") {
			t.Errorf("%s: want lang %s and no script; got\n%s", what, lang, got)
		}
		for _, w := range want {
			if !strings.Contains(got, w) {
				t.Errorf("%s: lacks %q; got\n%s", what, w, got)
			}
		}
		reportAxe(t, tctx, axe, what+" in "+lang)
	}
	for _, lang := range []string{"nl", "en"} {
		page := base + "/f/" + string(codes["waiting-"+lang]) + "?lang=" + lang
		run("open the question", chromedp.Navigate(page), chromedp.WaitVisible(chromedp.ID("answer")))
		check("the waiting page", lang, "Op welk adres is het terras?", tr(lang, "fu.event.waiting"))
		run("send an empty answer", setScripts(false), chromedp.Click(chromedp.CSS(`#answer ~ button, form[action$="/answer"] button`)),
			chromedp.WaitVisible(chromedp.CSS(`[role=alert]`)), setScripts(true))
		check("the answer with an error", lang, tr(lang, "text.error.required"))
		run("answer", setScripts(false), chromedp.SendKeys(chromedp.ID("answer"), "Weimarstraat 12."),
			chromedp.Click(chromedp.CSS(`form[action$="/answer"] button`)), chromedp.WaitVisible(chromedp.CSS(`.notice`)), setScripts(true))
		check("the page after the answer", lang, tr(lang, "loop.saved.answer"), tr(lang, "answer.submit.again"))
		if q, err := store.LatestQuestion(ctx, ids["waiting-"+lang]); err != nil || q.Answer != "Weimarstraat 12." {
			t.Errorf("answer sent in %s: %+v, %v", lang, q, err)
		}

		page = base + "/f/" + string(codes["done-"+lang]) + "?lang=" + lang
		run("open the done page", chromedp.Navigate(page), chromedp.WaitVisible(chromedp.ID("satisfaction")))
		check("the done page with the satisfaction form", lang, tr(lang, "satisfaction.question"))
		run("say not satisfied", setScripts(false), chromedp.Click(chromedp.CSS(`input[name=satisfied][value=no]`)),
			chromedp.Click(chromedp.CSS(`input[name=reason][value="3"]`)),
			chromedp.Click(chromedp.CSS(`form[action$="/satisfaction"] button`)), chromedp.WaitVisible(chromedp.CSS(`.notice`)), setScripts(true))
		check("the page after asking to reopen", lang, tr(lang, "satisfaction.reopen"), tr(lang, "fu.event.reopen_requested"))
		if f, err := store.FindFollowUp(ctx, ids["done-"+lang]); err != nil || f.Status != schema.StatusReopenRequested {
			t.Errorf("after not satisfied in %s: %+v, %v", lang, f, err)
		}
	}
}
