package office

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
)

// The strings catalogue: one JSON file per language in locales/, a flat
// object of key → text. Adding a language is adding one file; the tests
// hold every file to the Dutch one's keys. A text takes named arguments as
// {name}; a counted text has two keys, "key.one" and "key.other".

//go:embed locales/*.json
var localeFiles embed.FS

// DefaultLang is the language of a person who has not chosen one: the
// office's public is Dutch first.
const DefaultLang = "nl"

type catalogue map[string]map[string]string

// langs lists the catalogue's languages, the default first.
func (c catalogue) langs() []string {
	out := make([]string, 0, len(c))
	for l := range c {
		if l != DefaultLang {
			out = append(out, l)
		}
	}
	sort.Strings(out)
	return append([]string{DefaultLang}, out...)
}

var strs = mustLoadCatalogue(localeFiles)

func mustLoadCatalogue(fsys fs.FS) catalogue {
	c, err := loadCatalogue(fsys)
	if err != nil {
		panic(err) // the files are embedded: a broken one is a build defect
	}
	return c
}

func loadCatalogue(fsys fs.FS) (catalogue, error) {
	files, err := fs.Glob(fsys, "locales/*.json")
	if err != nil {
		return nil, err
	}
	c := catalogue{}
	for _, f := range files {
		b, err := fs.ReadFile(fsys, f)
		if err != nil {
			return nil, err
		}
		m := map[string]string{}
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		c[strings.TrimSuffix(path.Base(f), ".json")] = m
	}
	if _, ok := c[DefaultLang]; !ok {
		return nil, fmt.Errorf("locales: no %s.json", DefaultLang)
	}
	return c, nil
}

// tr looks key up in lang, falling back to Dutch, and fills in args given
// as name, value pairs. A key missing everywhere shows as itself, which
// the catalogue test turns into a failure long before a person sees it.
func tr(lang, key string, args ...any) string {
	s, ok := strs[lang][key]
	if !ok {
		if s, ok = strs[DefaultLang][key]; !ok {
			return key
		}
	}
	if len(args) == 0 || !strings.Contains(s, "{") {
		return s
	}
	pairs := make([]string, 0, len(args))
	for i := 0; i+1 < len(args); i += 2 {
		pairs = append(pairs, "{"+fmt.Sprint(args[i])+"}", fmt.Sprint(args[i+1]))
	}
	return strings.NewReplacer(pairs...).Replace(s)
}

// trn is tr for a counted text: "key.one" for 1, "key.other" otherwise
// (the rule of both Dutch and English), with {n} filled in.
func trn(lang, key string, n int, args ...any) string {
	form := ".other"
	if n == 1 {
		form = ".one"
	}
	return tr(lang, key+form, append([]any{"n", strconv.Itoa(n)}, args...)...)
}
