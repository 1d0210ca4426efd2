package main

import (
	"bytes"
	"go/ast"
	"go/parser"
	"go/printer"
	"go/token"
	"path/filepath"
	"strings"
	"testing"
)

// TestNoHelperCopiedBetweenBusAndOffice keeps the bus and the office from
// growing twin helpers again: a function or method of more than three
// lines whose body stands in both packages, letter for letter, belongs in
// one place both use (schema, sqlite, web or sync). One-line delegations
// to such a place are fine.
func TestNoHelperCopiedBetweenBusAndOffice(t *testing.T) {
	root := filepath.Join("..", "..")
	bodies := func(pkg string) map[string]string {
		fset := token.NewFileSet()
		files, err := filepath.Glob(filepath.Join(root, pkg, "*.go"))
		if err != nil {
			t.Fatal(err)
		}
		out := map[string]string{}
		for _, f := range files {
			if strings.HasSuffix(f, "_test.go") {
				continue
			}
			file, err := parser.ParseFile(fset, f, nil, 0)
			if err != nil {
				t.Fatal(err)
			}
			for _, d := range file.Decls {
				fn, ok := d.(*ast.FuncDecl)
				if !ok || fn.Body == nil {
					continue
				}
				var buf bytes.Buffer
				if err := printer.Fprint(&buf, fset, fn.Body); err != nil {
					t.Fatal(err)
				}
				if strings.Count(buf.String(), "\n") > 4 { // braces plus more than three lines
					out[buf.String()] = fset.Position(fn.Pos()).String() + " " + fn.Name.Name
				}
			}
		}
		return out
	}
	busBodies, officeBodies := bodies("bus"), bodies("office")
	if len(busBodies) == 0 || len(officeBodies) == 0 {
		t.Fatal("found no functions to compare; did the packages move?")
	}
	for body, at := range busBodies {
		if other, ok := officeBodies[body]; ok {
			t.Errorf("%s and %s have the same body; give it one home both use", at, other)
		}
	}
}
