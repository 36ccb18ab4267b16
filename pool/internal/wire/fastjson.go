package wire

import (
	"encoding/base64"
	"encoding/json"
	"strconv"
	"time"
	"unicode/utf8"

	"github.com/futures-cli/futures/pool/job"
)

// Fast paths for the JSON of the frames that every job sends: Job, Started
// and Outcome. encoding/json spends a few microseconds on each (reflection,
// a check of the whole payload before decoding it, and a nested Unmarshal
// for every wstr), which was half of what a worker spent on a job's round
// trip. The wire format does not change, and encoding/json stays the
// reference:
//
//   - appendJSON writes the very bytes that encoding/json (MarshalJSON)
//     writes; FuzzFastJSONEncoding checks it byte for byte.
//   - decodeFast takes the JSON that this package writes (an object with no
//     whitespace, known keys, and strings, integers, booleans and arrays of
//     strings as values) and gives up on anything else (a {"b64":…} string,
//     an unknown or misspelt key, a null, spaces: what another writer may
//     send), which Decode then hands to encoding/json. Where it does not
//     give up, it agrees with encoding/json; FuzzFastJSONDecoding checks it.

// jsonAppender is a frame payload that encodes itself without reflection.
type jsonAppender interface {
	// appendJSON appends the payload's JSON to b, or returns nil if it
	// cannot (encoding/json then says why).
	appendJSON(b []byte) []byte
}

// fastDecoder is a frame payload that decodes itself without reflection
// when the JSON is in this package's own form.
type fastDecoder interface {
	// decodeFast decodes p and returns true, or returns false, having
	// changed nothing, when p is not in the form it takes.
	decodeFast(p []byte) bool
}

// marshal encodes v, a frame's payload, as JSON.
func marshal(v any) ([]byte, error) {
	if a, ok := v.(jsonAppender); ok {
		if b := a.appendJSON(make([]byte, 0, 256)); b != nil {
			return b, nil
		}
	}
	return json.Marshal(v)
}

func (f JobFrame) appendJSON(b []byte) []byte {
	s := f.Spec
	if len(s.Transfer) > 0 || len(s.Return) > 0 || s.Cleanup {
		return nil // a job with files: encoding/json writes those fields
	}
	b = append(b, `{"id":`...)
	b = strconv.AppendUint(b, f.ID, 10)
	b = append(b, `,"line":`...)
	b = appendWstr(b, s.Line)
	if len(s.Argv) > 0 {
		b = append(b, `,"argv":`...)
		b = appendWstrs(b, s.Argv)
	}
	if s.Shell {
		b = append(b, `,"shell":true`...)
	}
	if len(s.ShellCmd) > 0 {
		b = append(b, `,"shell_cmd":`...)
		b = appendWstrs(b, s.ShellCmd)
	}
	if len(s.Env) > 0 {
		b = append(b, `,"env":`...)
		b = appendWstrs(b, s.Env)
	}
	if s.Dir != "" {
		b = append(b, `,"dir":`...)
		b = appendWstr(b, s.Dir)
	}
	if s.Grace != 0 {
		b = append(b, `,"grace_ns":`...)
		b = strconv.AppendInt(b, int64(s.Grace), 10)
	}
	if s.Refusable {
		b = append(b, `,"refusable":true`...)
	}
	return append(b, '}')
}

func (f StartedFrame) appendJSON(b []byte) []byte {
	b = append(b, `{"id":`...)
	b = strconv.AppendUint(b, f.ID, 10)
	b = append(b, `,"pid":`...)
	b = strconv.AppendInt(b, int64(f.PID), 10)
	return append(b, '}')
}

func (f OutcomeFrame) appendJSON(b []byte) []byte {
	o := f.Outcome
	b = append(b, `{"id":`...)
	b = strconv.AppendUint(b, f.ID, 10)
	b = append(b, `,"exit_code":`...)
	b = strconv.AppendInt(b, int64(o.ExitCode), 10)
	if o.Signal != "" {
		b = append(b, `,"signal":`...)
		b = appendString(b, o.Signal)
	}
	if o.Err != nil {
		b = append(b, `,"error":`...)
		b = appendWstr(b, o.Err.Error())
	}
	b = append(b, `,"start":"`...)
	b, err := o.Start.AppendText(b)
	if err != nil {
		return nil // a year past 9999, say: encoding/json reports it
	}
	b = append(b, `","duration_ns":`...)
	b = strconv.AppendInt(b, int64(o.Duration), 10)
	for _, d := range []struct {
		key string
		n   int64
	}{{`,"max_rss_kb":`, o.MaxRSSKB}, {`,"user_ns":`, int64(o.User)}, {`,"sys_ns":`, int64(o.Sys)}} {
		if d.n != 0 {
			b = append(b, d.key...)
			b = strconv.AppendInt(b, d.n, 10)
		}
	}
	if o.Canceled {
		b = append(b, `,"canceled":true`...)
	}
	if r := job.RefusalName(o.Refused); r != "" {
		b = append(b, `,"refused":`...)
		b = appendString(b, r)
	}
	if k := job.Kinds(o.Err); len(k) > 0 {
		b = append(b, `,"error_kinds":`...)
		b = appendStrings(b, k)
	}
	return append(b, '}')
}

// appendWstr appends s as wstr.MarshalJSON encodes it.
func appendWstr(b []byte, s string) []byte {
	if utf8.ValidString(s) {
		return appendString(b, s)
	}
	b = append(b, `{"b64":"`...)
	b = base64.StdEncoding.AppendEncode(b, []byte(s))
	return append(b, `"}`...)
}

// appendStrings appends ss as a JSON array of strings.
func appendStrings(b []byte, ss []string) []byte {
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendString(b, s)
	}
	return append(b, ']')
}

func appendWstrs(b []byte, ss []string) []byte {
	b = append(b, '[')
	for i, s := range ss {
		if i > 0 {
			b = append(b, ',')
		}
		b = appendWstr(b, s)
	}
	return append(b, ']')
}

// appendString appends s as a JSON string, escaped as encoding/json
// escapes it (HTML characters, U+2028 and U+2029 included; each byte that
// is not UTF-8 becomes U+FFFD).
func appendString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// jsonScan reads a flat JSON object in the form this package writes. Its
// methods report false, and the scan is then abandoned, at anything else.
type jsonScan struct {
	p []byte
	i int
}

// members calls member with each key of the object, which must read the
// key's value; it returns whether the whole of p was one such object.
func (s *jsonScan) members(member func(key string) bool) bool {
	if !s.byte('{') {
		return false
	}
	if s.byte('}') {
		return s.i == len(s.p)
	}
	for {
		key, ok := s.plainString()
		if !ok || !s.byte(':') || !member(key) {
			return false
		}
		if s.byte('}') {
			return s.i == len(s.p)
		}
		if !s.byte(',') {
			return false
		}
	}
}

// byte consumes c if it comes next.
func (s *jsonScan) byte(c byte) bool {
	if s.i < len(s.p) && s.p[s.i] == c {
		s.i++
		return true
	}
	return false
}

// token returns the string token that comes next, quotes included, and
// whether it holds an escape or bytes that are not UTF-8. It fails on a
// control character, which JSON does not allow in a string.
func (s *jsonScan) token() (tok []byte, plain, ok bool) {
	if s.i >= len(s.p) || s.p[s.i] != '"' {
		return nil, false, false
	}
	plain = true
	for j := s.i + 1; j < len(s.p); j++ {
		switch c := s.p[j]; {
		case c == '"':
			tok = s.p[s.i : j+1]
			s.i = j + 1
			return tok, plain && utf8.Valid(tok), true
		case c == '\\':
			plain = false
			j++ // the escaped byte; encoding/json checks the escape
		case c < 0x20:
			return nil, false, false
		}
	}
	return nil, false, false
}

// plainString reads a string with no escape in it: a key.
func (s *jsonScan) plainString() (string, bool) {
	tok, plain, ok := s.token()
	if !ok || !plain {
		return "", false
	}
	return string(tok[1 : len(tok)-1]), true
}

// string reads a string, as encoding/json decodes it.
func (s *jsonScan) string() (string, bool) {
	tok, plain, ok := s.token()
	if !ok {
		return "", false
	}
	if plain {
		return string(tok[1 : len(tok)-1]), true
	}
	var v string
	if json.Unmarshal(tok, &v) != nil {
		return "", false
	}
	return v, true
}

// strings reads an array of strings.
func (s *jsonScan) strings() ([]string, bool) {
	if !s.byte('[') {
		return nil, false
	}
	v := []string{}
	if s.byte(']') {
		return v, true
	}
	for {
		e, ok := s.string()
		if !ok {
			return nil, false
		}
		v = append(v, e)
		if s.byte(']') {
			return v, true
		}
		if !s.byte(',') {
			return nil, false
		}
	}
}

// digits reads an integer in JSON's form (no leading zero, no fraction or
// exponent), sign included.
func (s *jsonScan) digits() ([]byte, bool) {
	start := s.i
	s.byte('-')
	first := s.i
	for s.i < len(s.p) && '0' <= s.p[s.i] && s.p[s.i] <= '9' {
		s.i++
	}
	switch {
	case s.i == first, s.p[first] == '0' && s.i > first+1:
		return nil, false
	case s.i < len(s.p) && (s.p[s.i] == '.' || s.p[s.i] == 'e' || s.p[s.i] == 'E'):
		return nil, false
	}
	return s.p[start:s.i], true
}

func (s *jsonScan) int(bits int) (int64, bool) {
	d, ok := s.digits()
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseInt(string(d), 10, bits)
	return n, err == nil
}

func (s *jsonScan) uint() (uint64, bool) {
	d, ok := s.digits()
	if !ok {
		return 0, false
	}
	n, err := strconv.ParseUint(string(d), 10, 64)
	return n, err == nil
}

func (s *jsonScan) bool() (bool, bool) {
	for _, v := range []bool{true, false} {
		w := strconv.FormatBool(v)
		if len(s.p)-s.i >= len(w) && string(s.p[s.i:s.i+len(w)]) == w {
			s.i += len(w)
			return v, true
		}
	}
	return false, false
}

// duration reads an integer into d.
func (s *jsonScan) duration(d *time.Duration) bool {
	n, ok := s.int(64)
	*d = time.Duration(n)
	return ok
}

func (f *JobFrame) decodeFast(p []byte) bool {
	s := jsonScan{p: p}
	var w JobFrame
	ok := s.members(func(key string) (ok bool) {
		switch key {
		case "id":
			w.ID, ok = s.uint()
		case "line":
			w.Line, ok = s.string()
		case "argv":
			w.Argv, ok = s.strings()
		case "shell":
			w.Shell, ok = s.bool()
		case "shell_cmd":
			w.ShellCmd, ok = s.strings()
		case "env":
			w.Env, ok = s.strings()
		case "dir":
			w.Dir, ok = s.string()
		case "grace_ns":
			ok = s.duration(&w.Grace)
		case "refusable":
			w.Refusable, ok = s.bool()
		}
		return ok
	})
	if ok {
		*f = w
	}
	return ok
}

func (f *StartedFrame) decodeFast(p []byte) bool {
	s := jsonScan{p: p}
	w := *f // encoding/json leaves the fields p does not name as they are
	ok := s.members(func(key string) (ok bool) {
		switch key {
		case "id":
			w.ID, ok = s.uint()
		case "pid":
			var n int64
			n, ok = s.int(strconv.IntSize)
			w.PID = int(n)
		}
		return ok
	})
	if ok {
		*f = w
	}
	return ok
}

func (f *OutcomeFrame) decodeFast(p []byte) bool {
	s := jsonScan{p: p}
	var w OutcomeFrame
	var msg, refused string
	var kinds []string
	ok := s.members(func(key string) (ok bool) {
		switch key {
		case "id":
			w.ID, ok = s.uint()
		case "exit_code":
			var n int64
			n, ok = s.int(strconv.IntSize)
			w.ExitCode = int(n)
		case "signal":
			w.Signal, ok = s.string()
		case "error":
			msg, ok = s.string()
		case "start":
			tok, plain, tokOK := s.token()
			ok = tokOK && plain && w.Start.UnmarshalJSON(tok) == nil
		case "duration_ns":
			ok = s.duration(&w.Duration)
		case "max_rss_kb":
			w.MaxRSSKB, ok = s.int(64)
		case "user_ns":
			ok = s.duration(&w.User)
		case "sys_ns":
			ok = s.duration(&w.Sys)
		case "canceled":
			w.Canceled, ok = s.bool()
		case "refused":
			refused, ok = s.string()
		case "error_kinds":
			kinds, ok = s.strings()
		}
		return ok
	})
	if ok {
		w.Err = job.FromWire(msg, kinds)
		w.Refused = job.RefusalErrno(refused)
		*f = w
	}
	return ok
}
