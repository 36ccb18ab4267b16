package mangen

import (
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/futures-cli/futures/cmd"
)

// TestManWritesAPageForEveryVisibleCommand runs `futures-man DIR` over the
// whole command tree and checks that each visible command, and only those,
// has its page, FUTURES-SUB(1), that names it and its flags.
func TestManWritesAPageForEveryVisibleCommand(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("SOURCE_DATE_EPOCH", "1764979200") // 2025-12-06: pages do not change with the clock
	var stderr strings.Builder
	if status := Main([]string{dir}, &stderr); status != 0 || stderr.Len() > 0 {
		t.Fatalf("futures-man: exit status %d, stderr %q", status, stderr.String())
	}
	root := cmd.NewRootCmd(strings.NewReader(""), io.Discard, io.Discard)
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
	for _, args := range [][]string{{}, {"a", "b"}, {"--help"}} {
		var stderr strings.Builder
		if status := Main(args, &stderr); status != 2 || stderr.String() != "usage: futures-man DIR\n" {
			t.Errorf("futures-man %s: exit status %d, stderr %q; want 2, the usage", strings.Join(args, " "), status, stderr.String())
		}
	}
}

// TestFuturesDoesNotLinkTheManPageRenderer: futures itself does not import
// cobra/doc (nor its Markdown and YAML libraries), whose initialisers every
// run would pay for.
func TestFuturesDoesNotLinkTheManPageRenderer(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "github.com/futures-cli/futures").Output()
	if err != nil {
		t.Skipf("go list: %v", err)
	}
	for _, dep := range strings.Fields(string(out)) {
		switch dep {
		case "github.com/spf13/cobra/doc", "github.com/russross/blackfriday/v2", "go.yaml.in/yaml/v3", "gopkg.in/yaml.v3":
			t.Errorf("futures links %s", dep)
		}
	}
}
