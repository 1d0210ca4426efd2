package schema

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
)

var testCodeKey = bytes.Repeat([]byte{0x5a}, 32)

// TestDammQuasigroup proves the check table is what the check's promise
// rests on: a quasigroup (every row and column a permutation, so a single
// substitution always changes the digest) that is totally anti-symmetric
// (no swap of two different neighbours keeps the digest), checked for every
// entry and every pair, not sampled.
func TestDammQuasigroup(t *testing.T) {
	tab := CodeCheckTable()
	for i := range 32 {
		var row, col [32]bool
		for j := range 32 {
			if row[tab[i][j]] {
				t.Fatalf("row %d repeats %d", i, tab[i][j])
			}
			if col[tab[j][i]] {
				t.Fatalf("column %d repeats %d", i, tab[j][i])
			}
			row[tab[i][j]], col[tab[j][i]] = true, true
		}
	}
	for c := range 32 {
		for x := range 32 {
			for y := range 32 {
				if x != y && tab[tab[c][x]][y] == tab[tab[c][y]][x] {
					t.Fatalf("(%d∗%d)∗%d = (%d∗%d)∗%d: a swap of %d and %d after digest %d goes unseen", c, x, y, c, y, x, x, y, c)
				}
			}
		}
	}
}

func TestGFMulField(t *testing.T) {
	// Every non-zero element has an inverse: the polynomial is irreducible,
	// so a·x + y really is a field expression.
	for a := 1; a < 32; a++ {
		found := false
		for b := 1; b < 32; b++ {
			if gfMul(byte(a), byte(b)) == 1 {
				found = true
			}
		}
		if !found {
			t.Fatalf("%d has no inverse in GF(32)", a)
		}
	}
}

func randomCodes(tb testing.TB, n int) []Code {
	tb.Helper()
	rng := rand.New(rand.NewPCG(1, 2))
	out := make([]Code, n)
	for i := range out {
		prefix := CodePrefix(rng.IntN(1024))
		c, err := NewCode(prefix, testCodeKey, rng.Uint32())
		if err != nil {
			tb.Fatal(err)
		}
		out[i] = c
	}
	return out
}

func TestCodeShape(t *testing.T) {
	c, err := NewCode("7Z", testCodeKey, 0x3fffffff)
	if err != nil {
		t.Fatal(err)
	}
	if len(c) != CodeLength || c.Prefix() != "7Z" {
		t.Fatalf("got %q (prefix %q), want 13 symbols with prefix 7Z", c, c.Prefix())
	}
	g := c.Grouped()
	if len(g) != 16 || g[4] != '-' || g[9] != '-' || g[14] != '-' {
		t.Fatalf("grouped %q, want ABCD-EFGH-JKMN-P", g)
	}
	if !c.Verify(testCodeKey) {
		t.Fatal("a fresh code fails its own MAC")
	}
	for _, bad := range []string{"", "7", "7z", "U0", "7ZZ"} {
		if _, err := NewCode(bad, testCodeKey, 1); err == nil {
			t.Errorf("prefix %q: no error", bad)
		}
	}
	if _, err := NewCode("7Z", nil, 1); err == nil {
		t.Error("empty key: no error")
	}
}

// TestCodeCatchesTypos changes every symbol of many codes to every other
// symbol, and swaps every pair of different neighbours: the check refuses
// each.
func TestCodeCatchesTypos(t *testing.T) {
	for _, c := range randomCodes(t, 2000) {
		if got, err := ParseCode(string(c)); err != nil || got != c {
			t.Fatalf("ParseCode(%q) = %q, %v", c, got, err)
		}
		b := []byte(c)
		for i := range b {
			orig := b[i]
			for j := range len(CodeAlphabet) {
				if CodeAlphabet[j] == orig {
					continue
				}
				b[i] = CodeAlphabet[j]
				wantCheckError(t, string(b), "substitution at %d of %s", i, c)
			}
			b[i] = orig
		}
		for i := 0; i+1 < len(b); i++ {
			if b[i] == b[i+1] {
				continue
			}
			b[i], b[i+1] = b[i+1], b[i]
			wantCheckError(t, string(b), "swap at %d of %s", i, c)
			b[i], b[i+1] = b[i+1], b[i]
		}
	}
}

func wantCheckError(t *testing.T, s, format string, args ...any) {
	t.Helper()
	_, err := ParseCode(s)
	var ce *CodeError
	if !errors.As(err, &ce) || ce.Reason != CodeReasonCheck {
		t.Fatalf("%s: ParseCode(%q) = %v, want a check error", fmt.Sprintf(format, args...), s, err)
	}
}

// TestCodeMAC: a code whose random part changed, with a check symbol made
// to match, is well-formed but not the bus's; so is a code under another key.
func TestCodeMAC(t *testing.T) {
	otherKey := bytes.Repeat([]byte{0xa5}, 32)
	for _, c := range randomCodes(t, 500) {
		if !c.Verify(testCodeKey) {
			t.Fatalf("%s fails its MAC", c)
		}
		if c.Verify(otherKey) {
			t.Fatalf("%s passes another bus's key", c)
		}
		for i := CodePrefixLength; i < CodePrefixLength+codeRandomLength; i++ {
			b := []byte(c[:codeBodyLength])
			b[i] = CodeAlphabet[(strings.IndexByte(CodeAlphabet, b[i])+1)%32]
			forged := Code(string(b) + string(CodeAlphabet[dammCheck(b)]))
			if _, err := ParseCode(string(forged)); err != nil {
				t.Fatalf("forged %s should be well-formed: %v", forged, err)
			}
			if forged.Verify(testCodeKey) {
				t.Fatalf("%s: changing symbol %d kept the MAC valid", c, i)
			}
		}
		// The prefix is signed too: moving a code to another bus breaks it.
		b := []byte(c[:codeBodyLength])
		b[0] = CodeAlphabet[(strings.IndexByte(CodeAlphabet, b[0])+1)%32]
		moved := Code(string(b) + string(CodeAlphabet[dammCheck(b)]))
		if moved.Verify(testCodeKey) {
			t.Fatalf("%s: another prefix kept the MAC valid", c)
		}
	}
}

// TestCodeSpellings: every spelling a person may type parses to the same
// code.
func TestCodeSpellings(t *testing.T) {
	for _, c := range randomCodes(t, 300) {
		s := string(c)
		lookalike := strings.NewReplacer("0", "O", "1", "I").Replace(s)
		lookalikeL := strings.NewReplacer("0", "o", "1", "l").Replace(s)
		spellings := []string{
			s,
			c.Grouped(),
			strings.ToLower(c.Grouped()),
			strings.ToLower(s),
			" " + strings.Join(strings.Split(s, ""), " ") + " ",
			strings.ReplaceAll(c.Grouped(), "-", " "),
			strings.ReplaceAll(c.Grouped(), "-", " - "),
			"\t" + c.Grouped() + "\n",
			lookalike,
			strings.ToLower(lookalike),
			lookalikeL,
			strings.Join(strings.Split(s, ""), "-"),
		}
		for _, sp := range spellings {
			got, err := ParseCode(sp)
			if err != nil || got != c {
				t.Fatalf("ParseCode(%q) = %q, %v; want %s", sp, got, err, c)
			}
		}
		if NormalizeCode(strings.ToLower(c.Grouped())) != s {
			t.Fatalf("NormalizeCode(%q) = %q, want %s", c.Grouped(), NormalizeCode(c.Grouped()), s)
		}
	}
}

func TestParseCodeRefuses(t *testing.T) {
	c := randomCodes(t, 1)[0]
	tests := []struct {
		name, in, reason, nlHas string
	}{
		{"empty", "", CodeReasonEmpty, "Vul de code in"},
		{"only separators", " - - ", CodeReasonEmpty, "Vul de code in"},
		{"U is not Crockford", "U" + string(c[1:]), CodeReasonCharacter, "letter U"},
		{"lower u", "u" + string(c[1:]), CodeReasonCharacter, "letter U"},
		{"punctuation", string(c[:5]) + "." + string(c[5:]), CodeReasonCharacter, "„.”"},
		{"non-latin", string(c[:5]) + "ß" + string(c[5:]), CodeReasonCharacter, "„ß”"},
		{"control", string(c[:5]) + "\x00" + string(c[5:]), CodeReasonCharacter, "U+0000"},
		{"too short", string(c[:12]), CodeReasonLength, "U hebt er 12"},
		{"too long", string(c) + "0", CodeReasonLength, "U hebt er 14"},
		{"far too long", strings.Repeat("A", 200), CodeReasonLength, "veel te lang"},
		{"typo", string(c[:12]) + string(CodeAlphabet[(strings.IndexByte(CodeAlphabet, c[12])+1)%32]), CodeReasonCheck, "klopt niet"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseCode(tt.in)
			var ce *CodeError
			if !errors.As(err, &ce) {
				t.Fatalf("got %v, want a *CodeError", err)
			}
			if ce.Reason != tt.reason {
				t.Errorf("reason %q, want %q", ce.Reason, tt.reason)
			}
			if !strings.Contains(ce.NL, tt.nlHas) {
				t.Errorf("Dutch %q lacks %q", ce.NL, tt.nlHas)
			}
			if ce.EN == "" || !strings.HasSuffix(ce.NL, ".") || !strings.HasSuffix(ce.EN, ".") {
				t.Errorf("messages must be whole sentences in both languages: %q / %q", ce.NL, ce.EN)
			}
		})
	}
}

func TestCodePrefix(t *testing.T) {
	seen := map[string]bool{}
	for n := range 1024 {
		p := CodePrefix(n)
		if !ValidCodePrefix(p) || seen[p] {
			t.Fatalf("CodePrefix(%d) = %q: invalid or repeated", n, p)
		}
		seen[p] = true
	}
}

// FuzzParseCode: no input panics, and whatever parses is canonical and
// reads back the same in every printed form.
func FuzzParseCode(f *testing.F) {
	for _, c := range randomCodes(f, 5) {
		f.Add(string(c))
		f.Add(strings.ToLower(c.Grouped()))
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := ParseCode(s)
		if err != nil {
			var ce *CodeError
			if !errors.As(err, &ce) || ce.NL == "" || ce.EN == "" {
				t.Fatalf("ParseCode(%q): %v is not a *CodeError with both languages", s, err)
			}
			return
		}
		if len(c) != CodeLength {
			t.Fatalf("ParseCode(%q) = %q: not %d symbols", s, c, CodeLength)
		}
		for i := range len(c) {
			if !strings.ContainsRune(CodeAlphabet, rune(c[i])) {
				t.Fatalf("ParseCode(%q) = %q: symbol outside the alphabet", s, c)
			}
		}
		for _, again := range []string{c.Grouped(), strings.ToLower(string(c))} {
			if back, err := ParseCode(again); err != nil || back != c {
				t.Fatalf("ParseCode(%q) = %q, %v; want %s", again, back, err, c)
			}
		}
	})
}
