package input

import (
	"errors"
	"fmt"
	"io"
	"strings"
)

// Records is an input source of map, read one record at a time. A record
// is the values of one input item: one value, or its fields with
// --colsep or --csv. Zip and Product combine several sources into one.
type Records interface {
	// Next returns the next record and where it starts (its input and
	// line), for error messages. At the end of the input it returns io.EOF, from then
	// on. A record that cannot be used (a CSV syntax error) is a
	// *RecordError: it fails its own job, and the next call reads on. Any
	// other error is a fault of the input (an unreadable file) and ends
	// the run.
	Next() (values []string, pos Pos, err error)
}

// Pos is where an input item or record starts: the name of its input
// (Input.Name) and its line there, from 1.
type Pos struct {
	Name string
	Line int
}

// String is how messages name the place: FILE:LINE, stdin:LINE,
// "::: item N" (an argument of a ::: group; "::: group K, item N" when
// there are several groups), or "input line N" for an unnamed input.
func (p Pos) String() string {
	switch {
	case p.Name == "":
		return fmt.Sprintf("input line %d", p.Line)
	case p.Name == ":::":
		return fmt.Sprintf("::: item %d", p.Line)
	case strings.HasPrefix(p.Name, ":::"):
		return fmt.Sprintf("%s, item %d", p.Name, p.Line)
	}
	return fmt.Sprintf("%s:%d", p.Name, p.Line)
}

// RecordError is an input record that cannot be made into a command: a CSV
// syntax error, a line with fewer fields than the template asks for, an
// item too long for any command line. It fails its own job, with this
// message; the other records run.
type RecordError struct {
	Source int // 1-based input source, when there are several; else 0
	Pos    Pos // where the record starts in that source
	Err    error
}

// Error names the record's place as Pos does; an unnamed input of
// several by its number: "input source 2, line 3: …".
func (e *RecordError) Error() string {
	if e.Source > 0 && e.Pos.Name == "" {
		return fmt.Sprintf("input source %d, line %d: %v", e.Source, e.Pos.Line, e.Err)
	}
	return fmt.Sprintf("%s: %v", e.Pos, e.Err)
}

func (e *RecordError) Unwrap() error { return e.Err }

// Items returns the records of the items of r. With split nil, each item
// is a record of one value; else split makes its values (SplitRegexp for
// --colsep, SplitCSV for --csv), and an error of split makes a
// *RecordError.
func Items(r *Reader, split func(item string) ([]string, error)) Records {
	return &items{r: r, split: split}
}

type items struct {
	r     *Reader
	split func(string) ([]string, error)
}

func (s *items) Next() ([]string, Pos, error) {
	item, line, err := s.r.Next()
	pos := Pos{Name: s.r.Name(), Line: line}
	if err != nil {
		return nil, pos, err
	}
	if s.split == nil {
		return []string{item}, pos, nil
	}
	values, err := s.split(item)
	if err != nil {
		return nil, pos, &RecordError{Pos: pos, Err: err}
	}
	return values, pos, nil
}

// Zip reads the records of several input sources, as Python's zip(*its)
// does: each call of Next reads one record from each source, in order,
// and returns their values one after the other (one value per source
// without --colsep), with the place of the first source's record. It
// returns io.EOF once any source is at its end (the shortest input
// decides; the records already read from the sources before it in that
// round are dropped) and from then on. A read error, or a *RecordError,
// is returned with the 1-based number of the source it came from (when
// there are several) and the line of that source; after a *RecordError,
// that round's records of the other sources are dropped too (still read,
// so that the sources stay in step).
func Zip(rs ...Records) Records { return &zip{rs: rs, done: len(rs) == 0} }

type zip struct {
	rs   []Records
	done bool
}

func (z *zip) Next() ([]string, Pos, error) {
	if z.done {
		return nil, Pos{}, io.EOF
	}
	var record []string
	var first Pos
	var bad *RecordError
	for k, r := range z.rs {
		values, line, err := r.Next()
		if err == io.EOF {
			z.done = true
			return nil, Pos{}, io.EOF
		}
		var re *RecordError
		switch {
		case errors.As(err, &re):
			if bad == nil {
				bad = z.named(k, re)
			}
			continue
		case err != nil:
			if len(z.rs) > 1 {
				err = fmt.Errorf("input source %d: %w", k+1, err)
			}
			return nil, line, err
		}
		if k == 0 {
			first = line
		}
		record = append(record, values...)
	}
	if bad != nil {
		return nil, bad.Pos, bad
	}
	return record, first, nil
}

// named returns re as an error of source k (0-based) of rs.
func (z *zip) named(k int, re *RecordError) *RecordError {
	if len(z.rs) < 2 {
		return re
	}
	named := *re
	named.Source = k + 1
	return &named
}

// Product reads the cartesian product of several input sources, as
// Python's itertools.product and GNU parallel's ::: groups do: every
// combination of one record of each source, the last source varying
// fastest (a b ⨯ 1 2: a 1, a 2, b 1, b 2); the values of a combination
// are those of its records, one after the other, and its line is that of
// the first source's record.
//
// The first source is streamed; the others are read whole, into memory,
// on the first call of Next (each record of theirs is used once per
// record of the first). When any source is empty, so is the product. A
// *RecordError of the first source is returned in its place; one of
// another source once, on the first call, and that record left out of the
// combinations. A read error ends the product.
func Product(rs ...Records) Records { return &product{rs: rs, done: len(rs) == 0} }

type product struct {
	rs     []Records
	loaded bool
	tables [][][]string   // the records of rs[1:]
	bad    []*RecordError // of rs[1:], returned first
	head   []string       // the current record of rs[0]
	line   Pos            // its place
	idx    []int          // the current combination of tables
	done   bool
}

func (p *product) Next() ([]string, Pos, error) {
	if p.done {
		return nil, Pos{}, io.EOF
	}
	if !p.loaded {
		if err := p.load(); err != nil {
			p.done = true
			return nil, Pos{}, err
		}
	}
	if len(p.bad) > 0 {
		re := p.bad[0]
		p.bad = p.bad[1:]
		return nil, re.Pos, re
	}
	for _, t := range p.tables {
		if len(t) == 0 {
			p.done = true
			return nil, Pos{}, io.EOF
		}
	}
	if p.head == nil {
		values, line, err := p.rs[0].Next()
		var re *RecordError
		switch {
		case err == io.EOF:
			p.done = true
			return nil, Pos{}, io.EOF
		case errors.As(err, &re):
			if len(p.rs) > 1 {
				named := *re
				named.Source = 1
				re = &named
			}
			return nil, re.Pos, re
		case err != nil:
			p.done = true
			if len(p.rs) > 1 {
				err = fmt.Errorf("input source 1: %w", err)
			}
			return nil, line, err
		}
		p.head, p.line = values, line
		clear(p.idx)
	}
	record := append([]string(nil), p.head...)
	for k, t := range p.tables {
		record = append(record, t[p.idx[k]]...)
	}
	line := p.line
	// The next combination: the last table turns fastest; when the first
	// wraps, the next record of the first source comes.
	k := len(p.idx) - 1
	for ; k >= 0; k-- {
		p.idx[k]++
		if p.idx[k] < len(p.tables[k]) {
			break
		}
		p.idx[k] = 0
	}
	if k < 0 {
		p.head = nil
	}
	return record, line, nil
}

// load reads every source but the first into memory.
func (p *product) load() error {
	p.loaded = true
	p.tables = make([][][]string, len(p.rs)-1)
	p.idx = make([]int, len(p.rs)-1)
	for k, r := range p.rs[1:] {
		for {
			values, _, err := r.Next()
			var re *RecordError
			switch {
			case err == io.EOF:
			case errors.As(err, &re):
				named := *re
				named.Source = k + 2
				p.bad = append(p.bad, &named)
				continue
			case err != nil:
				return fmt.Errorf("input source %d: %w", k+2, err)
			default:
				p.tables[k] = append(p.tables[k], values)
				continue
			}
			break
		}
	}
	return nil
}

// ReadHeader reads the first n records of each source (--header) and
// returns the values of the first one of each, one after the other: the
// names of the columns, as Zip and Product number them. A source shorter
// than n gives what it has. An error, a *RecordError included, is
// returned with the source it came from (when there are several).
func ReadHeader(rs []Records, n int) ([]string, error) {
	var names []string
	for k, r := range rs {
		for i := 0; i < n; i++ {
			values, _, err := r.Next()
			if err == io.EOF {
				break
			}
			var re *RecordError
			switch {
			case errors.As(err, &re) && len(rs) > 1:
				named := *re
				named.Source = k + 1
				err = &named
			case err != nil && re == nil && len(rs) > 1:
				err = fmt.Errorf("input source %d: %w", k+1, err)
			}
			if err != nil {
				return nil, fmt.Errorf("header: %w", err)
			}
			if i == 0 {
				names = append(names, values...)
			}
		}
	}
	return names, nil
}
