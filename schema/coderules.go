package schema

// CodeRules is how a follow-up code is spelled and checked, as the tablet
// receives it in the reference answer: with it the app checks a code as it
// is typed by the same table as ParseCode, and shows it in the same groups,
// without a copy of the rule of its own.
type CodeRules struct {
	Alphabet string `json:"alphabet"`
	Length   int    `json:"length"`
	Group    int    `json:"group"` // symbols per group when shown to people
	// Lookalikes are the letters read as a symbol of the alphabet.
	Lookalikes map[string]string `json:"lookalikes"`
	// Check is CodeCheckTable: digest 0, then digest = check[digest][value
	// of symbol] for every symbol; a code's digest ends at 0.
	Check [32][32]byte `json:"check"`
}

// codeRules is what loadReference puts into Reference.Codes.
func codeRules() *CodeRules {
	return &CodeRules{
		Alphabet:   CodeAlphabet,
		Length:     CodeLength,
		Group:      4,
		Lookalikes: map[string]string{"O": "0", "I": "1", "L": "1"},
		Check:      CodeCheckTable(),
	}
}
