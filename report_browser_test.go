package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/futures-cli/futures/cmd"
)

// chromium finds Debian's chromium; without it the test is skipped, but
// under CI=true (where .ci/run installs it) it fails.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv("CI") == "true" {
		t.Fatal("chromium is not installed (.ci/run installs it)")
	}
	t.Skip("chromium is not installed: apt-get install chromium to run this test")
	return ""
}

// runChromium runs headless chromium with args on page, with a hang
// detector's deadline, and returns its stdout.
func runChromium(t *testing.T, bin, dataDir string, args ...string) []byte {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
		"--user-data-dir=" + dataDir, "--window-size=1500,900"}
	c := exec.CommandContext(ctx, bin, append(base, args...)...)
	var stderr bytes.Buffer
	c.Stderr = &stderr
	out, err := c.Output()
	if err != nil {
		t.Fatalf("chromium %s: %v\n%s", strings.Join(args, " "), err, stderr.Bytes())
	}
	return out
}

// TestReportInBrowser makes a report of a real run (--report), opens it in
// headless chromium, takes a screenshot and checks the page's DOM: a bar
// per job, the counts of the run's summary line, the hover script ran and
// no script error.
func TestReportInBrowser(t *testing.T) {
	bin := chromium(t)
	dir := t.TempDir()
	page := filepath.Join(dir, "run.html")

	var stdout, stderr bytes.Buffer
	root := cmd.NewRootCmd(strings.NewReader(""), &stdout, &stderr)
	root.SetArgs([]string{"map", "-j3", "--report", page, "--job-timeout", "20",
		"sh", "-c", `echo "<script>alert($1)</script>" >&2; [ $(($1 % 4)) -ne 0 ]`, "_",
		":::", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11", "12"})
	_ = root.Execute() // exit status 1: jobs 4, 8 and 12 fail
	m := regexp.MustCompile(`futures: (\d+) succeeded, (\d+) failed, (\d+) cancelled, (\d+) timed out`).FindStringSubmatch(stderr.String())
	if m == nil {
		t.Fatalf("no summary line in %q", stderr.String())
	}
	want := map[string]string{"n-succeeded": m[1], "n-failed": m[2], "n-cancelled": m[3], "n-timed-out": m[4], "n-jobs": "12"}
	if m[1] != "9" || m[2] != "3" {
		t.Fatalf("the run: %s", m[0])
	}

	shot := filepath.Join(dir, "run.png")
	runChromium(t, bin, filepath.Join(dir, "profile"), "--screenshot="+shot, "file://"+page)
	if fi, err := os.Stat(shot); err != nil || fi.Size() == 0 {
		t.Fatalf("no screenshot: %v", err)
	}
	dom := string(runChromium(t, bin, filepath.Join(dir, "profile"), "--dump-dom", "file://"+page))

	if e := regexp.MustCompile(`data-script-error="([^"]*)"`).FindStringSubmatch(dom); e != nil {
		t.Errorf("script error in the page: %s", e[1])
	}
	if !strings.Contains(dom, `data-script-ready="1"`) {
		t.Errorf("the page's script did not run to its end")
	}
	if strings.Contains(dom, "<script>alert") {
		t.Errorf("a job's stderr became a script element")
	}
	bars := regexp.MustCompile(`<rect class="bar [^"]*"[^>]*data-n="(\d+)"`).FindAllStringSubmatch(dom, -1)
	jobs := 0
	for _, b := range bars {
		n, _ := strconv.Atoi(b[1])
		jobs += n
	}
	if len(bars) != 12 || jobs != 12 {
		t.Errorf("%d bars holding %d jobs, want 12 bars of one job", len(bars), jobs)
	}
	for id, n := range want {
		if !strings.Contains(dom, `<dd id="`+id+`">`+n+`</dd>`) {
			t.Errorf("the page does not say %s %s", id, n)
		}
	}
}
