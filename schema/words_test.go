package schema

import (
	"reflect"
	"testing"
)

func TestSearchWords(t *testing.T) {
	for in, want := range map[string][]string{
		"Café De Bakker, 's-Gravenhage":  {"cafe", "de", "bakker", "gravenhage"},
		"ÖZTÜRK öztürk Yılmaz":           {"ozturk", "yilmaz"},
		"a b  2512AB — bel 06-12345678!": {"2512ab", "bel", "06", "12345678"},
		"":                               nil,
		"x":                              nil,
	} {
		if got := SearchWords(in); !reflect.DeepEqual(got, want) {
			t.Errorf("SearchWords(%q) = %q, want %q", in, got, want)
		}
	}
}
