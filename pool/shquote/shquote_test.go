package shquote

import (
	"math/rand/v2"
	"os/exec"
	"strings"
	"testing"
)

func TestQuote(t *testing.T) {
	tests := []struct {
		name, s, want string
	}{
		{"a safe word stays as it is", "a-b_c.d/e:f,g@h%i+j=k", "a-b_c.d/e:f,g@h%i+j=k"},
		{"an option with = stays as it is", "--level=9", "--level=9"},
		{"a path stays as it is", "/home/ann/.cache/futures/v1-0123/futures", "/home/ann/.cache/futures/v1-0123/futures"},
		{"the empty string is two quotes", "", "''"},
		{"a blank is quoted", "a b", "'a b'"},
		{"a single quote is closed, escaped and reopened", "it's", `'it'\''s'`},
		{"only a single quote", "'", `''\'''`},
		{"shell syntax is quoted", "$(touch y); *", "'$(touch y); *'"},
		{"a leading ~ is quoted", "~", "'~'"},
		{"what reads as an assignment is quoted", "A=1", "'A=1'"},
		{"a newline is quoted", "a\nb", "'a\nb'"},
		{"invalid UTF-8 is quoted as it is", "\xff", "'\xff'"},
		{"a NUL is kept", "a\x00b", "'a\x00b'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := Quote(tt.s); got != tt.want {
				t.Errorf("Quote(%q) = %q, want %q", tt.s, got, tt.want)
			}
			var b strings.Builder
			QuoteTo(&b, tt.s)
			if b.String() != tt.want {
				t.Errorf("QuoteTo(%q) wrote %q, want %q", tt.s, b.String(), tt.want)
			}
		})
	}
}

func TestSingleQuoteToQuotesEvenASafeWord(t *testing.T) {
	var b strings.Builder
	SingleQuoteTo(&b, "abc")
	if b.String() != "'abc'" {
		t.Errorf("SingleQuoteTo(abc) wrote %q, want 'abc'", b.String())
	}
}

// TestQuoteSurvivesTheShell has sh print each word quoted: it must get
// the word back, byte for byte.
func TestQuoteSurvivesTheShell(t *testing.T) {
	inputs := []string{"plain", "", "a b", "it's", `back\slash`, "$HOME", "`x`", "a\nb", "*", "~user", "-n", "A=1", "x=$(id)"}
	r := rand.New(rand.NewPCG(1, 2))
	alphabet := []byte("ab '\"\\$`;|&<>(){}[]*?~#=!\n\t\r\x80\xff\xc3")
	for range 300 {
		b := make([]byte, r.IntN(24))
		for i := range b {
			if r.IntN(2) == 0 {
				b[i] = alphabet[r.IntN(len(alphabet))]
			} else {
				b[i] = byte(1 + r.IntN(255)) // any byte but NUL
			}
		}
		inputs = append(inputs, string(b))
	}
	var script strings.Builder
	for _, s := range inputs {
		script.WriteString("printf '%s\\0' " + Quote(s) + "\n")
	}
	out, err := exec.Command("/bin/sh", "-c", script.String()).Output()
	if err != nil {
		t.Fatalf("sh: %v", err)
	}
	got := strings.Split(string(out), "\x00")
	for i, s := range inputs {
		if i >= len(got) || got[i] != s {
			t.Fatalf("sh printed %q for %q (quoted %s)", got[i], s, Quote(s))
		}
	}
}

func TestQuoteWordToQuotesAnyEquals(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"a", "a"},
		{"a=b", "'a=b'"},
		{"--x=1", "'--x=1'"},
		{"k]=v", "'k]=v'"},
		{"", "''"},
		{"it's", `'it'\''s'`},
	} {
		var b strings.Builder
		QuoteWordTo(&b, tc.in)
		if b.String() != tc.want {
			t.Errorf("QuoteWordTo(%q) = %s, want %s", tc.in, b.String(), tc.want)
		}
	}
}
