package runner

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/futures-cli/futures/runner/input"
	"github.com/futures-cli/futures/runner/template"
)

func TestTheFilesOfAJobAreItsTemplatesExpanded(t *testing.T) {
	mapJob := func(o template.Options, recs ...[]string) *input.Job {
		tmpl, err := template.ParseWith([]string{"cmd {}"}, o)
		if err != nil {
			t.Fatal(err)
		}
		return input.NewJob(3, tmpl, recs)
	}
	for _, tc := range []struct {
		name string
		opt  Options
		job  *input.Job
		want *Files
		err  string
	}{
		{"no file options: no files", Options{}, mapJob(template.Options{}, []string{"a"}), nil, ""},
		{"a template takes the job's item and its path forms",
			Options{Transfer: []string{"{}"}, Return: []string{"{.}.out", "out/./{/}.n"}, Cleanup: true},
			mapJob(template.Options{}, []string{"dir/a.txt"}),
			&Files{Transfer: []string{"dir/a.txt"}, Return: []string{"dir/a.out", "out/./a.txt.n"}, Cleanup: true}, ""},
		{"--transfer sends the item, before the other files",
			Options{TransferItem: true, Transfer: []string{"common.cfg"}},
			mapJob(template.Options{}, []string{"a.txt"}),
			&Files{Transfer: []string{"a.txt", "common.cfg"}}, ""},
		{"--transfer with -I sends the item the -I string stands for",
			Options{TransferItem: true, Return: []string{"%.out"}},
			mapJob(template.Options{Replace: "%"}, []string{"a.txt"}),
			&Files{Transfer: []string{"a.txt"}, Return: []string{"a.txt.out"}}, ""},
		{"a chunk of items gives a file per item, and a fixed name once",
			Options{Transfer: []string{"{}", "lib.sh"}, Return: []string{"{#}.log"}},
			mapJob(template.Options{}, []string{"a"}, []string{"b"}),
			&Files{Transfer: []string{"a", "b", "lib.sh"}, Return: []string{"3.log"}}, ""},
		{"{2} is the second input's value",
			Options{Transfer: []string{"{2}"}},
			mapJob(template.Options{}, []string{"x", "data/y"}),
			&Files{Transfer: []string{"data/y"}}, ""},
		{"a --header column names a file",
			Options{Return: []string{"{id}.out"}},
			mapJob(template.Options{Fields: true, Columns: []string{"id", "url"}}, []string{"7", "http://x"}),
			&Files{Return: []string{"7.out"}}, ""},
		{"a submit job's {} is its command line; {#} its number",
			Options{Return: []string{"out{#}"}},
			input.NewLineJob(9, "make all"),
			&Files{Return: []string{"out9"}}, ""},
		{"a name that is empty for this job is its error",
			Options{Transfer: []string{"{2}"}},
			mapJob(template.Options{}, []string{"a"}),
			nil, "--transferfile {2}: the file name is empty for this job"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := &run{opt: tc.opt}
			got, err := r.files(tc.job, 1)
			if tc.err != "" {
				if err == nil || err.Error() != tc.err {
					t.Fatalf("files = %+v, %v; want the error %q", got, err, tc.err)
				}
				return
			}
			if err != nil || !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("files = %+v, %v; want %+v", got, err, tc.want)
			}
		})
	}
}

func TestFilesNeedTheProcessExecutor(t *testing.T) {
	for _, opt := range []Options{{Transfer: []string{"{}"}}, {TransferItem: true}, {Return: []string{"x"}}, {Cleanup: true}} {
		if err := checkFiles(&opt); !errors.Is(err, ErrFilesNeedWorkers) {
			t.Fatalf("%+v with the thread executor: %v, want ErrFilesNeedWorkers", opt, err)
		}
		opt.Executor = ProcessExecutor
		if err := checkFiles(&opt); err != nil {
			t.Fatalf("%+v: %v", opt, err)
		}
	}
	s := Run(t.Context(), Options{Return: []string{"x"}, Stdout: &strings.Builder{}, Stderr: &strings.Builder{}}, func() (*input.Job, error) {
		t.Fatal("a run that cannot serve its files read its input")
		return nil, nil
	})
	if !errors.Is(s.Err, ErrFilesNeedWorkers) || s.ExitStatus() != 2 {
		t.Fatalf("Run: %v, exit %d; want ErrFilesNeedWorkers, exit 2", s.Err, s.ExitStatus())
	}
}
