package schema

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"
)

// A follow-up code is what an entrepreneur gets on a card or as a QR: 13
// Crockford base32 symbols, shown in groups of four (ABCD-EFGH-JKMN-P):
//
//	PP RRRRRR MMMM C
//
// PP is the bus's prefix (10 bits, assigned by the office), RRRRRR 30
// random bits (unique within the bus), MMMM the first 20 bits of an
// HMAC-SHA256 over prefix and random part with the bus's code key, and C a
// Damm check symbol over the 12 before it. The office holds every bus's key,
// so it can tell a real code from a guessed one before the bus has synced.
const (
	// CodeAlphabet is Crockford's base32: no I, L, O (read as 1, 1, 0) and
	// no U.
	CodeAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
	// CodeLength is the number of symbols in a code, check symbol included.
	CodeLength = 13
	// CodePrefixLength is the number of symbols of a bus's prefix.
	CodePrefixLength = 2
	// CodeRandomBits is the size of a code's random part.
	CodeRandomBits = 30
	// CodeMACBits is the size of a code's MAC.
	CodeMACBits = 20

	codeRandomLength = CodeRandomBits / 5
	codeMACLength    = CodeMACBits / 5
	codeBodyLength   = CodePrefixLength + codeRandomLength + codeMACLength
	// codeMACDomain keeps these MACs apart from anything else the key
	// might one day sign.
	codeMACDomain = "infobus follow-up code v1\x00"
)

// Code is a follow-up code in canonical form: CodeLength symbols of
// CodeAlphabet, no separators. Make one with NewCode or ParseCode; a Code
// from either has a correct check symbol, but only Verify says whether a bus
// made it.
type Code string

// Reasons a spelling is not a code, in CodeError.Reason.
const (
	CodeReasonEmpty     = "empty"     // nothing typed
	CodeReasonCharacter = "character" // a symbol outside the alphabet and its look-alikes
	CodeReasonLength    = "length"    // too few or too many symbols
	CodeReasonCheck     = "check"     // the check symbol does not match: a typo
)

// CodeError says why a string is not a code, in words for the entrepreneur
// or crew member who typed it.
type CodeError struct {
	Reason string // one of the CodeReason… constants
	Problem
}

func (e *CodeError) Error() string { return "not a follow-up code: " + e.EN }

// ParseCode reads a code as a person may type or scan it: lower case,
// spaces and dashes anywhere, O for 0 and I or L for 1. It returns the
// canonical code, or a *CodeError naming what is wrong. It does not check
// the MAC; see Verify.
func ParseCode(s string) (Code, error) {
	// A code with separators is about 16 bytes: anything much longer is
	// not one, and need not be walked.
	if len(s) > 4*CodeLength {
		return "", &CodeError{CodeReasonLength, Problem{
			EN: fmt.Sprintf("A code has %d characters. This is far too long.", CodeLength),
			NL: fmt.Sprintf("Een code heeft %d tekens. Dit is veel te lang.", CodeLength)}}
	}
	var b [4 * CodeLength]byte
	n := 0
	for _, r := range s {
		if r == '-' || unicode.IsSpace(r) {
			continue
		}
		sym, ok := codeSymbol(r)
		if !ok {
			return "", badCharacter(r)
		}
		b[n] = sym
		n++
	}
	switch {
	case n == 0:
		return "", &CodeError{CodeReasonEmpty, Problem{EN: "Enter the code.", NL: "Vul de code in."}}
	case n != CodeLength:
		return "", &CodeError{CodeReasonLength, Problem{
			EN: fmt.Sprintf("A code has %d characters. You entered %d.", CodeLength, n),
			NL: fmt.Sprintf("Een code heeft %d tekens. U hebt er %d ingevuld.", CodeLength, n)}}
	}
	if dammDigest(b[:CodeLength]) != 0 {
		return "", &CodeError{CodeReasonCheck, Problem{
			EN: "This code is not right. Check each character against the card.",
			NL: "Deze code klopt niet. Vergelijk elk teken met de kaart."}}
	}
	return Code(b[:CodeLength]), nil
}

// codeSymbol maps a typed rune to its symbol in CodeAlphabet.
func codeSymbol(r rune) (byte, bool) {
	if r >= 'a' && r <= 'z' {
		r -= 'a' - 'A'
	}
	switch r {
	case 'O':
		return '0', true
	case 'I', 'L':
		return '1', true
	case 'U':
		return 0, false
	}
	if r < utf8.RuneSelf && strings.IndexByte(CodeAlphabet, byte(r)) >= 0 {
		return byte(r), true
	}
	return 0, false
}

func badCharacter(r rune) *CodeError {
	if r == 'U' || r == 'u' {
		return &CodeError{CodeReasonCharacter, Problem{
			EN: "The letter U does not occur in a code. Perhaps it is a V.",
			NL: "De letter U komt niet voor in een code. Misschien is het een V."}}
	}
	shown := string(r)
	if !unicode.IsPrint(r) {
		shown = fmt.Sprintf("%U", r)
	}
	return &CodeError{CodeReasonCharacter, Problem{
		EN: fmt.Sprintf("The character “%s” does not occur in a code. A code has only digits and letters.", shown),
		NL: fmt.Sprintf("Het teken „%s” komt niet voor in een code. Een code heeft alleen cijfers en letters.", shown)}}
}

// ValidCodePrefix reports whether p is a bus prefix: CodePrefixLength
// symbols of CodeAlphabet, in canonical form.
func ValidCodePrefix(p string) bool {
	if len(p) != CodePrefixLength {
		return false
	}
	for i := range len(p) {
		if strings.IndexByte(CodeAlphabet, p[i]) < 0 {
			return false
		}
	}
	return true
}

// CodePrefix returns the n-th bus prefix, 0 ≤ n < 1024, so that prefixes
// can be handed out in order.
func CodePrefix(n int) string {
	return string([]byte{CodeAlphabet[(n>>5)&31], CodeAlphabet[n&31]})
}

// NewCode makes the code of a bus with this prefix and key for the low
// CodeRandomBits bits of random. It returns an error for a prefix that
// ValidCodePrefix refuses or an empty key.
func NewCode(prefix string, key []byte, random uint32) (Code, error) {
	if !ValidCodePrefix(prefix) {
		return "", fmt.Errorf("code prefix %q: must be %d symbols of %s", prefix, CodePrefixLength, CodeAlphabet)
	}
	if len(key) == 0 {
		return "", fmt.Errorf("code key is empty")
	}
	var b [CodeLength]byte
	copy(b[:], prefix)
	putSymbols(b[CodePrefixLength:CodePrefixLength+codeRandomLength], uint64(random)&(1<<CodeRandomBits-1))
	putSymbols(b[CodePrefixLength+codeRandomLength:codeBodyLength], codeMAC(key, b[:CodePrefixLength+codeRandomLength]))
	b[codeBodyLength] = CodeAlphabet[dammCheck(b[:codeBodyLength])]
	return Code(b[:]), nil
}

// RandomCode makes a code with a random part from crypto/rand. Callers
// keep codes unique within a bus by storing them under a UNIQUE constraint
// and drawing again on a clash.
func RandomCode(prefix string, key []byte) (Code, error) {
	var r [4]byte
	if _, err := rand.Read(r[:]); err != nil {
		return "", err
	}
	return NewCode(prefix, key, binary.BigEndian.Uint32(r[:]))
}

// putSymbols writes v into dst as base32 symbols, most significant first.
func putSymbols(dst []byte, v uint64) {
	for i := len(dst) - 1; i >= 0; i-- {
		dst[i] = CodeAlphabet[v&31]
		v >>= 5
	}
}

// codeMAC is the first CodeMACBits bits of the HMAC of a code's prefix and
// random part.
func codeMAC(key, prefixAndRandom []byte) uint64 {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(codeMACDomain))
	m.Write(prefixAndRandom)
	sum := m.Sum(nil)
	return uint64(binary.BigEndian.Uint32(sum)) >> (32 - CodeMACBits)
}

// Prefix returns the bus prefix of c.
func (c Code) Prefix() string {
	if len(c) != CodeLength {
		return ""
	}
	return string(c[:CodePrefixLength])
}

// Verify reports whether c was made with key: its MAC matches, in
// constant time. A code of another bus fails, since the prefix is signed.
func (c Code) Verify(key []byte) bool {
	if len(c) != CodeLength || len(key) == 0 {
		return false
	}
	want := make([]byte, codeMACLength)
	putSymbols(want, codeMAC(key, []byte(c[:CodePrefixLength+codeRandomLength])))
	return hmac.Equal(want, []byte(c[CodePrefixLength+codeRandomLength:codeBodyLength]))
}

// String returns the canonical form, as stored.
func (c Code) String() string { return string(c) }

// Grouped returns the code as printed for people: groups of four symbols
// joined by dashes, ABCD-EFGH-JKMN-P.
func (c Code) Grouped() string {
	var b strings.Builder
	for i := 0; i < len(c); i += 4 {
		if i > 0 {
			b.WriteByte('-')
		}
		b.WriteString(string(c[i:min(i+4, len(c))]))
	}
	return b.String()
}

// NormalizeCode returns the canonical form of s when it parses as a code,
// and otherwise s trimmed and in upper case, for validation to judge.
func NormalizeCode(s string) string {
	if c, err := ParseCode(s); err == nil {
		return string(c)
	}
	return strings.ToUpper(strings.TrimSpace(s))
}

// The check symbol is Damm's algorithm over a quasigroup of order 32,
// x∗y = a·x + y in GF(2⁵) with a ∉ {0, 1}. It is totally anti-symmetric:
// (c∗x)∗y = a²c + a·x + y and (c∗y)∗x = a²c + a·y + x are equal only when
// (a+1)(x+y) = 0, that is x = y. So every single substitution and every swap
// of two neighbouring symbols changes the digest, and the check stays inside
// the 32 symbols (a check over 31 or 37 would not). TestDammQuasigroup checks
// the table entry by entry.
const (
	gfPoly = 0x25 // x⁵ + x² + 1, irreducible over GF(2)
	dammA  = 2    // the element x
)

var dammTable = func() (t [32][32]byte) {
	for x := range 32 {
		ax := gfMul(dammA, byte(x))
		for y := range 32 {
			t[x][y] = ax ^ byte(y)
		}
	}
	return t
}()

// gfMul multiplies in GF(2⁵) modulo gfPoly.
func gfMul(a, b byte) byte {
	var p byte
	for range 5 {
		if b&1 != 0 {
			p ^= a
		}
		b >>= 1
		a <<= 1
		if a&0x20 != 0 {
			a ^= gfPoly
		}
	}
	return p
}

// CodeCheckTable returns the quasigroup the check symbol uses, indexed by
// symbol values (positions in CodeAlphabet), so that a client can check a
// code as it is typed without a copy of the rule: digest 0, then digest =
// table[digest][symbol] for every symbol; a code's digest ends at 0.
func CodeCheckTable() [32][32]byte { return dammTable }

// dammDigest runs symbols (all in CodeAlphabet) through the table.
func dammDigest(symbols []byte) byte {
	var d byte
	for _, s := range symbols {
		d = dammTable[d][strings.IndexByte(CodeAlphabet, s)]
	}
	return d
}

// dammCheck returns the value of the symbol that brings the digest of
// symbols to 0: the y with a·d + y = 0, which is a·d itself.
func dammCheck(symbols []byte) byte {
	return gfMul(dammA, dammDigest(symbols))
}
