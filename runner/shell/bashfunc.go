package shell

import (
	"os"
	"strings"
	"sync"

	"github.com/futures-cli/futures/pool/shquote"
)

// Exported bash functions. After `export -f myf`, bash puts the function in
// the environment as BASH_FUNC_myf%%=() { …; } (BASH_FUNC_myf()= before
// bash 4.4), and only a bash started with that environment knows it. GNU
// parallel and rush run such a command under bash; so does Exec, whatever
// the shell of other lines (proc.ExecOptions.Shell) is.

// runnerFunctions are the names of the functions exported in the runner's
// own environment, read once.
var runnerFunctions = sync.OnceValue(func() map[string]bool {
	return exportedFunctions(os.Environ())
})

// exportedFunctions returns the names of the bash functions exported in
// env; nil when there is none.
func exportedFunctions(env []string) map[string]bool {
	var names map[string]bool
	for _, kv := range env {
		if !strings.HasPrefix(kv, "BASH_FUNC_") {
			continue
		}
		k, _, _ := strings.Cut(kv[len("BASH_FUNC_"):], "=")
		name, ok := strings.CutSuffix(k, "%%")
		if !ok {
			name, ok = strings.CutSuffix(k, "()")
		}
		if ok && name != "" {
			if names == nil {
				names = map[string]bool{}
			}
			names[name] = true
		}
	}
	return names
}

// RunsFunction reports whether c's command is a bash function exported in
// environ (nil: the runner's environment): its program (Argv[0]), or for a
// shell line its first word after any VAR=value assignments.
func RunsFunction(c Command, environ []string) bool {
	funcs := runnerFunctions()
	if environ != nil {
		funcs = exportedFunctions(environ)
	}
	if len(funcs) == 0 {
		return false
	}
	if !c.Shell {
		return len(c.Argv) > 0 && funcs[c.Argv[0]]
	}
	return funcs[commandWord(c.Line)]
}

// commandWord returns the first plain word of a shell line that is not a
// VAR=value assignment: "" when a word holds quotes, escapes or
// expansions (a function's name never needs them).
func commandWord(line string) string {
	rest := line
	for {
		rest = strings.TrimLeft(rest, " \t\n")
		end := strings.IndexAny(rest, " \t\n;&|<>()")
		if end < 0 {
			end = len(rest)
		}
		w := rest[:end]
		if strings.ContainsAny(w, "'\"\\$`") {
			return ""
		}
		if !shquote.IsAssignment(w) {
			return w
		}
		rest = rest[end:]
	}
}
