package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// markdownLink matches the target of an inline Markdown link.
var markdownLink = regexp.MustCompile(`\]\(([^)\s]+)\)`)

// TestDocsLinkInsideRepository keeps the project describing itself: every
// link in README.md and docs/ points at a file of this repository, so a
// clone on its own never sends a reader to a page it does not have.
func TestDocsLinkInsideRepository(t *testing.T) {
	root := filepath.Join("..", "..")
	docs := []string{filepath.Join(root, "README.md"), filepath.Join(root, "pwa", "README.md")}
	more, err := filepath.Glob(filepath.Join(root, "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	docs = append(docs, more...)
	if len(more) == 0 {
		t.Fatal("docs/ has no Markdown file; docs/architecture.md describes the parts as built")
	}
	for _, doc := range docs {
		text, err := os.ReadFile(doc)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range markdownLink.FindAllStringSubmatch(string(text), -1) {
			target := m[1]
			if strings.HasPrefix(target, "#") {
				continue
			}
			if strings.Contains(target, "://") {
				t.Errorf("%s links outside the repository: %s", doc, target)
				continue
			}
			file := filepath.Join(filepath.Dir(doc), strings.SplitN(target, "#", 2)[0])
			rel, err := filepath.Rel(root, file)
			if err != nil || strings.HasPrefix(rel, "..") {
				t.Errorf("%s links outside the repository: %s", doc, target)
				continue
			}
			if _, err := os.Stat(file); err != nil {
				t.Errorf("%s links to %s, which does not exist", doc, target)
			}
		}
	}
}
