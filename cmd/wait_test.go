package cmd

import (
	"strings"
	"testing"

	"github.com/futures-cli/futures/future"
	"github.com/futures-cli/futures/runner"
)

func TestWaitReturnWhenAndThen(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want runner.WaitOptions
	}{
		{nil, runner.WaitOptions{ReturnWhen: future.AllCompleted}},
		{[]string{"--return-when", "FIRST_COMPLETED"}, runner.WaitOptions{ReturnWhen: future.FirstCompleted}},
		{[]string{"--return-when", "first_exception"}, runner.WaitOptions{ReturnWhen: future.FirstException}},
		{[]string{"--return-when=All_Completed", "--then", "finish"}, runner.WaitOptions{ReturnWhen: future.AllCompleted, Finish: true}},
		{[]string{"--then", "cancel", "cmds.txt", "-"}, runner.WaitOptions{ReturnWhen: future.AllCompleted}},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			f, _, _ := testFactory(nil)
			o := parseArgs(t, f, newCmdWait, tc.args...)
			got, err := o.waitOptions()
			if err != nil || got != tc.want {
				t.Errorf("%q: %+v, %v; want %+v", tc.args, got, err, tc.want)
			}
		})
	}
	f, _, _ := testFactory(nil)
	if o := parseArgs(t, f, newCmdWait, "-j", "2", "a", "b"); o.jobs != "2" || strings.Join(o.files, " ") != "a b" || o.keepOrder {
		t.Errorf("-j %q, FILEs %q, -k %v; want 2, a b, false", o.jobs, o.files, o.keepOrder)
	}
}

func TestWaitUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--return-when", "FIRST"}, `--return-when "FIRST": want FIRST_COMPLETED, FIRST_EXCEPTION or ALL_COMPLETED`},
		{[]string{"--then", "kill"}, `--then "kill": want cancel or finish`},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			f, _, _ := testFactory(nil)
			status, stderr := runArgs(t, f, newCmdWait, func(o *waitOptions) error {
				_, err := o.waitOptions()
				return err
			}, tc.args...)
			if want := usageMessage("wait", tc.want); status != 2 || stderr != want {
				t.Errorf("%q: exit status %d, stderr %q; want 2, %q", tc.args, status, stderr, want)
			}
		})
	}
}

func TestSubmitTakesFiles(t *testing.T) {
	f, _, _ := testFactory(nil)
	if o := parseArgs(t, f, newCmdSubmit, "-j", "2", "a", "-", "b"); strings.Join(o.files, " ") != "a - b" || o.jobs != "2" {
		t.Errorf("FILEs %q, -j %q; want a - b, 2", o.files, o.jobs)
	}
	if o := parseArgs(t, f, newCmdSubmit); len(o.files) != 0 {
		t.Errorf("FILEs %q, want none (stdin)", o.files)
	}
}
