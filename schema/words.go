package schema

import (
	"slices"
	"unicode"
	"unicode/utf8"
)

// SearchWords splits text into the words a search matches: lower case,
// accents folded (café and cafe are one word, as staff type them either
// way), split on everything that is not a letter or a digit, each word
// once, in the order first seen. Words of one character are left out:
// as a prefix they would match nearly everything.
func SearchWords(text string) []string {
	var (
		out []string
		buf = make([]byte, 0, len(text))
		b   []byte
	)
	flush := func() {
		// A visit has a few dozen words: a scan of them costs less than a
		// map.
		if len(b) >= 2 && !slices.Contains(out, string(b)) {
			out = append(out, string(b))
		}
		buf, b = buf[:0], nil
	}
	for _, r := range text {
		switch {
		case r < utf8.RuneSelf:
			switch {
			case 'a' <= r && r <= 'z', '0' <= r && r <= '9':
			case 'A' <= r && r <= 'Z':
				r += 'a' - 'A'
			default:
				flush()
				continue
			}
			buf = append(buf, byte(r))
		case unicode.IsLetter(r) || unicode.IsDigit(r):
			r = unicode.ToLower(r)
			if f, ok := foldAccent[r]; ok {
				buf = append(buf, f...)
			} else {
				buf = utf8.AppendRune(buf, r)
			}
		default:
			flush()
			continue
		}
		b = buf
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
