package runner

import (
	"errors"
	"fmt"
	"strings"
)

// ErrSyntax is wrapped by the errors of a command line that cannot be
// parsed: an unterminated quote, a trailing lone backslash, a NUL byte, an
// empty line. The message says what is wrong and at which byte offset
// (counted from 0).
var ErrSyntax = errors.New("syntax error")

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
		return Command{}, syntaxError("NUL byte (a command line cannot hold one)", i)
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
	if onlyShellRuns(argv[0]) || startsWithAssignment(line) {
		return Command{Line: line, Shell: true}, nil
	}
	return Command{Line: line, Argv: argv}, nil
}

func syntaxError(what string, offset int) error {
	return fmt.Errorf("%w: %s at byte offset %d", ErrSyntax, what, offset)
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
					return nil, false, syntaxError("unterminated single quote", i)
				}
				buf = append(buf, line[i+1:i+1+j]...)
				i += j + 1
			case '\\':
				if i+1 == n {
					return nil, false, syntaxError("trailing backslash", i)
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
						return nil, false, syntaxError("unterminated double quote", i)
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

// onlyShellRuns reports whether a command's first word is something no
// program can do: a shell keyword, or a builtin that acts on the shell
// itself or has no program of its own on most systems.
func onlyShellRuns(name string) bool {
	switch name {
	case "if", "then", "else", "elif", "fi", "case", "esac", "for", "select",
		"while", "until", "do", "done", "in", "function", "time", "[[", "]]",
		".", ":", "alias", "unalias", "bg", "fg", "jobs", "break", "continue",
		"cd", "command", "declare", "typeset", "local", "eval", "exec", "exit",
		"export", "readonly", "fc", "getopts", "hash", "read", "return", "set",
		"unset", "shift", "source", "times", "trap", "type", "ulimit", "umask",
		"wait":
		return true
	}
	return false
}

// startsWithAssignment reports whether a line's first word is a variable
// assignment: an unquoted NAME= ('A=1' and A'=1' are command names).
func startsWithAssignment(line string) bool {
	return isAssignment(strings.TrimLeft(line, " \t"))
}

// isName reports whether s is a shell variable name.
func isName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' && i > 0) {
			return false
		}
	}
	return s != ""
}

// isAssignment reports whether a word starts with NAME=, which the shell
// takes as a variable assignment in front of a command.
func isAssignment(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '=':
			return i > 0
		case c == '_' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z':
		case '0' <= c && c <= '9' && i > 0:
		default:
			return false
		}
	}
	return false
}

// safeBytes are the bytes a shell word can hold unquoted with no meaning.
var safeBytes = func() (t [256]bool) {
	for _, c := range []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_@%+=:,./-") {
		t[c] = true
	}
	return t
}()

func isSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		if !safeBytes[s[i]] {
			return false
		}
	}
	return true
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
func Quote(s string) string {
	if s != "" && isSafe(s) && !isAssignment(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 2 + 3*strings.Count(s, "'"))
	quoteTo(&b, s, false)
	return b.String()
}

// quoteTo writes Quote(s) to b; with quoteEq, also any s holding an =.
func quoteTo(b *strings.Builder, s string, quoteEq bool) {
	if s != "" && isSafe(s) && !isAssignment(s) && !(quoteEq && strings.IndexByte(s, '=') >= 0) {
		b.WriteString(s)
		return
	}
	singleQuoteTo(b, s)
}

// singleQuoteTo writes s in single quotes, each single quote in it as
// quote, backslash, quote, quote.
func singleQuoteTo(b *strings.Builder, s string) {
	b.WriteByte('\'')
	for {
		i := strings.IndexByte(s, '\'')
		if i < 0 {
			break
		}
		b.WriteString(s[:i])
		b.WriteString(`'\''`)
		s = s[i+1:]
	}
	b.WriteString(s)
	b.WriteByte('\'')
}

// checkShellLine checks a line that needs a shell for unterminated quotes
// and a trailing backslash.
func checkShellLine(line string) error {
	lx := newShellLexer(line)
	for lx.i < len(line) && !lx.heredoc {
		lx.step()
	}
	return lx.err()
}

// frameKind is a nested context of shell syntax that a lexer is in.
type frameKind uint8

const (
	frameTop          frameKind = iota
	frameParen                  // ( … ): a subshell, a group, a case pattern
	frameCmd                    // $( … )
	frameParam                  // ${ … }, and { … } nested in it
	frameSingle                 // ' … '
	frameDouble                 // " … "
	frameDollarSingle           // $' … '
	frameBacktick               // ` … `
	frameArith                  // $(( … )), and bash's (( … ))
	frameArithBracket           // bash's $[ … ]
	frameSubscript              // name[ … ] and [ … ] starting a word: bash's array subscripts, or globs
)

type lexFrame struct {
	kind frameKind
	at   int  // byte offset of its opening
	dq   bool // a ${ } frame inside double quotes
	// glob: a frameSubscript whose [ starts a word: a glob bracket
	// expression, unless its ] is followed by = or += (bash's [k]=v of a
	// compound assignment). value: a replacement string was found in it.
	glob, value bool
	// compound: a frameParen that opens bash's compound assignment,
	// name=( … ) or name+=( … ), where a word [k]=v assigns to an element
	// (k evaluated) and may hold blanks: [ k ]=v.
	compound bool
}

// shellLexer follows the quoting and nesting of a shell command line, one
// step at a time, without building anything: enough to find unterminated
// quotes and to tell in which quoting context a byte is. It knows POSIX sh
// lexing: quotes, escapes, $( ), $(( )), ${ }, backquotes, $' ', comments,
// and the start of a here-document (where it stops: see heredoc); and of
// bash, (( )), $[ ] and the name[ ] of array assignments.
type shellLexer struct {
	s     string
	i     int // next byte
	stack []lexFrame
	// wordStart: the next byte would start a word (a # there is a comment);
	// wordBegin: where the current unquoted word began.
	wordStart bool
	wordBegin int
	// heredocNext: a << was seen; heredoc: a newline followed it, so the
	// rest of the line is (or may be) a here-document's body, which the
	// lexer does not follow.
	heredocNext, heredoc bool
	// unsure: a construct that shells read differently, or that this lexer
	// may misjudge, came before (a case inside $( ) or ( ), where a
	// pattern's ) closes nothing; a quote inside ${ }; \' inside $' ', which
	// dash does not know; blanks inside a[ ]), so a quoting context from
	// here on may be wrong.
	unsure bool
	// grouping counts the open frames that keep a word together (all but
	// ( )); params, backticks, arith and subscripts count those kinds
	// (subscripts the name[ ones, globs the word-start [ ones).
	grouping, params, backticks, arith, subscripts, globs int
	// assignErr: a replacement string turned out to be in the subscript
	// of a [k]=v assignment (a glob frame closed by ]= or ]+=).
	assignErr error
	// trailing: offset of a backslash that ends the line, or -1.
	trailing int
}

func newShellLexer(s string) *shellLexer {
	return &shellLexer{s: s, wordStart: true, trailing: -1}
}

func (lx *shellLexer) top() frameKind {
	if len(lx.stack) == 0 {
		return frameTop
	}
	return lx.stack[len(lx.stack)-1].kind
}

func (lx *shellLexer) push(k frameKind) {
	lx.stack = append(lx.stack, lexFrame{kind: k, at: lx.i, dq: k == frameParam && lx.inDouble()})
	switch k {
	case frameParen:
		return
	case frameParam:
		lx.params++
	case frameBacktick:
		lx.backticks++
	case frameArith, frameArithBracket:
		lx.arith++
	case frameSubscript:
		lx.subscripts++
	}
	lx.grouping++
}

// pushGlob opens a frameSubscript for a [ that starts a word.
func (lx *shellLexer) pushGlob() {
	lx.stack = append(lx.stack, lexFrame{kind: frameSubscript, at: lx.i, glob: true})
	lx.globs++
	lx.grouping++
}

// markGlobs records that a replacement string stands inside the open glob
// frames.
func (lx *shellLexer) markGlobs() {
	for k := range lx.stack {
		if lx.stack[k].glob {
			lx.stack[k].value = true
		}
	}
}

func (lx *shellLexer) pop() {
	f := lx.stack[len(lx.stack)-1]
	k := f.kind
	lx.stack = lx.stack[:len(lx.stack)-1]
	if f.glob {
		lx.globs--
		lx.grouping--
		return
	}
	switch k {
	case frameParen:
		return
	case frameParam:
		lx.params--
	case frameBacktick:
		lx.backticks--
	case frameArith, frameArithBracket:
		lx.arith--
	case frameSubscript:
		lx.subscripts--
	}
	lx.grouping--
}

// escape skips a backslash and the byte it escapes.
func (lx *shellLexer) escape() {
	if lx.i+1 >= len(lx.s) {
		lx.trailing = lx.i
		lx.i++
		return
	}
	lx.i += 2
}

// step consumes the next byte (or an escape pair, or a comment, or the
// opening of a frame).
func (lx *shellLexer) step() {
	c := lx.s[lx.i]
	switch lx.top() {
	case frameSingle:
		if c == '\'' {
			lx.pop()
		}
		lx.i++
	case frameDollarSingle:
		switch c {
		case '\\':
			if lx.i+1 < len(lx.s) && lx.s[lx.i+1] == '\'' {
				// Where $' is not known (dash), this ' ends the quote.
				lx.unsure = true
			}
			lx.escape()
			return
		case '\'':
			lx.pop()
		}
		lx.i++
	case frameBacktick:
		switch c {
		case '\\':
			lx.escape()
			return
		case '`':
			lx.pop()
		}
		lx.i++
	case frameDouble:
		switch c {
		case '\\':
			lx.escape()
		case '"':
			lx.pop()
			lx.i++
		case '$':
			lx.dollar(true)
		case '`':
			lx.push(frameBacktick)
			lx.i++
		default:
			lx.i++
		}
	case frameParam:
		switch c {
		case '\\':
			lx.escape()
		case '}':
			lx.pop()
			lx.i++
		case '{':
			lx.push(frameParam)
			lx.i++
		case '\'':
			lx.unsure = true
			if !lx.inDouble() {
				lx.push(frameSingle)
			}
			lx.i++
		case '"':
			lx.unsure = true
			lx.push(frameDouble)
			lx.i++
		case '$':
			lx.dollar(lx.inDouble())
		case '`':
			lx.push(frameBacktick)
			lx.i++
		default:
			lx.i++
		}
	default:
		lx.unquoted(c)
	}
}

// inCompound reports whether the lexer is inside a compound assignment
// name=( … ), directly (not in a nested $( ) or quotes).
func (lx *shellLexer) inCompound() bool {
	for k := len(lx.stack) - 1; k >= 0; k-- {
		switch f := lx.stack[k]; {
		case f.compound:
			return true
		case f.kind != frameParen && f.kind != frameSubscript:
			return false
		}
	}
	return false
}

// isCompoundAssignment reports whether a word before a ( is name= or
// name+=: the ( opens bash's compound assignment.
func isCompoundAssignment(w string) bool {
	w, ok := strings.CutSuffix(w, "=")
	w = strings.TrimSuffix(w, "+")
	return ok && isName(w)
}

// inDouble reports whether the innermost quoting is double quotes (looking
// through ${ } frames).
func (lx *shellLexer) inDouble() bool {
	if len(lx.stack) == 0 {
		return false
	}
	f := lx.stack[len(lx.stack)-1]
	return f.kind == frameDouble || f.kind == frameParam && f.dq
}

// dollar consumes a $ and what it opens.
func (lx *shellLexer) dollar(inDouble bool) {
	if lx.i+1 < len(lx.s) {
		switch lx.s[lx.i+1] {
		case '{':
			lx.push(frameParam)
			lx.i += 2
			return
		case '(':
			if lx.i+2 < len(lx.s) && lx.s[lx.i+2] == '(' {
				lx.push(frameArith)
				lx.i += 3
				return
			}
			lx.push(frameCmd)
			lx.i += 2
			lx.wordStart = true
			return
		case '[':
			lx.push(frameArithBracket)
			lx.i += 2
			return
		case '\'':
			if !inDouble {
				lx.push(frameDollarSingle)
				lx.i += 2
				return
			}
		}
	}
	lx.i++
}

// unquoted steps over a byte outside quotes: at the top, or in ( ), $( ),
// $(( )) or $[ ].
func (lx *shellLexer) unquoted(c byte) {
	atStart := lx.wordStart
	lx.wordStart = false
	if atStart {
		lx.wordBegin = lx.i
	}
	s := lx.s
	if lx.top() == frameSubscript {
		switch c {
		case ']':
			if f := lx.stack[len(lx.stack)-1]; f.value && lx.assignErr == nil &&
				(strings.HasPrefix(s[lx.i+1:], "=") || strings.HasPrefix(s[lx.i+1:], "+=")) {
				lx.assignErr = fmt.Errorf("%s]= is an array assignment: a replacement string in its subscript cannot be quoted safely (bash evaluates it)", s[f.at:lx.i])
			}
			lx.pop()
			lx.i++
			return
		case ' ', '\t', '\n', '#', '|', ';', '&', '<', '>', '(', ')':
			// Where bash does not take a[ for an array (or sh reads it),
			// these end the word or start a comment: from here on the
			// lexer may be wrong.
			lx.unsure = true
			if c != '(' && c != ')' {
				lx.i++
				return
			}
		}
	}
	if lx.arith > 0 {
		switch k := lx.top(); {
		case k == frameArith && c == ')' && strings.HasPrefix(s[lx.i:], "))"):
			lx.pop()
			lx.i += 2
			return
		case k == frameArithBracket && c == ']':
			lx.pop()
			lx.i++
			return
		case c == '<' || c == '#' || c == '\n':
			// Shift, base#number: no here-document nor comment.
			lx.i++
			return
		}
	}
	switch c {
	case ' ', '\t', ';', '&', '|', '>':
		lx.wordStart = true
	case '\n':
		lx.wordStart = true
		if lx.heredocNext {
			lx.heredoc = true
		}
	case '<':
		lx.wordStart = true
		if strings.HasPrefix(s[lx.i:], "<<<") { // a here-string: a plain word follows
			lx.i += 3
			return
		}
		if strings.HasPrefix(s[lx.i:], "<<") {
			lx.heredocNext = true
			lx.i += 2
			return
		}
	case '(':
		if atStart && lx.arith == 0 && strings.HasPrefix(s[lx.i:], "((") {
			lx.push(frameArith)
			lx.i += 2
			return
		}
		lx.push(frameParen)
		if !atStart && isCompoundAssignment(s[lx.wordBegin:lx.i]) {
			lx.stack[len(lx.stack)-1].compound = true
		}
		lx.wordStart = true
	case ')':
		if k := lx.top(); k == frameParen || k == frameCmd {
			lx.pop()
		}
		lx.wordStart = true
	case '[':
		// bash reads a[…]= (and [k]=v in a compound assignment) as one
		// word up to the matching ], blanks and all.
		switch {
		case atStart && lx.i+1 < len(s) && strings.IndexByte(" \t\n[", s[lx.i+1]) < 0,
			atStart && lx.inCompound():
			lx.pushGlob()
		case !atStart && isName(s[lx.wordBegin:lx.i]):
			lx.push(frameSubscript)
		}
	case '\\':
		lx.escape()
		return
	case '\'':
		lx.push(frameSingle)
	case '"':
		lx.push(frameDouble)
	case '`':
		lx.push(frameBacktick)
	case '$':
		lx.dollar(false)
		return
	case '#':
		if atStart {
			if j := strings.IndexByte(s[lx.i:], '\n'); j >= 0 {
				lx.i += j
			} else {
				lx.i = len(s)
			}
			return
		}
	case 'c':
		if atStart && lx.top() != frameTop && strings.HasPrefix(s[lx.i:], "case") &&
			(lx.i+4 == len(s) || strings.IndexByte(" \t\n;", s[lx.i+4]) >= 0) {
			lx.unsure = true
		}
	}
	lx.i++
}

// err reports an unterminated quote (the innermost) or a trailing
// backslash, unless the lexer stopped at a here-document.
func (lx *shellLexer) err() error {
	if lx.heredoc {
		return nil
	}
	for k := len(lx.stack) - 1; k >= 0; k-- {
		f := lx.stack[k]
		switch f.kind {
		case frameSingle:
			return syntaxError("unterminated single quote", f.at)
		case frameDouble:
			return syntaxError("unterminated double quote", f.at)
		case frameDollarSingle:
			return syntaxError("unterminated $' quote", f.at)
		case frameBacktick:
			return syntaxError("unterminated backquote", f.at)
		}
	}
	if lx.trailing >= 0 {
		return syntaxError("trailing backslash", lx.trailing)
	}
	return nil
}
