// Package template parses the command templates of `futures map` ({}, {.},
// {1}, -I STR…) and expands them, quoted for the shell, into one job's command.
package template

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/futures-cli/futures/pool/shquote"
	"github.com/futures-cli/futures/runner/internal/lex"
	"github.com/futures-cli/futures/runner/shell"
)

// ErrTemplate is wrapped by the errors of a command template that cannot be
// used: no command, an empty one, an unterminated quote, a replacement
// string where it cannot be quoted safely, or one that asks for an input
// source there is not. It is a usage error: no job can run.
var ErrTemplate = errors.New("bad template")

// ErrFields is wrapped by the error of Expand for a record with fewer
// values than the template's {N} (or {name}) asks for, with
// Options.Fields: a line with too few fields fails its job.
var ErrFields = errors.New("too few fields")

// Vars are the values one job's template is expanded with.
type Vars struct {
	// Records are the input records of this job: one normally, several
	// with --chunksize or -X. Each record has one value per input source
	// (-a FILE repeated, ::: groups; zipped or combined), so all records
	// have the same length; with Options.Fields, its fields
	// (--colsep, --csv), whose number may differ from record to record.
	Records [][]string
	Seq     int // {#}, from 1
	Slot    int // {%}, from 1
}

// Template is a parsed command template of `futures map`. It is read-only
// once parsed: Expand may be called from several goroutines at once.
//
// Replacement strings (GNU parallel's):
//
//	{}     the value
//	{.}    the value without its extension: a.b/c.tar.gz → a.b/c.tar
//	{/}    the basename: everything after the last /; dir/ → empty
//	{//}   the dirname, as dirname(1): dir/sub/f → dir/sub, f → ., /f → /
//	{/.}   the basename without its extension
//	{#}    the job's sequence number, from 1
//	{%}    the job's worker slot, from 1
//	{N}    the value of the N-th input source (N from 1), and with the path
//	       forms {N.} {N/} {N//} {N/.}; with Options.Fields, the
//	       N-th field
//	{name} with Options.Columns (--header), the value of the
//	       column called name, and its path forms {name.} {name/}…
//
// An extension is the last dot of the last path element and what follows
// it, when that is not empty: file. and dir.d/file have none, and neither
// does a dot file (.bashrc stays .bashrc, where GNU parallel gives an
// empty string).
//
// Anything else in braces is not a replacement and stays as written: awk
// programs ('{print $1}'), {foo}, {a,b}, {0}, {01}; so does every { that
// follows a $ (${HOME}, ${1} stay for the shell) and, in the command-line
// form, anything inside ${…}, inside a comment, and a \{ escaped brace.
//
// With several input sources, {} is the values of the record joined by a
// space, and {N} is the N-th source of the record (asking for a source
// there is not is an ErrTemplate). With one input source and several
// records (a chunk), {N} is the N-th record's value (as with GNU parallel
// -N), empty when the chunk is shorter.
//
// A word of the template that holds {} or one of its path forms (or, with
// several input sources, {N}) is repeated once per record of a chunk, as
// GNU parallel -X repeats its context: pre-{}-post with records a and b
// gives the two words pre-a-post pre-b-post. In the command-line form, the
// word is the shell word around the replacement (quotes, $(…) included).
//
// A template with no replacement string at all gets every value of every
// record appended as an argument of its own, as xargs does; in the
// command-line form, after its last word (so `cmd | sort -k2 # note` gives
// `cmd | sort -k2 'v' # note`).
type Template struct {
	line     bool   // the command-line form
	text     string // line form: the template as given
	words    []tmplWord
	tail     string // line form: what follows the last word
	hasRepl  bool
	usesSlot bool
	maxSrc   int // the largest N of the {N} forms

	repl    string         // Options.Replace
	fields  bool           // Options.Fields
	columns map[string]int // Options.Columns: name → N
}

// Options change what ParseWith takes for a replacement
// string.
type Options struct {
	// Replace, when not empty, stands for the item in place of {}, which is
	// then literal (xargs -I STR, GNU parallel -I STR): with Replace "%",
	// "mv % %.bak" moves each item to its .bak. It is replaced wherever it
	// appears, inside words and quotes too, except after a $; the other
	// replacement strings ({.}, {#}, {1}…) stay. It may not hold a blank, a
	// quote, a backslash, $, # or a NUL byte.
	Replace string
	// Fields says that the values of a record are the fields of one input
	// line (--colsep, --csv, --header) rather than one value per input
	// source: {N} is the N-th value of each record, also when a record has
	// one value and in a chunk of several records (where, without Fields, a
	// record of one value makes {N} the N-th record's value); a record with
	// fewer values than the largest N fails to expand (ErrFields); a word
	// with {N} is repeated once per record of a chunk, as one with {} is.
	Fields bool
	// Columns name the values of a record, from 1 (--header: the first
	// line's fields): {name} is the value of the column called name, and
	// {name.} {name/} {name//} {name/.} its path forms (the first column,
	// when names repeat). The other replacement strings come first: a
	// column called 1 or # is not reachable by name. A {…} that names no
	// column stays literal, as any unknown {…} does. A name that is empty
	// or holds a brace, a quote, a backslash, $, #, a CR, an LF or a NUL
	// byte is not a column name.
	Columns []string
}

// tmplWord is one word of a template: a shell word of the command-line
// form (with the text before it, verbatim), or one argument of the argv form.
type tmplWord struct {
	gap       string
	segs      []segment
	perRecord bool // holds {} or a path form of it
	bySource  bool // holds an {N} form
}

type segKind uint8

const (
	segLiteral segKind = iota
	segValue           // {} {N} and their path forms
	segSeq             // {#}
	segSlot            // {%}
)

type pathOp uint8

const (
	opWhole     pathOp = iota // {}
	opNoExt                   // {.}
	opBase                    // {/}
	opDir                     // {//}
	opBaseNoExt               // {/.}
)

// quoteCtx is the quoting a replacement sits in, in the command-line form.
type quoteCtx uint8

const (
	ctxUnquoted     quoteCtx = iota
	ctxSingle                // '…{}…'
	ctxDouble                // "…{}…"
	ctxDollarSingle          // $'…{}…'
	ctxBracket               // [… {} …] starting a word, outside quotes: a glob bracket expression
)

type segment struct {
	kind segKind
	lit  string // segLiteral
	src  int    // segValue: 0 for {}, N for {N}
	op   pathOp
	ctx  quoteCtx
}

// Parse parses the COMMAND [ARG...] of `futures map`.
//
// A single argument is a command line (`futures map 'gzip -c {} > {}.gz'`):
// each value replaces its replacement string quoted for the shell, so that
// whatever it holds (a; rm -rf x, $(touch y), quotes, newlines) is only
// ever data, and the expanded line is then parsed like a line of submit by
// ParseLine (a line with no shell syntax still runs without a shell). The
// quoting suits where the replacement stands: bare, a value is
// single-quoted as Quote does (and also when it holds an =, so that it
// never reads as an assignment); inside '…', "…" or $'…' of the template,
// the quote is closed around it; inside a [ … ] that starts a word (a
// glob bracket expression: echo [{}]), it is always single-quoted, so
// that none of its bytes is a range, a negation or a ]. A value made only of safe bytes is
// written as it is. Numbers ({#}, {%}) are written as they are.
//
// Where a value could not be quoted safely, Parse fails (with an
// ErrTemplate): any replacement string in a here-document; one other than
// {#} and {%} inside `…` backquotes (use $(…)), in arithmetic — $((…)),
// bash's ((…)) and $[…], where quotes do not protect — or in a bash array
// subscript (name[…], which bash evaluates in name[…]=v and in the
// arguments of unset, read, printf -v, test -v; and a [ starting a word
// when its ] is followed by = or +=, as in a=([k]=v)), or after what shells read
// differently or this parser does not follow: a case statement inside
// $(…) or ( ), a quote inside ${…}, \' inside $'…', blanks inside name[…].
// Quoting makes a value one literal word; a command that evaluates its
// arguments still evaluates it (eval, sh -c, and in bash let, declare -i,
// and the operands of [[ … -eq … ]]).
//
// Several arguments are an argv, kept word for word as xargs keeps it
// (`futures map sh -c 'echo "$1"' _`): replacement strings are expanded
// inside each word with the values' bytes as they are, never quoted nor
// split again. (So sh -c '… {} …' runs the values as shell code; pass
// them as arguments, "$1", instead.)
//
// It fails, with an error wrapping ErrTemplate, when there is no command,
// when it is empty or blank, or (single argument) when it has an
// unterminated quote or a trailing backslash (the error wraps ErrSyntax too).
func Parse(args []string) (*Template, error) {
	return ParseWith(args, Options{})
}

// ParseWith parses args as Parse does, with the
// replacement strings that o changes. A Replace that holds a byte it may
// not is an ErrTemplate.
func ParseWith(args []string, o Options) (*Template, error) {
	if strings.ContainsAny(o.Replace, " \t\r\n'\"`\\$#\x00") {
		return nil, fmt.Errorf("%w: replacement string %q: it may not hold a blank, a quote, a backslash, $ or #", ErrTemplate, o.Replace)
	}
	proto := Template{repl: o.Replace, fields: o.Fields}
	for k, name := range o.Columns {
		if name == "" || strings.ContainsAny(name, "{}'\"`\\$#\r\n\x00") {
			continue
		}
		if proto.columns == nil {
			proto.columns = map[string]int{}
		}
		if _, seen := proto.columns[name]; !seen {
			proto.columns[name] = k + 1
		}
	}
	switch {
	case len(args) == 0:
		return nil, fmt.Errorf("%w: no command", ErrTemplate)
	case len(args) == 1:
		return parseLineTemplate(args[0], proto)
	case args[0] == "":
		return nil, fmt.Errorf("%w: empty command", ErrTemplate)
	}
	return parseArgvTemplate(args, proto), nil
}

// Arg parses s as the template of one argument with t's replacement
// strings (Options.Replace, Fields, Columns; a nil t has the defaults): how
// a --transferfile or --return name is expanded as the command is.
func (t *Template) Arg(s string) *Template {
	var proto Template
	if t != nil {
		proto = Template{repl: t.repl, fields: t.fields, columns: t.columns}
	}
	return parseArgvTemplate([]string{s}, proto)
}

// Replace returns Options.Replace of t: "" for {} (and for a nil t).
func (t *Template) Replace() string {
	if t == nil {
		return ""
	}
	return t.repl
}

// MinFields is how many values a record must have to expand: with
// Options.Fields, the largest N of the {N} forms; else 0.
func (t *Template) MinFields() int {
	if !t.fields {
		return 0
	}
	return t.maxSrc
}

// parseArgvTemplate parses args as the words of an argv template, with
// the replacement strings of proto.
func parseArgvTemplate(args []string, proto Template) *Template {
	t := &proto
	t.words = make([]tmplWord, len(args))
	for k, arg := range args {
		w := &t.words[k]
		lit := 0
		for i := 0; i < len(arg); i++ {
			seg, n, ok := t.match(arg, i)
			if !ok {
				continue
			}
			if i > lit {
				w.segs = append(w.segs, segment{kind: segLiteral, lit: arg[lit:i]})
			}
			w.segs = append(w.segs, seg)
			i += n - 1
			lit = i + 1
		}
		if lit < len(arg) {
			w.segs = append(w.segs, segment{kind: segLiteral, lit: arg[lit:]})
		}
		t.addWord(w)
	}
	return t
}

func parseLineTemplate(tmpl string, proto Template) (*Template, error) {
	if strings.Trim(tmpl, " \t\r\n") == "" {
		return nil, fmt.Errorf("%w: empty command", ErrTemplate)
	}
	if _, err := shell.ParseLine(tmpl); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTemplate, err)
	}
	t := &proto
	t.line, t.text = true, tmpl
	lx := lex.New(tmpl)
	n := len(tmpl)
	gap := 0 // start of the text between words
	lit := 0 // start of the pending literal of the current word
	inWord := false
	var w tmplWord
	endWord := func(i int) {
		if i > lit {
			w.segs = append(w.segs, segment{kind: segLiteral, lit: tmpl[lit:i]})
		}
		t.words = append(t.words, w)
		t.addWord(&t.words[len(t.words)-1])
		w = tmplWord{}
		gap, inWord = i, false
	}
	for lx.I < n && !lx.Heredoc {
		i := lx.I
		c := tmpl[i]
		if lx.Grouping == 0 && (isWordBreak(c) || c == '#' && lx.WordStart) {
			if inWord {
				endWord(i)
			}
			lx.Step()
			continue
		}
		if !inWord {
			inWord, lit = true, i
			w.gap = tmpl[gap:i]
		}
		if lx.Params == 0 {
			if seg, size, ok := t.match(tmpl, i); ok {
				ctx, err := replacementContext(lx, seg.kind, tmpl[i:i+size])
				if err != nil {
					return nil, err
				}
				if i > lit {
					w.segs = append(w.segs, segment{kind: segLiteral, lit: tmpl[lit:i]})
				}
				seg.ctx = ctx
				w.segs = append(w.segs, seg)
				lx.I += size
				lx.WordStart = false
				lit = lx.I
				continue
			}
		}
		lx.Step()
	}
	if lx.Heredoc {
		rest := tmpl[lx.I:]
		for i := 0; i < len(rest); i++ {
			if _, size, ok := t.match(rest, i); ok {
				return nil, fmt.Errorf("%w: %s in a here-document cannot be quoted safely", ErrTemplate, rest[i:i+size])
			}
		}
	}
	if inWord {
		endWord(lx.I)
	}
	if lx.AssignErr != nil {
		return nil, fmt.Errorf("%w: %w", ErrTemplate, lx.AssignErr)
	}
	if err := lx.Unclosed(); err != nil {
		return nil, fmt.Errorf("%w: %w", ErrTemplate, err)
	}
	if len(t.words) == 0 {
		return nil, fmt.Errorf("%w: no command in %q", ErrTemplate, tmpl)
	}
	t.tail = tmpl[gap:]
	return t, nil
}

// replacementContext tells how to quote a replacement where the lexer is,
// or why it cannot be. (Numbers need no quoting.)
func replacementContext(lx *lex.Lexer, kind segKind, repl string) (quoteCtx, error) {
	if kind != segValue {
		return ctxUnquoted, nil
	}
	switch {
	case lx.Backticks > 0:
		return 0, fmt.Errorf("%w: %s inside `…` cannot be quoted safely; use $(…)", ErrTemplate, repl)
	case lx.Arith > 0:
		return 0, fmt.Errorf("%w: %s inside $((…)), ((…)) or $[…] cannot be quoted safely (it is evaluated); pass it as an argument", ErrTemplate, repl)
	case lx.Subscripts > 0:
		return 0, fmt.Errorf("%w: %s inside name[…] cannot be quoted safely (bash evaluates an array subscript)", ErrTemplate, repl)
	case lx.Unsure:
		return 0, fmt.Errorf("%w: %s after a case inside $(…) or ( ), or a quote inside ${…}, cannot be quoted safely", ErrTemplate, repl)
	}
	if lx.Globs > 0 {
		// A glob unless ]= follows (checked when it closes).
		lx.MarkGlobs()
	}
	switch lx.Top() {
	case lex.FrameSingle:
		return ctxSingle, nil
	case lex.FrameDouble:
		return ctxDouble, nil
	case lex.FrameDollarSingle:
		return ctxDollarSingle, nil
	case lex.FrameSubscript:
		return ctxBracket, nil
	}
	return ctxUnquoted, nil
}

// isWordBreak reports whether an unquoted byte ends a shell word.
func isWordBreak(c byte) bool {
	switch c {
	case ' ', '\t', '\n', ';', '&', '|', '<', '>', '(', ')':
		return true
	}
	return false
}

func (t *Template) addWord(w *tmplWord) {
	for _, s := range w.segs {
		switch s.kind {
		case segValue:
			if s.src == 0 {
				w.perRecord = true
			} else {
				w.bySource = true
				t.maxSrc = max(t.maxSrc, s.src)
			}
		case segSlot:
			t.usesSlot = true
		case segLiteral:
			continue
		}
		t.hasRepl = true
	}
}

// match matches a replacement string at s[i:]: one of matchReplacement,
// the Replace string, a column name. None follows a $.
func (t *Template) match(s string, i int) (seg segment, n int, ok bool) {
	if i > 0 && s[i-1] == '$' {
		return segment{}, 0, false
	}
	s = s[i:]
	if t.repl != "" && strings.HasPrefix(s, t.repl) {
		return segment{kind: segValue}, len(t.repl), true
	}
	if s == "" || s[0] != '{' {
		return segment{}, 0, false
	}
	if seg, n, ok := matchReplacement(s); ok && (t.repl == "" || n != 2) { // with Replace, {} is literal
		return seg, n, true
	}
	if t.columns == nil {
		return segment{}, 0, false
	}
	end := strings.IndexByte(s, '}')
	if end < 0 {
		return segment{}, 0, false
	}
	name := s[1:end]
	if k, ok := t.columns[name]; ok {
		return segment{kind: segValue, src: k}, end + 1, true
	}
	for _, p := range []struct {
		suffix string
		op     pathOp
	}{{"/.", opBaseNoExt}, {"//", opDir}, {"/", opBase}, {".", opNoExt}} {
		if k, ok := t.columns[strings.TrimSuffix(name, p.suffix)]; ok && strings.HasSuffix(name, p.suffix) {
			return segment{kind: segValue, src: k, op: p.op}, end + 1, true
		}
	}
	return segment{}, 0, false
}

// matchReplacement matches a replacement string at the start of s, which
// starts with {.
func matchReplacement(s string) (seg segment, n int, ok bool) {
	j := 1
	for j < len(s) && j <= 9 && '0' <= s[j] && s[j] <= '9' {
		j++
	}
	src := 0
	if j > 1 {
		if s[1] == '0' {
			return segment{}, 0, false
		}
		src, _ = strconv.Atoi(s[1:j])
	} else if len(s) >= 3 && s[2] == '}' {
		switch s[1] {
		case '#':
			return segment{kind: segSeq}, 3, true
		case '%':
			return segment{kind: segSlot}, 3, true
		}
	}
	rest := s[j:]
	seg = segment{kind: segValue, src: src}
	switch {
	case strings.HasPrefix(rest, "}"):
		seg.op, n = opWhole, 1
	case strings.HasPrefix(rest, ".}"):
		seg.op, n = opNoExt, 2
	case strings.HasPrefix(rest, "/}"):
		seg.op, n = opBase, 2
	case strings.HasPrefix(rest, "//}"):
		seg.op, n = opDir, 3
	case strings.HasPrefix(rest, "/.}"):
		seg.op, n = opBaseNoExt, 3
	default:
		return segment{}, 0, false
	}
	return seg, j + n, true
}

// UsesSlot reports whether the template has {%}, so that expanding it needs
// the worker slot.
func (t *Template) UsesSlot() bool { return t.usesSlot }

// HasReplacement reports whether the template has a replacement string;
// without one, Expand appends the values as arguments.
func (t *Template) HasReplacement() bool { return t.hasRepl }

// PerRecord reports whether every record of a chunk adds to the command,
// when records have values from sources input sources: the template has
// no replacement string (the values are appended), or a word with {} or a
// path form of it, or (with several sources, or Fields) one with an {N}
// form. -X fills a command line only with such a template.
func (t *Template) PerRecord(sources int) bool {
	if !t.hasRepl {
		return true
	}
	for _, w := range t.words {
		if w.perRecord || w.bySource && (sources > 1 || t.fields) {
			return true
		}
	}
	return false
}

// CheckInputs reports, before any job runs, a {N} that could only ever be
// empty: an error wrapping ErrTemplate when N is past the number of input
// sources. sources is how many there are (0 for --pipe, whose jobs have
// no item); perJob how many records a job takes at most (1 normally, N
// with -n N, 0 when not known in advance, as with -X). With one source
// and several records per job, {N} is the N-th record of the job (GNU
// parallel -N), so it is checked against perJob instead; the last job of
// the input may still have fewer records, and then {N} is empty, as in
// GNU parallel. With Options.Fields the count comes from each
// line, and is checked per job instead (ErrFields).
func (t *Template) CheckInputs(sources, perJob int) error {
	if t.fields || t.maxSrc == 0 {
		return nil
	}
	switch {
	case sources == 0:
		return fmt.Errorf("%w: {%d}, but --pipe jobs have no input item (their stdin is the block)", ErrTemplate, t.maxSrc)
	case sources > 1 && t.maxSrc > sources:
		return fmt.Errorf("%w: {%d}, but there are only %d input sources", ErrTemplate, t.maxSrc, sources)
	case sources == 1 && perJob == 1 && t.maxSrc > 1:
		return fmt.Errorf("%w: {%d}, but there is only 1 input source", ErrTemplate, t.maxSrc)
	case sources == 1 && perJob > 1 && t.maxSrc > perJob:
		return fmt.Errorf("%w: {%d}, but there is only 1 input source and -n %d puts at most %d items in a command", ErrTemplate, t.maxSrc, perJob, perJob)
	}
	return nil
}

// Expand returns the command of one job. It fails with an error wrapping
// ErrTemplate when v has no record or the template asks for an input source
// that the records do not have (the same for every job: a usage error), and
// with one wrapping ErrSyntax when a value holds a NUL byte, which no
// command can carry (that job's failure). In the command-line form the
// returned Command has its Line even when Expand fails.
func (t *Template) Expand(v Vars) (shell.Command, error) {
	if len(v.Records) == 0 {
		return shell.Command{}, fmt.Errorf("%w: no input to expand", ErrTemplate)
	}
	nsrc := len(v.Records[0])
	if t.fields {
		for _, rec := range v.Records {
			if len(rec) < t.maxSrc {
				return shell.Command{}, fmt.Errorf("%w: the template needs %d, the line has %d", ErrFields, t.maxSrc, len(rec))
			}
		}
	} else if nsrc > 1 && t.maxSrc > nsrc {
		return shell.Command{}, fmt.Errorf("%w: {%d} but only %d input sources", ErrTemplate, t.maxSrc, nsrc)
	}
	// multi: {N} is the N-th value of each record, not the N-th record.
	multi := nsrc > 1 || t.fields
	if t.line {
		return t.expandLine(v, multi)
	}
	return t.expandArgv(v, multi)
}

// reps is how many times a word is written for v.
func (w *tmplWord) reps(v Vars, multi bool) int {
	if len(v.Records) > 1 && (w.perRecord || w.bySource && multi) {
		return len(v.Records)
	}
	return 1
}

// sourceValue is the value of {N} (n ≥ 1) in record r.
func sourceValue(v Vars, multi bool, r, n int) string {
	if !multi {
		if n <= len(v.Records) && len(v.Records[n-1]) > 0 {
			return v.Records[n-1][0]
		}
		return ""
	}
	if rec := v.Records[r]; n <= len(rec) {
		return rec[n-1]
	}
	return ""
}

func valuesSize(v Vars) int {
	size := 0
	for _, rec := range v.Records {
		for _, s := range rec {
			size += len(s) + 3
		}
	}
	return size
}

func writeInt(b *strings.Builder, n int) {
	var buf [20]byte
	b.Write(strconv.AppendInt(buf[:0], int64(n), 10))
}

func (t *Template) expandLine(v Vars, multi bool) (shell.Command, error) {
	var b strings.Builder
	b.Grow(len(t.text) + 2*valuesSize(v) + 16)
	if !t.hasRepl {
		// After the last word: before a comment or a here-document's
		// body, which would swallow the values (or be escaped by them).
		b.WriteString(t.text[:len(t.text)-len(t.tail)])
		for _, rec := range v.Records {
			for _, s := range rec {
				b.WriteByte(' ')
				shquote.QuoteWordTo(&b, s)
			}
		}
		b.WriteString(t.tail)
	} else {
		for wi := range t.words {
			w := &t.words[wi]
			b.WriteString(w.gap)
			reps := w.reps(v, multi)
			for r := 0; r < reps; r++ {
				if r > 0 {
					b.WriteByte(' ')
				}
				for si := range w.segs {
					s := &w.segs[si]
					switch s.kind {
					case segLiteral:
						b.WriteString(s.lit)
					case segSeq:
						writeInt(&b, v.Seq)
					case segSlot:
						writeInt(&b, v.Slot)
					case segValue:
						writeLineValue(&b, s, v, multi, r)
					}
				}
			}
		}
		b.WriteString(t.tail)
	}
	line := b.String()
	c, err := shell.ParseLine(line)
	if err != nil {
		return shell.Command{Line: line}, err
	}
	return c, nil
}

func writeLineValue(b *strings.Builder, s *segment, v Vars, multi bool, r int) {
	if s.src != 0 {
		writeQuotedIn(b, applyPath(sourceValue(v, multi, r, s.src), s.op), s.ctx)
		return
	}
	rec := v.Records[r]
	if s.ctx == ctxUnquoted || len(rec) == 1 {
		// Bare, several values are several words.
		for k, val := range rec {
			if k > 0 {
				b.WriteByte(' ')
			}
			writeQuotedIn(b, applyPath(val, s.op), s.ctx)
		}
		return
	}
	// Inside quotes, they are one.
	writeQuotedIn(b, joinPaths(rec, s.op), s.ctx)
}

func joinPaths(rec []string, op pathOp) string {
	var b strings.Builder
	for k, val := range rec {
		if k > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(applyPath(val, op))
	}
	return b.String()
}

// writeQuotedIn writes s quoted for where it stands in the template.
func writeQuotedIn(b *strings.Builder, s string, ctx quoteCtx) {
	if ctx == ctxBracket {
		// Always quoted: bare, a-z would be a range, ! or ^ a negation.
		shquote.SingleQuoteTo(b, s)
		return
	}
	if ctx == ctxUnquoted {
		shquote.QuoteWordTo(b, s)
		return
	}
	if shquote.Safe(s) { // the empty string too: the template's quotes make the word
		b.WriteString(s)
		return
	}
	switch ctx {
	case ctxSingle: // close ', quote, reopen '
		b.WriteByte('\'')
		shquote.QuoteTo(b, s)
		b.WriteByte('\'')
	case ctxDouble: // close ", quote, reopen "
		b.WriteByte('"')
		shquote.QuoteTo(b, s)
		b.WriteByte('"')
	case ctxDollarSingle: // close $', quote, reopen $'
		b.WriteByte('\'')
		shquote.QuoteTo(b, s)
		b.WriteString("$'")
	}
}

func (t *Template) expandArgv(v Vars, multi bool) (shell.Command, error) {
	argv := make([]string, 0, len(t.words)+len(v.Records)*len(v.Records[0]))
	for wi := range t.words {
		w := &t.words[wi]
		switch {
		case len(w.segs) == 0:
			argv = append(argv, "")
			continue
		case len(w.segs) == 1 && w.segs[0].kind == segLiteral:
			argv = append(argv, w.segs[0].lit)
			continue
		}
		reps := w.reps(v, multi)
		for r := 0; r < reps; r++ {
			if len(w.segs) == 1 && w.segs[0].kind == segValue && (w.segs[0].src != 0 || len(v.Records[r]) == 1) {
				s := &w.segs[0]
				var val string
				if s.src != 0 {
					val = sourceValue(v, multi, r, s.src)
				} else if rec := v.Records[r]; len(rec) > 0 {
					val = rec[0]
				}
				argv = append(argv, applyPath(val, s.op))
				continue
			}
			var b strings.Builder
			for si := range w.segs {
				s := &w.segs[si]
				switch s.kind {
				case segLiteral:
					b.WriteString(s.lit)
				case segSeq:
					writeInt(&b, v.Seq)
				case segSlot:
					writeInt(&b, v.Slot)
				case segValue:
					if s.src != 0 {
						b.WriteString(applyPath(sourceValue(v, multi, r, s.src), s.op))
						continue
					}
					for k, val := range v.Records[r] {
						if k > 0 {
							b.WriteByte(' ')
						}
						b.WriteString(applyPath(val, s.op))
					}
				}
			}
			argv = append(argv, b.String())
		}
	}
	if !t.hasRepl {
		for _, rec := range v.Records {
			argv = append(argv, rec...)
		}
	}
	size := 0
	for _, a := range argv {
		size += len(a) + 3
	}
	var b strings.Builder
	b.Grow(size)
	for k, a := range argv {
		if i := strings.IndexByte(a, 0); i >= 0 {
			return shell.Command{}, fmt.Errorf("%w: NUL byte in argument %d (an argument cannot hold one)", shell.ErrSyntax, k)
		}
		if k > 0 {
			b.WriteByte(' ')
		}
		shquote.QuoteTo(&b, a)
	}
	return shell.Command{Line: b.String(), Argv: argv}, nil
}

func applyPath(s string, op pathOp) string {
	switch op {
	case opNoExt:
		return trimExt(s)
	case opBase:
		return baseName(s)
	case opDir:
		return dirName(s)
	case opBaseNoExt:
		return trimExt(baseName(s))
	}
	return s
}

// trimExt removes the extension of the last path element: its last dot and
// what follows, when that is not empty and the dot does not start the
// element.
func trimExt(s string) string {
	dot := strings.LastIndexByte(s, '.')
	if dot > strings.LastIndexByte(s, '/')+1 && dot < len(s)-1 {
		return s[:dot]
	}
	return s
}

// baseName is what follows the last slash (GNU parallel's s:.*/::).
func baseName(s string) string {
	return s[strings.LastIndexByte(s, '/')+1:]
}

// dirName is dirname(1): trailing slashes are ignored, "." when there is no
// slash, "/" for the root.
func dirName(s string) string {
	i := len(s)
	for i > 0 && s[i-1] == '/' {
		i--
	}
	if i == 0 {
		if s == "" {
			return "."
		}
		return "/"
	}
	j := strings.LastIndexByte(s[:i], '/')
	if j < 0 {
		return "."
	}
	for j > 0 && s[j-1] == '/' {
		j--
	}
	if j == 0 {
		return "/"
	}
	return s[:j]
}
