package cmd

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// TestManWritesAPageForEveryVisibleCommand runs `futures man DIR` over the
// whole command tree and checks that each visible command, and only those,
// has its page, FUTURES-SUB(1), that names it and its flags.
func TestManWritesAPageForEveryVisibleCommand(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("SOURCE_DATE_EPOCH", "1764979200") // 2025-12-06: pages do not change with the clock
	var stdout, stderr strings.Builder
	root := NewRootCmd(strings.NewReader(""), &stdout, &stderr)
	if status := runRoot(root, &stderr, []string{"man", dir}); status != 0 || stdout.Len() > 0 || stderr.Len() > 0 {
		t.Fatalf("futures man: exit status %d, stdout %q, stderr %q", status, stdout.String(), stderr.String())
	}
	want := map[string]bool{}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if !c.IsAvailableCommand() && c != root || c.IsAdditionalHelpTopicCommand() {
			return
		}
		page := strings.ReplaceAll(c.CommandPath(), " ", "-") + ".1"
		want[page] = true
		b, err := os.ReadFile(filepath.Join(dir, page))
		if err != nil {
			t.Errorf("%s: %v", c.CommandPath(), err)
		} else {
			text := string(b)
			title := strings.ToUpper(strings.ReplaceAll(c.CommandPath(), " ", "-"))
			if !strings.Contains(text, `.TH "`+title+`" "1" "Dec 2025"`) {
				t.Errorf("%s: no .TH %q line for section 1 dated by SOURCE_DATE_EPOCH:\n%.300s", page, title, text)
			}
			c.LocalFlags().VisitAll(func(fl *pflag.Flag) {
				if !fl.Hidden && !strings.Contains(text, `--`+fl.Name+`\fP`) {
					t.Errorf("%s: flag --%s not in the page", page, fl.Name)
				}
			})
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
	for _, name := range []string{"futures.1", "futures-map.1", "futures-submit.1", "futures-wait.1", "futures-version.1", "futures-status.1"} {
		if !want[name] {
			t.Errorf("the walk found no %s: the test is wrong", name)
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if !want[e.Name()] {
			t.Errorf("%s: a page for a command that is hidden or not there", e.Name())
		}
	}
}

func TestManTakesOneDirectory(t *testing.T) {
	for _, args := range [][]string{{"man"}, {"man", "a", "b"}} {
		var stdout, stderr strings.Builder
		root := NewRootCmd(strings.NewReader(""), &stdout, &stderr)
		if status := runRoot(root, &stderr, args); status != 2 || !strings.Contains(stderr.String(), "accepts 1 arg(s)") {
			t.Errorf("futures %s: exit status %d, stderr %q; want 2, a usage error", strings.Join(args, " "), status, stderr.String())
		}
	}
}
