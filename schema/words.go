package schema

import (
	"strings"
	"unicode"
)

// SearchWords splits text into the words a search matches: lower case,
// accents folded (café and cafe are one word, as staff type them either
// way), split on everything that is not a letter or a digit, each word
// once, in the order first seen. Words of one character are left out:
// as a prefix they would match nearly everything.
func SearchWords(text string) []string {
	var (
		out  []string
		seen map[string]bool
		b    strings.Builder
	)
	flush := func() {
		if b.Len() >= 2 {
			w := b.String()
			if !seen[w] {
				if seen == nil {
					seen = map[string]bool{}
				}
				seen[w] = true
				out = append(out, w)
			}
		}
		b.Reset()
	}
	for _, r := range text {
		if !unicode.IsLetter(r) && !unicode.IsDigit(r) {
			flush()
			continue
		}
		r = unicode.ToLower(r)
		if f, ok := foldAccent[r]; ok {
			b.WriteString(f)
			continue
		}
		b.WriteRune(r)
	}
	flush()
	return out
}

// foldAccent maps the accented letters of Dutch, Turkish, Arabic names in
// Latin script and the neighbouring languages to their plain letters. A
// table rather than Unicode decomposition: golang.org/x/text is not a
// dependency, and these are the letters the crew types.
var foldAccent = func() map[rune]string {
	m := map[rune]string{}
	for plain, accented := range map[string]string{
		"a": "àáâãäåāăą", "c": "çćčĉ", "d": "ďđ", "e": "èéêëēėęě", "g": "ğĝ", "i": "ìíîïīįı",
		"l": "ł", "n": "ñńň", "o": "òóôõöøō", "r": "ř", "s": "śšşș", "t": "ťţț",
		"u": "ùúûüūůű", "y": "ýÿ", "z": "źżž",
	} {
		for _, r := range accented {
			m[r] = plain
		}
	}
	m['ß'], m['æ'], m['œ'], m['ĳ'] = "ss", "ae", "oe", "ij"
	return m
}()
