package redisstore

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestDocumentedLogLines checks that every log line docs/operating.md
// tells operators to alert on is one the store writes, and that every test
// the fault table of docs/sessions.md names exists: an alert on a line
// that changed never fires.
func TestDocumentedLogLines(t *testing.T) {
	doc := readDoc(t, "operating.md")
	section, _, _ := strings.Cut(doc[strings.Index(doc, "\n## Redis\n"):], "\n## Sign-in health")
	var code strings.Builder
	files, _ := filepath.Glob("*.go")
	for _, f := range files {
		if !strings.HasSuffix(f, "_test.go") {
			b, _ := os.ReadFile(f)
			code.Write(b)
		}
	}
	lines := 0
	for _, row := range strings.Split(section, "\n") {
		if !strings.HasPrefix(row, "| `") {
			continue
		}
		first, _, _ := strings.Cut(row[1:], "|")
		for _, m := range regexp.MustCompile("`([^`]+)`").FindAllStringSubmatch(first, -1) {
			lines++
			if !strings.Contains(code.String(), `"redisstore: `+m[1]) {
				t.Errorf("docs/operating.md names the log line %q, which the store does not write", m[1])
			}
		}
	}
	if lines < 10 {
		t.Fatalf("found %d log lines in docs/operating.md's Redis table, want its whole table", lines)
	}

	sessions := readDoc(t, "sessions.md")
	var tests strings.Builder
	testFiles, _ := filepath.Glob("*_test.go")
	for _, f := range testFiles {
		b, _ := os.ReadFile(f)
		tests.Write(b)
	}
	named := regexp.MustCompile("`(Test[A-Za-z]+)`").FindAllStringSubmatch(sessions, -1)
	if len(named) < 10 {
		t.Fatalf("docs/sessions.md names %d tests, want the fault table's", len(named))
	}
	for _, m := range named {
		if !strings.Contains(tests.String(), "func "+m[1]+"(t *testing.T)") {
			t.Errorf("docs/sessions.md names %s, which is not a test here", m[1])
		}
	}
}

func readDoc(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "docs", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
