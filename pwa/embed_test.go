package pwa

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	infosync "infobus/sync"
)

func mustRead(t *testing.T, name string) string {
	t.Helper()
	b, err := fs.ReadFile(FS, name)
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	return string(b)
}

// appFiles lists the files of the app folder as embedded, without stamping.
func appFiles(t *testing.T) []string {
	t.Helper()
	var names []string
	err := fs.WalkDir(embedded, "app", func(name string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			names = append(names, strings.TrimPrefix(name, "app/"))
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return names
}

func TestVersion(t *testing.T) {
	if !regexp.MustCompile(`^[0-9a-f]{12}$`).MatchString(Version()) {
		t.Fatalf("got version %q, want 12 hex digits", Version())
	}
}

func TestFS(t *testing.T) {
	v := Version()
	if err := fstest.TestFS(FS, "index.html", "sw.js", "app.js", "manifest.webmanifest", "icons/icon-192.png"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		ok   bool
	}{
		{"index.html", true},
		{"v/" + v + "/app.js", true},
		{"v/" + v + "/icons/icon-512.png", true},
		{"v/000000000000/app.js", false},
		{"v/" + v, false},
		{"v", false},
		{"../go.mod", false},
		{"missing.js", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, err := FS.Open(tc.name)
			if err == nil {
				f.Close()
			}
			if (err == nil) != tc.ok {
				t.Fatalf("open %s: got err %v, want ok %v", tc.name, err, tc.ok)
			}
		})
	}
	for _, name := range stamped {
		s := mustRead(t, name)
		if strings.Contains(s, versionMark) || !strings.Contains(s, v) {
			t.Errorf("%s: version not stamped", name)
		}
		info, err := fs.Stat(FS, name)
		if err != nil || info.Size() != int64(len(s)) {
			t.Errorf("%s: stat size %v (%v), want %d", name, info, err, len(s))
		}
	}
	if !IsVersioned("/v/"+v+"/app.css") || IsVersioned("/sw.js") || IsVersioned("/v/000000000000/app.css") {
		t.Error("IsVersioned does not tell versioned asset paths from others")
	}
}

// TestPrecache checks that the service worker caches every app file, so
// that the app opens offline, and that the page asks for assets only under
// the versioned folder.
func TestPrecache(t *testing.T) {
	sw := mustRead(t, "sw.js")
	list := func(name string) []string {
		m := regexp.MustCompile(`(?s)const ` + name + ` = \[(.*?)\];`).FindStringSubmatch(sw)
		if m == nil {
			t.Fatalf("sw.js: no %s list", name)
		}
		var out []string
		for _, q := range regexp.MustCompile(`'([^']+)'`).FindAllStringSubmatch(m[1], -1) {
			out = append(out, q[1])
		}
		return out
	}
	cached := append(list("ASSETS"), list("SHELL")...)
	for _, name := range appFiles(t) {
		switch name {
		case "index.html":
			name = "./"
		case "sw.js":
			continue
		}
		if !slices.Contains(cached, name) {
			t.Errorf("sw.js does not precache %s", name)
		}
	}
	for _, name := range list("ASSETS") {
		if _, err := fs.Stat(FS, "v/"+Version()+"/"+name); err != nil {
			t.Errorf("sw.js precaches %s, which is missing: %v", name, err)
		}
	}
	index := mustRead(t, "index.html")
	for _, m := range regexp.MustCompile(`(?:href|src)="([^"#]+)"`).FindAllStringSubmatch(index, -1) {
		if _, err := fs.Stat(FS, m[1]); err != nil {
			t.Errorf("index.html refers to %s: %v", m[1], err)
		}
		if strings.HasSuffix(m[1], ".js") || strings.HasSuffix(m[1], ".css") {
			if !IsVersioned(m[1]) {
				t.Errorf("index.html asks for %s outside v/%s/", m[1], Version())
			}
		}
	}
}

// TestModules checks that modules import only each other: no third-party
// code, and no import that would fail in the browser.
func TestModules(t *testing.T) {
	importRe := regexp.MustCompile(`(?m)^import .*? from '([^']+)';`)
	for _, name := range appFiles(t) {
		if path.Ext(name) != ".js" || name == "sw.js" {
			continue
		}
		for _, m := range importRe.FindAllStringSubmatch(mustRead(t, name), -1) {
			if !strings.HasPrefix(m[1], "./") {
				t.Errorf("%s imports %s: only ./ modules of the app", name, m[1])
			} else if _, err := fs.Stat(FS, strings.TrimPrefix(m[1], "./")); err != nil {
				t.Errorf("%s imports %s: %v", name, m[1], err)
			}
		}
	}
}

// TestCatalogue checks that every string key the page and the modules use
// is in the one catalogue, in both languages.
func TestCatalogue(t *testing.T) {
	src := mustRead(t, "i18n.js")
	keys := map[string]bool{}
	str := `'((?:[^'\\]|\\.)*)'`
	for _, m := range regexp.MustCompile(`(?m)^\s+'?([\w.]+)'?: \[`+str+`, `+str+`\],$`).FindAllStringSubmatch(src, -1) {
		if m[2] == "" || m[3] == "" {
			t.Errorf("i18n.js: %s lacks a language", m[1])
		}
		keys[m[1]] = true
	}
	// A text with a count: [[one, other], [one, other]].
	for _, m := range regexp.MustCompile(`(?m)^\s+'?([\w.]+)'?: \[\[`+str+`, `+str+`\], \[`+str+`, `+str+`\]\],$`).FindAllStringSubmatch(src, -1) {
		for _, text := range m[2:] {
			if text == "" {
				t.Errorf("i18n.js: %s lacks a form", m[1])
			}
		}
		keys[m[1]] = true
	}
	if len(keys) < 100 {
		t.Fatalf("read %d keys from i18n.js; the pattern no longer matches the catalogue", len(keys))
	}
	used := map[string]string{}
	for _, m := range regexp.MustCompile(`data-i18n(?:-aria|-title)?="([^"]+)"`).FindAllStringSubmatch(mustRead(t, "index.html"), -1) {
		used[m[1]] = "index.html"
	}
	keyRe := regexp.MustCompile(`(?:\bt\(|\bboth\(|key: |noticeKey: |toast\(|i18n = |termSelect\([^,]+, [^,]+, )'([\w.]+)'`)
	for _, name := range appFiles(t) {
		if path.Ext(name) == ".js" {
			for _, m := range keyRe.FindAllStringSubmatch(mustRead(t, name), -1) {
				used[m[1]] = name
			}
		}
	}
	// Keys made at run time from wire values.
	for _, s := range []string{"tablet", "bus", "office", "handled", "set_aside"} {
		used["state."+s] = "list.js"
	}
	for _, s := range []string{"callback", "email", "visit", "referral", "information"} {
		used["kind."+s] = "form.js"
	}
	for _, s := range []string{"open", "in_progress", "done", "cancelled"} {
		used["fstatus."+s] = "form.js"
	}
	// Every reason the office sets a record aside for has its own sentence.
	for _, s := range []string{infosync.ReasonValidation, infosync.ReasonConflict, infosync.ReasonForeignID, infosync.ReasonMalformed} {
		used["aside."+s] = "i18n.js"
	}
	for _, s := range []string{"foreign_followup", "other"} {
		used["aside."+s] = "i18n.js"
	}
	for _, s := range []string{"phone", "email", "none"} {
		used["feedback.pref."+s] = "feedback.js"
	}
	for _, s := range []string{"id", "rev"} {
		used["path."+s] = "form.js"
	}
	for k, file := range used {
		if !keys[k] {
			t.Errorf("%s uses %q, which i18n.js lacks", file, k)
		}
	}
}

// TestPlainWording checks every text the crew read, in both languages, for
// what plain language (taalniveau B1) rules out: commands and code quotes
// ("infobus …", backticks) and "(en)" or "(s)" instead of a real plural.
func TestPlainWording(t *testing.T) {
	src := mustRead(t, "i18n.js")
	start, end := strings.Index(src, "const catalogue = {"), strings.Index(src, "\n};\n")
	if start < 0 || end < start {
		t.Fatal("i18n.js: the catalogue is not where this test looks")
	}
	texts := regexp.MustCompile(`'((?:[^'\\]|\\.)*)'`).FindAllStringSubmatch(src[start:end], -1)
	if len(texts) < 300 {
		t.Fatalf("read %d texts from i18n.js; the pattern no longer matches the catalogue", len(texts))
	}
	html := regexp.MustCompile(`<[^>]*>`).ReplaceAllString(mustRead(t, "index.html"), "\n")
	lines := strings.Split(html, "\n")
	for _, m := range texts {
		lines = append(lines, m[1])
	}
	for _, text := range lines {
		for _, bad := range []string{"`", "infobus ", "(en)", "(s)"} {
			if strings.Contains(strings.ToLower(text), bad) {
				t.Errorf("%q holds %q", text, bad)
			}
		}
	}
}

func TestManifest(t *testing.T) {
	var m struct {
		Name, ShortName, StartURL, Scope, Display, ThemeColor, BackgroundColor string
		Icons                                                                  []struct{ Src, Sizes, Purpose string }
	}
	raw := mustRead(t, "manifest.webmanifest")
	// encoding/json matches keys case-insensitively but not snake_case.
	raw = strings.NewReplacer(`"short_name"`, `"shortname"`, `"start_url"`, `"starturl"`, `"theme_color"`, `"themecolor"`, `"background_color"`, `"backgroundcolor"`).Replace(raw)
	if err := json.Unmarshal([]byte(raw), &m); err != nil {
		t.Fatal(err)
	}
	if m.Name != "Infobus" || m.ShortName == "" || m.StartURL != "/" || m.Scope != "/" || m.Display != "standalone" ||
		m.ThemeColor != "#238541" || m.BackgroundColor != "#F9F8F6" {
		t.Errorf("manifest: got %+v", m)
	}
	var sizes []string
	for _, icon := range m.Icons {
		if _, err := fs.Stat(FS, icon.Src); err != nil {
			t.Errorf("manifest icon %s: %v", icon.Src, err)
		}
		sizes = append(sizes, icon.Sizes+" "+icon.Purpose)
	}
	for _, want := range []string{"192x192 any", "512x512 any", "512x512 maskable"} {
		if !slices.Contains(sizes, want) {
			t.Errorf("manifest icons %v lack %s", sizes, want)
		}
	}
}

// TestShellSize keeps the first load small: everything the service worker
// precaches, gzipped one file at a time as a server would send it.
func TestShellSize(t *testing.T) {
	const budget = 100 << 10
	total := 0
	for _, name := range appFiles(t) {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write([]byte(mustRead(t, name)))
		zw.Close()
		total += buf.Len()
	}
	if total > budget {
		t.Errorf("app shell is %d bytes gzipped, budget %d", total, budget)
	}
	t.Logf("app shell: %d bytes gzipped", total)
}
