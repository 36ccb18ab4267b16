package input

import (
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/futures-cli/futures/runner/shell"
)

// ParseColsep compiles the --colsep regular expression (Go's RE2 syntax:
// ',', '\t', ' +', '[,;]'). One that matches the empty string would split
// an item into its characters, so it is refused ('|' is such a one: write
// '\|' for a literal bar).
func ParseColsep(s string) (*regexp.Regexp, error) {
	re, err := regexp.Compile(s)
	if err != nil {
		return nil, fmt.Errorf("--colsep %q: %w", s, err)
	}
	if re.MatchString("") {
		// Shell words, so that the advice can be typed as it is shown.
		return nil, fmt.Errorf("--colsep %s matches the empty string; to split at a literal %s, write --colsep %s", shell.Quote(s), s, shell.Quote(regexp.QuoteMeta(s)))
	}
	return re, nil
}

// SplitRegexp returns the splitter of --colsep: the fields of an item are
// what lies between the matches of re, empty ones included (a,,b has
// three fields; a line that does not match is one field).
func SplitRegexp(re *regexp.Regexp) func(item string) ([]string, error) {
	return func(item string) ([]string, error) { return re.Split(item, -1), nil }
}

// ParseCSVComma returns the field separator of --csv: ',' when colsep is
// empty, else colsep, which must be one character other than a double
// quote, CR or LF.
func ParseCSVComma(colsep string) (rune, error) {
	if colsep == "" {
		return ',', nil
	}
	r, size := utf8.DecodeRuneInString(colsep)
	if size != len(colsep) || r == utf8.RuneError || r == '"' || r == '\r' || r == '\n' || r == 0 {
		return 0, fmt.Errorf("--colsep %q with --csv: want one character (not a double quote, CR or LF)", colsep)
	}
	return r, nil
}

// SplitCSV returns the splitter of --csv for items that are each one CSV
// record (::: ITEM arguments): the fields, with quotes removed; a syntax
// error, or an item that holds more than one record, is an error.
func SplitCSV(comma rune) func(item string) ([]string, error) {
	return func(item string) ([]string, error) {
		cr := newCSVReader(strings.NewReader(item), comma)
		values, err := cr.Read()
		switch {
		case err == io.EOF: // only blank lines
			return []string{""}, nil
		case err != nil:
			return nil, csvError(err)
		}
		if _, err := cr.Read(); err != io.EOF {
			return nil, errors.New("bad CSV: more than one record in one item")
		}
		return values, nil
	}
}

// CSV returns the records of r read as CSV (RFC 4180, as encoding/csv
// reads it): fields separated by comma, quoted fields that hold the
// separator, doubled quotes and newlines; a record may span lines, so the
// CSV reader reads the stream itself, not its lines. Records may have
// different numbers of fields; blank lines are skipped. A record's line
// is where it starts. A syntax error is a *RecordError for that record,
// and reading goes on with the next line (an unterminated quote runs to
// the end of the input, as it would for any CSV reader). The input is
// streamed: one record is held at a time.
func CSV(r io.Reader, comma rune) Records {
	return CSVInput(Input{R: r}, comma)
}

// CSVInput is CSV of a named input: its records' places name it (Pos).
func CSVInput(in Input, comma rune) Records {
	return &csvRecords{cr: newCSVReader(in.R, comma), name: in.Name}
}

type csvRecords struct {
	cr   *csv.Reader
	name string
}

func newCSVReader(r io.Reader, comma rune) *csv.Reader {
	cr := csv.NewReader(r)
	cr.Comma = comma
	cr.FieldsPerRecord = -1
	return cr
}

func (c *csvRecords) Next() ([]string, Pos, error) {
	values, err := c.cr.Read()
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			pos := Pos{Name: c.name, Line: pe.StartLine}
			return nil, pos, &RecordError{Pos: pos, Err: csvError(err)}
		}
		return nil, Pos{Name: c.name}, err
	}
	line, _ := c.cr.FieldPos(0)
	return values, Pos{Name: c.name, Line: line}, nil
}

// csvError says what is wrong with a CSV record, where in it.
func csvError(err error) error {
	var pe *csv.ParseError
	if !errors.As(err, &pe) {
		return err
	}
	if pe.Line != pe.StartLine {
		return fmt.Errorf("bad CSV: %w (line %d, column %d)", pe.Err, pe.Line, pe.Column)
	}
	return fmt.Errorf("bad CSV: %w (column %d)", pe.Err, pe.Column)
}
