package cmd

import (
	"slices"
	"testing"

	"github.com/spf13/pflag"
)

func TestSuggestFlags(t *testing.T) {
	fs := pflag.NewFlagSet("map", pflag.ContinueOnError)
	for _, name := range []string{"output", "timeout", "job-timeout", "jobs", "json", "pipe", "resume", "resume-failed", "tag", "tf", "secret"} {
		fs.Bool(name, false, "")
	}
	_ = fs.MarkHidden("secret")
	for _, tc := range []struct {
		name, typed string
		want        []string
	}{
		{"two letters swapped are one edit", "outptu", []string{"output"}},
		{"a swap in a short name", "jbos", []string{"jobs"}},
		{"a letter left out", "job-timout", []string{"job-timeout"}},
		{"the start of a name", "time", []string{"timeout"}},
		{"the start of several names, then the near ones", "resum", []string{"resume", "resume-failed"}},
		{"two edits are too many for a short name", "pupa", nil},
		{"one edit in a short name", "tga", []string{"tag"}},
		{"nothing near", "zzzzzz", nil},
		{"hidden flags are not suggested", "secrte", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := suggestFlags(fs, tc.typed); !slices.Equal(got, tc.want) {
				t.Errorf("suggestFlags(%q) = %q, want %q", tc.typed, got, tc.want)
			}
		})
	}
}

func TestEditDistance(t *testing.T) {
	for _, tc := range []struct {
		a, b string
		want int
	}{
		{"", "", 0}, {"abc", "", 3}, {"", "abc", 3}, {"output", "output", 0},
		{"outptu", "output", 1}, {"ouput", "output", 1}, {"outputt", "output", 1},
		{"oitput", "output", 1}, {"time", "pipe", 2}, {"kitten", "sitting", 3},
	} {
		if got := editDistance(tc.a, tc.b); got != tc.want {
			t.Errorf("editDistance(%q, %q) = %d, want %d", tc.a, tc.b, got, tc.want)
		}
	}
}
