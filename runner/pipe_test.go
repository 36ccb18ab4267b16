package runner

import (
	"bytes"
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/futures-cli/futures/runner/input"
	"github.com/futures-cli/futures/runner/template"
)

func TestRunPipe(t *testing.T) {
	in := numberedLines(5000, func(i int) int { return 1 + i%80 })
	tmpl, err := template.Parse([]string{"sh", "-c", `printf '%s %s\n' "$1" "$(wc -c)"`, "_", "{#}"})
	if err != nil {
		t.Fatal(err)
	}
	src, err := input.PipeSource(tmpl, strings.NewReader(in), input.PipeOptions{BlockSize: 4096, RecEnd: "\n"})
	if err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	sum := Run(context.Background(), Options{Workers: 3, Window: 4, KeepOrder: true, Stdout: &out, Stderr: &errb}, src)
	if sum.ExitStatus() != 0 || sum.Failed != 0 {
		t.Fatalf("exit %d: %s; %s", sum.ExitStatus(), sum, errb.String())
	}
	total := 0
	for i, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		var seq, n int
		if _, err := fmt.Sscan(l, &seq, &n); err != nil || seq != i+1 {
			t.Fatalf("line %d: %q", i+1, l)
		}
		if n > 4096 {
			t.Fatalf("block %d is %d bytes", seq, n)
		}
		total += n
	}
	if total != len(in) {
		t.Fatalf("the jobs read %d bytes; the input is %d", total, len(in))
	}
}

// numberedLines is n lines, the i-th its number padded with x to width(i)
// bytes.
func numberedLines(n int, width func(i int) int) string {
	var b strings.Builder
	for i := range n {
		s := strconv.Itoa(i)
		b.WriteString(s)
		b.WriteString(strings.Repeat("x", max(0, width(i)-len(s))))
		b.WriteByte('\n')
	}
	return b.String()
}
