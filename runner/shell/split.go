// Package shell parses the command line of one job (ParseLine: an argv, or
// a line for sh -c), quotes words for a shell, and knows exec's argument limits.
package shell

import (
	"fmt"
	"strings"

	"github.com/futures-cli/futures/pool/shquote"
	"github.com/futures-cli/futures/runner/internal/lex"
)

// ErrSyntax is wrapped by the errors of a command line that cannot be
// parsed: an unterminated quote, a trailing lone backslash, a NUL byte, an
// empty line. The message says what is wrong and at which byte offset
// (counted from 0).
var ErrSyntax = lex.ErrSyntax

// DefaultShell is what a command line that needs a shell runs under
// unless the caller says otherwise: sh -c LINE.
var DefaultShell = []string{"/bin/sh", "-c"}

// Command is a job's command, ready to start.
type Command struct {
	// Line is the command as a user would type it: shown by --dry-run and
	// --tag, written to the joblog and to the JSON record's "command".
	Line string
	// Argv is the program and its arguments when Shell is false.
	Argv []string
	// Shell is true when Line needs a shell (pipes, redirections, $VAR…)
	// and runs as SHELL... Line, e.g. /bin/sh -c Line.
	Shell bool
}

// ParseLine parses one command line: a line of `futures submit`, or a
// template of `futures map` once expanded.
//
// A line that needs no shell is split into words by POSIX shell quoting
// rules and becomes a direct exec, Command{Line: line, Argv: words}: blanks
// (space, tab) separate words, single quotes keep everything, double quotes
// keep everything but a backslash before $ ` " \ (which it escapes), an
// unquoted backslash escapes the next byte, a pair of quotes with nothing
// between is an empty word, and adjacent parts join into one word:
//
//	a'b c'"d"\ e  →  "ab cd e"
//
// Words are bytes: invalid UTF-8 passes through unchanged, and so does a
// carriage return (as in sh, it is not a blank).
//
// A line that needs a shell becomes Command{Line: line, Shell: true}: when,
// outside quotes, it has a pipe or list operator (| & ; && ||), a
// redirection (< >), a subshell ( ), a glob (* ? [), a parameter or
// command substitution ($ or `, also inside double quotes), a newline or a
// backslash-newline, a comment (# at the start of a word), a tilde at the
// start of a word, { } or ! as a whole word; or when its first word is a
// VAR=value assignment, a shell keyword (if, for, case, …) or a builtin that
// has no program of its own (cd, exit, export, set, ., :, …), which only a
// shell can run. The check is conservative: a line sent to the shell that
// did not need it still runs the same, only slower.
//
// Either way a line with an unterminated quote ('…, "…, $'…, `…) or a
// trailing lone backslash is an error wrapping ErrSyntax that names the
// problem and its byte offset. (For a shell line this is a lexical check;
// after the start of a here-document's body it stops, and the shell has the
// last word.) A line holding a NUL byte is an error too, since neither an
// argv nor sh -c can carry one, and so is an empty or all-blank line.
//
// ParseLine does not expand anything and never runs a shell.
func ParseLine(line string) (Command, error) {
	if i := strings.IndexByte(line, 0); i >= 0 {
		return Command{}, lex.SyntaxError("NUL byte (a command line cannot hold one)", i)
	}
	if strings.Trim(line, " \t\r\n") == "" {
		return Command{}, fmt.Errorf("%w: empty command line", ErrSyntax)
	}
	argv, shell, err := splitWords(line)
	if err != nil {
		return Command{}, err
	}
	if shell {
		if err := checkShellLine(line); err != nil {
			return Command{}, err
		}
		return Command{Line: line, Shell: true}, nil
	}
	if lex.OnlyShellRuns(argv[0]) || startsWithAssignment(line) {
		return Command{Line: line, Shell: true}, nil
	}
	return Command{Line: line, Argv: argv}, nil
}

// wordSpan locates one word of a split line: in the line itself when it had
// no quotes or escapes, else in the buffer of unquoted bytes.
type wordSpan struct {
	start, end int
	unquoted   bool // in the buffer, not in the line
}

// splitWords splits a line that needs no shell. It stops as soon as it
// finds shell syntax and reports shell == true; the caller then checks the
// whole line with checkShellLine. The words of a plain line are substrings
// of it; those with quotes or escapes share one string.
func splitWords(line string) (argv []string, shell bool, err error) {
	var spanArr [16]wordSpan
	spans := spanArr[:0]
	var bufArr [256]byte
	buf := bufArr[:0]

	n := len(line)
	inWord := false
	unquoted := false // the current word is being built in buf
	start := 0        // of the current word: in line, or in buf once unquoted
	for i := 0; i < n; i++ {
		c := line[i]
		switch c {
		case ' ', '\t':
			if inWord {
				if unquoted {
					spans = append(spans, wordSpan{start, len(buf), true})
				} else {
					spans = append(spans, wordSpan{start, i, false})
				}
				inWord = false
			}
			continue
		case '\n', '|', '&', ';', '<', '>', '(', ')', '*', '?', '[', '$', '`':
			return nil, true, nil
		case '#', '~':
			if !inWord {
				return nil, true, nil
			}
		case '{', '}', '!':
			if !inWord && (i+1 == n || line[i+1] == ' ' || line[i+1] == '\t') {
				return nil, true, nil
			}
		case '\'', '"', '\\':
			// Quoting: from here on the word is built in buf.
			if !inWord {
				inWord, unquoted, start = true, true, len(buf)
			} else if !unquoted {
				unquoted = true
				s := len(buf)
				buf = append(buf, line[start:i]...)
				start = s
			}
			switch c {
			case '\'':
				j := strings.IndexByte(line[i+1:], '\'')
				if j < 0 {
					return nil, false, lex.SyntaxError("unterminated single quote", i)
				}
				buf = append(buf, line[i+1:i+1+j]...)
				i += j + 1
			case '\\':
				if i+1 == n {
					return nil, false, lex.SyntaxError("trailing backslash", i)
				}
				if line[i+1] == '\n' {
					return nil, true, nil
				}
				buf = append(buf, line[i+1])
				i++
			case '"':
				j := i + 1
				for ; ; j++ {
					if j >= n {
						return nil, false, lex.SyntaxError("unterminated double quote", i)
					}
					d := line[j]
					if d == '"' {
						break
					}
					switch d {
					case '$', '`':
						return nil, true, nil
					case '\\':
						if j+1 < n {
							switch line[j+1] {
							case '$', '`', '"', '\\':
								buf = append(buf, line[j+1])
								j++
								continue
							case '\n':
								return nil, true, nil
							}
						}
					}
					buf = append(buf, d)
				}
				i = j
			}
			continue
		}
		// A byte of a word.
		if !inWord {
			inWord, unquoted, start = true, false, i
		} else if unquoted {
			buf = append(buf, c)
		}
	}
	if inWord {
		if unquoted {
			spans = append(spans, wordSpan{start, len(buf), true})
		} else {
			spans = append(spans, wordSpan{start, n, false})
		}
	}
	if len(spans) == 0 {
		return nil, false, fmt.Errorf("%w: empty command line", ErrSyntax)
	}
	var s string
	if len(buf) > 0 {
		s = string(buf)
	}
	argv = make([]string, len(spans))
	for k, sp := range spans {
		if sp.unquoted {
			argv[k] = s[sp.start:sp.end]
		} else {
			argv[k] = line[sp.start:sp.end]
		}
	}
	return argv, false, nil
}

// startsWithAssignment reports whether a line's first word is a variable
// assignment: an unquoted NAME= ('A=1' and A'=1' are command names).
func startsWithAssignment(line string) bool {
	return shquote.IsAssignment(strings.TrimLeft(line, " \t"))
}

// Quote returns s quoted as one word for a POSIX shell: s itself when it is
// not empty and made only of the bytes A-Z a-z 0-9 _ @ % + = : , . / -
// (unless it starts like a VAR=value assignment, which a shell would take
// as one at the start of a command), else s in single quotes with each
// single quote written as quote, backslash, quote, quote:
//
//	it's  →  'it'\''s'
//
// Any bytes, invalid UTF-8 included, come back unchanged:
// ParseLine("echo " + Quote(s)) gives the argv ["echo", s] — except when s
// holds a NUL byte, which no command line can carry: Quote keeps it, and
// ParseLine rejects the line.
func Quote(s string) string { return shquote.Quote(s) }

// checkShellLine checks a line that needs a shell for unterminated quotes
// and a trailing backslash.
func checkShellLine(line string) error {
	lx := lex.New(line)
	for lx.I < len(line) && !lx.Heredoc {
		lx.Step()
	}
	return lx.Err()
}
