package shell

import "testing"

func TestExportedBashFunctionsRunUnderBash(t *testing.T) {
	env := []string{"PATH=/usr/bin:/bin", "BASH_FUNC_myf%%=() { echo f; }", "BASH_FUNC_old()=() { echo g; }", "BASH_FUNC_%%=x"}
	tests := []struct {
		name string
		c    Command
		want bool
	}{
		{"a program that is a function", Command{Line: "myf a", Argv: []string{"myf", "a"}}, true},
		{"the bash before 4.4 form", Command{Line: "old", Argv: []string{"old"}}, true},
		{"another program", Command{Line: "echo myf", Argv: []string{"echo", "myf"}}, false},
		{"a path is never a function", Command{Line: "./myf", Argv: []string{"./myf"}}, false},
		{"a shell line's first word", Command{Line: "myf a | sort", Shell: true}, true},
		{"after assignments", Command{Line: " A=1 B=2 myf; x", Shell: true}, true},
		{"a quoted word is not looked at", Command{Line: "'myf' a | sort", Shell: true}, false},
		{"a later word is not the command", Command{Line: "echo a | myf", Shell: true}, false},
		{"an empty line", Command{Line: "", Shell: true}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := RunsFunction(tt.c, env); got != tt.want {
				t.Errorf("RunsFunction(%q) = %v, want %v", tt.c.Line, got, tt.want)
			}
		})
	}
	if RunsFunction(Command{Line: "myf", Argv: []string{"myf"}}, []string{"PATH=/bin"}) {
		t.Error("a function of no environment runs")
	}
}
