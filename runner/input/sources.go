package input

import (
	"errors"
	"fmt"
	"strings"
)

// Group is one group of map's arguments after COMMAND: a ::: ITEM...
// group, one input source of its items, or a :::: FILE... group (Files),
// one input source per FILE.
type Group struct {
	Files bool
	Args  []string
}

// Sources say where map's items come from and how they are read: each -a
// FILE, then each group in order, is an input source; with none, stdin.
type Sources struct {
	ArgFiles []string // -a FILEs ("-": stdin)
	Groups   []Group  // the ::: and :::: groups, in order
	// Delim separates the items of a FILE (::: items are arguments).
	Delim byte
	// Colsep splits each item into fields at this regular expression
	// (--colsep); with CSV, it is the field separator (one character; ""
	// is ',').
	Colsep string
	// CSV reads each source as CSV (--csv): a record, whose quoted fields
	// may hold separators and newlines, gives the fields.
	CSV bool
	// Header is how many lines at the start of each source name its
	// columns (--header) rather than hold items.
	Header int
}

// Opener opens the FILE name ("-": stdin) as one named Input; close closes
// what it opened. (*Files).OpenNamed is one.
type Opener func(name string) (in Input, close func(), err error)

// Open opens the input sources with open, all of them before anything
// runs, and returns the records of each, in order, and the names of the
// columns that their header lines give (none when Header is 0). A ::: group
// of several is named "::: group K" in messages. close closes what was
// opened; on an error, Open has closed it. The errors are those of open
// and of the settings: a bad Colsep, a :::: group without a FILE, stdin
// twice (ErrStdinTwice), a header that cannot be read.
func (s Sources) Open(open Opener) (recs []Records, columns []string, close func(), err error) {
	var closers []func()
	closeAll := func() {
		for _, c := range closers {
			c()
		}
	}
	defer func() {
		if err != nil {
			closeAll()
		}
	}()
	var split func(string) ([]string, error)
	var comma rune
	switch {
	case s.CSV:
		if comma, err = ParseCSVComma(s.Colsep); err != nil {
			return nil, nil, nil, err
		}
		split = SplitCSV(comma)
	case s.Colsep != "":
		re, err := ParseColsep(s.Colsep)
		if err != nil {
			return nil, nil, nil, err
		}
		split = SplitRegexp(re)
	}

	// The sources, in order: -a FILEs, then the groups.
	type source struct {
		file  string // a FILE or "-"; "" for items
		items []string
	}
	var sources []source
	for _, name := range s.ArgFiles {
		sources = append(sources, source{file: name})
	}
	for _, g := range s.Groups {
		if !g.Files {
			sources = append(sources, source{items: g.Args})
			continue
		}
		if len(g.Args) == 0 {
			return nil, nil, nil, errors.New(":::: needs one FILE or more")
		}
		for _, name := range g.Args {
			sources = append(sources, source{file: name})
		}
	}
	if len(sources) == 0 {
		sources = append(sources, source{file: "-"})
	}
	groups := 0 // ::: groups, for their names
	for _, src := range sources {
		if src.file == "" {
			groups++
		}
	}
	stdins, group := 0, 0
	for _, src := range sources {
		if src.file == "" {
			name := ":::"
			if group++; groups > 1 {
				name = fmt.Sprintf("::: group %d", group)
			}
			// Arguments cannot hold NUL, so NUL separates them without ambiguity.
			r := NewInputsReader([]Input{{Name: name, R: strings.NewReader(strings.Join(src.items, "\x00"))}}, 0)
			recs = append(recs, Items(r, split))
			continue
		}
		if src.file == "-" {
			if stdins++; stdins > 1 {
				return nil, nil, nil, errors.New("stdin (-) can be only one input source")
			}
		}
		in, closeIn, err := open(src.file)
		if err != nil {
			return nil, nil, nil, err
		}
		closers = append(closers, closeIn)
		if s.CSV {
			recs = append(recs, CSVInput(in, comma))
		} else {
			recs = append(recs, Items(NewInputsReader([]Input{in}, s.Delim), split))
		}
	}
	if s.Header > 0 {
		if columns, err = ReadHeader(recs, s.Header); err != nil {
			return nil, nil, nil, fmt.Errorf("cannot read input: %w", err)
		}
	}
	return recs, columns, closeAll, nil
}
