// Package shquote quotes words for a POSIX shell: the one quoting of the
// project, for command lines built for sh here and for remote login shells.
package shquote

import "strings"

// Quote returns s quoted as one word for a POSIX shell: s itself when it is
// not empty and made only of the bytes A-Z a-z 0-9 _ @ % + = : , . / -
// (unless it starts like a VAR=value assignment, which a shell would take
// as one at the start of a command), else s in single quotes with each
// single quote written as quote, backslash, quote, quote:
//
//	it's  →  'it'\''s'
//
// Any bytes, invalid UTF-8 included, come back unchanged. A NUL byte,
// which no command line can carry, is kept.
//
// For a remote login shell that is not a POSIX one: csh and tcsh read the
// same quoting alike for a word without a newline, and fish for a word
// without a backslash (fish's single quotes take \\ and \' as escapes).
// Paths, hashes and names with neither, which is what the ssh launcher
// sends, are read alike by all of them.
func Quote(s string) string {
	if isBare(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 2 + 3*strings.Count(s, "'"))
	SingleQuoteTo(&b, s)
	return b.String()
}

// QuoteTo writes Quote(s) to b.
func QuoteTo(b *strings.Builder, s string) {
	if isBare(s) {
		b.WriteString(s)
		return
	}
	SingleQuoteTo(b, s)
}

// QuoteWordTo writes s to b as QuoteTo does, and in single quotes also when
// it holds an = anywhere: a word that a shell must never read as an
// assignment, whatever precedes it (bash's array[k]=v, for one).
func QuoteWordTo(b *strings.Builder, s string) {
	if strings.IndexByte(s, '=') >= 0 {
		SingleQuoteTo(b, s)
		return
	}
	QuoteTo(b, s)
}

// SingleQuoteTo writes s to b in single quotes, whatever it holds, each
// single quote in it as quote, backslash, quote, quote.
func SingleQuoteTo(b *strings.Builder, s string) {
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

// Safe reports whether s is made only of bytes that a shell word holds
// unquoted with no meaning: A-Z a-z 0-9 _ @ % + = : , . / - (true for "").
func Safe(s string) bool {
	for i := 0; i < len(s); i++ {
		if !safeBytes[s[i]] {
			return false
		}
	}
	return true
}

// isBare reports whether Quote leaves s as it is.
func isBare(s string) bool {
	return s != "" && Safe(s) && !IsAssignment(s)
}

// safeBytes are the bytes a shell word can hold unquoted with no meaning.
var safeBytes = func() (t [256]bool) {
	for _, c := range []byte("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_@%+=:,./-") {
		t[c] = true
	}
	return t
}()

// IsAssignment reports whether a word starts with NAME=, which a shell
// takes as a variable assignment in front of a command.
func IsAssignment(s string) bool {
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
