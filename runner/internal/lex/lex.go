// Package lex follows the quoting and nesting of a POSIX shell command
// line: the lexer that runner/shell and runner/template share (quoting is pool/shquote).
package lex

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

// SyntaxError returns an error wrapping ErrSyntax that names what is
// wrong and its byte offset.
func SyntaxError(what string, offset int) error {
	return fmt.Errorf("%w: %s at byte offset %d", ErrSyntax, what, offset)
}

// OnlyShellRuns reports whether a command's first word is something no
// program can do: a shell keyword, or a builtin that acts on the shell
// itself or has no program of its own on most systems.
func OnlyShellRuns(name string) bool {
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

// FrameKind is a nested context of shell syntax that a lexer is in.
type FrameKind uint8

const (
	FrameTop          FrameKind = iota // outside any frame
	FrameParen                         // ( … ): a subshell, a group, a case pattern
	FrameCmd                           // $( … )
	FrameParam                         // ${ … }, and { … } nested in it
	FrameSingle                        // ' … '
	FrameDouble                        // " … "
	FrameDollarSingle                  // $' … '
	FrameBacktick                      // ` … `
	FrameArith                         // $(( … )), and bash's (( … ))
	FrameArithBracket                  // bash's $[ … ]
	FrameSubscript                     // name[ … ] and [ … ] starting a word: bash's array subscripts, or globs
)

type lexFrame struct {
	kind FrameKind
	at   int  // byte offset of its opening
	dq   bool // a ${ } frame inside double quotes
	// glob: a FrameSubscript whose [ starts a word: a glob bracket
	// expression, unless its ] is followed by = or += (bash's [k]=v of a
	// compound assignment). value: a replacement string was found in it.
	glob, value bool
	// compound: a FrameParen that opens bash's compound assignment,
	// name=( … ) or name+=( … ), where a word [k]=v assigns to an element
	// (k evaluated) and may hold blanks: [ k ]=v.
	compound bool
}

// Lexer follows the quoting and nesting of a shell command line, one
// step at a time, without building anything: enough to find unterminated
// quotes and to tell in which quoting context a byte is. It knows POSIX sh
// lexing: quotes, escapes, $( ), $(( )), ${ }, backquotes, $' ', comments,
// and the start of a here-document (where it stops: see Heredoc); and of
// bash, (( )), $[ ] and the name[ ] of array assignments.
type Lexer struct {
	s     string
	I     int // next byte
	stack []lexFrame
	// WordStart: the next byte would start a word (a # there is a comment);
	// wordBegin: where the current unquoted word began.
	WordStart bool
	wordBegin int
	// heredocNext: a << was seen; Heredoc: a newline followed it, so the
	// rest of the line is (or may be) a here-document's body, which the
	// lexer does not follow.
	heredocNext, Heredoc bool
	// Unsure: a construct that shells read differently, or that this lexer
	// may misjudge, came before (a case inside $( ) or ( ), where a
	// pattern's ) closes nothing; a quote inside ${ }; \' inside $' ', which
	// dash does not know; blanks inside a[ ]), so a quoting context from
	// here on may be wrong.
	Unsure bool
	// Grouping counts the open frames that keep a word together (all but
	// ( )); Params, Backticks, Arith and Subscripts count those kinds
	// (Subscripts the name[ ones, Globs the word-start [ ones).
	Grouping, Params, Backticks, Arith, Subscripts, Globs int
	// AssignErr: a replacement string turned out to be in the subscript
	// of a [k]=v assignment (a glob frame closed by ]= or ]+=).
	AssignErr error
	// trailing: offset of a backslash that ends the line, or -1.
	trailing int
}

// New returns a lexer at the start of s.
func New(s string) *Lexer {
	return &Lexer{s: s, WordStart: true, trailing: -1}
}

// Top returns the innermost open frame, FrameTop when none is.
func (lx *Lexer) Top() FrameKind {
	if len(lx.stack) == 0 {
		return FrameTop
	}
	return lx.stack[len(lx.stack)-1].kind
}

func (lx *Lexer) push(k FrameKind) {
	lx.stack = append(lx.stack, lexFrame{kind: k, at: lx.I, dq: k == FrameParam && lx.inDouble()})
	switch k {
	case FrameParen:
		return
	case FrameParam:
		lx.Params++
	case FrameBacktick:
		lx.Backticks++
	case FrameArith, FrameArithBracket:
		lx.Arith++
	case FrameSubscript:
		lx.Subscripts++
	}
	lx.Grouping++
}

// pushGlob opens a FrameSubscript for a [ that starts a word.
func (lx *Lexer) pushGlob() {
	lx.stack = append(lx.stack, lexFrame{kind: FrameSubscript, at: lx.I, glob: true})
	lx.Globs++
	lx.Grouping++
}

// MarkGlobs records that a replacement string stands inside the open glob
// frames.
func (lx *Lexer) MarkGlobs() {
	for k := range lx.stack {
		if lx.stack[k].glob {
			lx.stack[k].value = true
		}
	}
}

func (lx *Lexer) pop() {
	f := lx.stack[len(lx.stack)-1]
	k := f.kind
	lx.stack = lx.stack[:len(lx.stack)-1]
	if f.glob {
		lx.Globs--
		lx.Grouping--
		return
	}
	switch k {
	case FrameParen:
		return
	case FrameParam:
		lx.Params--
	case FrameBacktick:
		lx.Backticks--
	case FrameArith, FrameArithBracket:
		lx.Arith--
	case FrameSubscript:
		lx.Subscripts--
	}
	lx.Grouping--
}

// escape skips a backslash and the byte it escapes.
func (lx *Lexer) escape() {
	if lx.I+1 >= len(lx.s) {
		lx.trailing = lx.I
		lx.I++
		return
	}
	lx.I += 2
}

// Step consumes the next byte (or an escape pair, or a comment, or the
// opening of a frame).
func (lx *Lexer) Step() {
	c := lx.s[lx.I]
	switch lx.Top() {
	case FrameSingle:
		if c == '\'' {
			lx.pop()
		}
		lx.I++
	case FrameDollarSingle:
		switch c {
		case '\\':
			if lx.I+1 < len(lx.s) && lx.s[lx.I+1] == '\'' {
				// Where $' is not known (dash), this ' ends the quote.
				lx.Unsure = true
			}
			lx.escape()
			return
		case '\'':
			lx.pop()
		}
		lx.I++
	case FrameBacktick:
		switch c {
		case '\\':
			lx.escape()
			return
		case '`':
			lx.pop()
		}
		lx.I++
	case FrameDouble:
		switch c {
		case '\\':
			lx.escape()
		case '"':
			lx.pop()
			lx.I++
		case '$':
			lx.dollar(true)
		case '`':
			lx.push(FrameBacktick)
			lx.I++
		default:
			lx.I++
		}
	case FrameParam:
		switch c {
		case '\\':
			lx.escape()
		case '}':
			lx.pop()
			lx.I++
		case '{':
			lx.push(FrameParam)
			lx.I++
		case '\'':
			lx.Unsure = true
			if !lx.inDouble() {
				lx.push(FrameSingle)
			}
			lx.I++
		case '"':
			lx.Unsure = true
			lx.push(FrameDouble)
			lx.I++
		case '$':
			lx.dollar(lx.inDouble())
		case '`':
			lx.push(FrameBacktick)
			lx.I++
		default:
			lx.I++
		}
	default:
		lx.unquoted(c)
	}
}

// inCompound reports whether the lexer is inside a compound assignment
// name=( … ), directly (not in a nested $( ) or quotes).
func (lx *Lexer) inCompound() bool {
	for k := len(lx.stack) - 1; k >= 0; k-- {
		switch f := lx.stack[k]; {
		case f.compound:
			return true
		case f.kind != FrameParen && f.kind != FrameSubscript:
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
func (lx *Lexer) inDouble() bool {
	if len(lx.stack) == 0 {
		return false
	}
	f := lx.stack[len(lx.stack)-1]
	return f.kind == FrameDouble || f.kind == FrameParam && f.dq
}

// dollar consumes a $ and what it opens.
func (lx *Lexer) dollar(inDouble bool) {
	if lx.I+1 < len(lx.s) {
		switch lx.s[lx.I+1] {
		case '{':
			lx.push(FrameParam)
			lx.I += 2
			return
		case '(':
			if lx.I+2 < len(lx.s) && lx.s[lx.I+2] == '(' {
				lx.push(FrameArith)
				lx.I += 3
				return
			}
			lx.push(FrameCmd)
			lx.I += 2
			lx.WordStart = true
			return
		case '[':
			lx.push(FrameArithBracket)
			lx.I += 2
			return
		case '\'':
			if !inDouble {
				lx.push(FrameDollarSingle)
				lx.I += 2
				return
			}
		}
	}
	lx.I++
}

// unquoted steps over a byte outside quotes: at the top, or in ( ), $( ),
// $(( )) or $[ ].
func (lx *Lexer) unquoted(c byte) {
	atStart := lx.WordStart
	lx.WordStart = false
	if atStart {
		lx.wordBegin = lx.I
	}
	s := lx.s
	if lx.Top() == FrameSubscript {
		switch c {
		case ']':
			if f := lx.stack[len(lx.stack)-1]; f.value && lx.AssignErr == nil &&
				(strings.HasPrefix(s[lx.I+1:], "=") || strings.HasPrefix(s[lx.I+1:], "+=")) {
				lx.AssignErr = fmt.Errorf("%s]= is an array assignment: a replacement string in its subscript cannot be quoted safely (bash evaluates it)", s[f.at:lx.I])
			}
			lx.pop()
			lx.I++
			return
		case ' ', '\t', '\n', '#', '|', ';', '&', '<', '>', '(', ')':
			// Where bash does not take a[ for an array (or sh reads it),
			// these end the word or start a comment: from here on the
			// lexer may be wrong.
			lx.Unsure = true
			if c != '(' && c != ')' {
				lx.I++
				return
			}
		}
	}
	if lx.Arith > 0 {
		switch k := lx.Top(); {
		case k == FrameArith && c == ')' && strings.HasPrefix(s[lx.I:], "))"):
			lx.pop()
			lx.I += 2
			return
		case k == FrameArithBracket && c == ']':
			lx.pop()
			lx.I++
			return
		case c == '<' || c == '#' || c == '\n':
			// Shift, base#number: no here-document nor comment.
			lx.I++
			return
		}
	}
	switch c {
	case ' ', '\t', ';', '&', '|', '>':
		lx.WordStart = true
	case '\n':
		lx.WordStart = true
		if lx.heredocNext {
			lx.Heredoc = true
		}
	case '<':
		lx.WordStart = true
		if strings.HasPrefix(s[lx.I:], "<<<") { // a here-string: a plain word follows
			lx.I += 3
			return
		}
		if strings.HasPrefix(s[lx.I:], "<<") {
			lx.heredocNext = true
			lx.I += 2
			return
		}
	case '(':
		if atStart && lx.Arith == 0 && strings.HasPrefix(s[lx.I:], "((") {
			lx.push(FrameArith)
			lx.I += 2
			return
		}
		lx.push(FrameParen)
		if !atStart && isCompoundAssignment(s[lx.wordBegin:lx.I]) {
			lx.stack[len(lx.stack)-1].compound = true
		}
		lx.WordStart = true
	case ')':
		if k := lx.Top(); k == FrameParen || k == FrameCmd {
			lx.pop()
		}
		lx.WordStart = true
	case '[':
		// bash reads a[…]= (and [k]=v in a compound assignment) as one
		// word up to the matching ], blanks and all.
		switch {
		case atStart && lx.I+1 < len(s) && strings.IndexByte(" \t\n[", s[lx.I+1]) < 0,
			atStart && lx.inCompound():
			lx.pushGlob()
		case !atStart && isName(s[lx.wordBegin:lx.I]):
			lx.push(FrameSubscript)
		}
	case '\\':
		lx.escape()
		return
	case '\'':
		lx.push(FrameSingle)
	case '"':
		lx.push(FrameDouble)
	case '`':
		lx.push(FrameBacktick)
	case '$':
		lx.dollar(false)
		return
	case '#':
		if atStart {
			if j := strings.IndexByte(s[lx.I:], '\n'); j >= 0 {
				lx.I += j
			} else {
				lx.I = len(s)
			}
			return
		}
	case 'c':
		if atStart && lx.Top() != FrameTop && strings.HasPrefix(s[lx.I:], "case") &&
			(lx.I+4 == len(s) || strings.IndexByte(" \t\n;", s[lx.I+4]) >= 0) {
			lx.Unsure = true
		}
	}
	lx.I++
}

// Err reports an unterminated quote (the innermost) or a trailing
// backslash, unless the lexer stopped at a here-document.
func (lx *Lexer) Err() error {
	if lx.Heredoc {
		return nil
	}
	for k := len(lx.stack) - 1; k >= 0; k-- {
		f := lx.stack[k]
		switch f.kind {
		case FrameSingle:
			return SyntaxError("unterminated single quote", f.at)
		case FrameDouble:
			return SyntaxError("unterminated double quote", f.at)
		case FrameDollarSingle:
			return SyntaxError("unterminated $' quote", f.at)
		case FrameBacktick:
			return SyntaxError("unterminated backquote", f.at)
		}
	}
	if lx.trailing >= 0 {
		return SyntaxError("trailing backslash", lx.trailing)
	}
	return nil
}

// Unclosed reports a $( ), ( ), ${ } or $(( )) left open at the end of
// the template: a syntax error of every shell, and where a template is
// Unclosed, what is appended to it (the items, when it has no {}) could
// land in a comment and change the command's structure.
func (lx *Lexer) Unclosed() error {
	if lx.Heredoc || lx.Unsure {
		return nil
	}
	for _, f := range lx.stack {
		switch f.kind {
		case FrameCmd, FrameParen, FrameParam, FrameArith, FrameArithBracket:
			end := f.at + 1
			for end < len(lx.s) && end < f.at+3 && strings.IndexByte("({[", lx.s[end]) >= 0 {
				end++
			}
			return SyntaxError(fmt.Sprintf("%s not closed", lx.s[f.at:end]), f.at)
		}
	}
	return nil
}
