package input

import (
	"errors"
	"fmt"
	"io"

	"github.com/futures-cli/futures/runner/shell"
	"github.com/futures-cli/futures/runner/template"
)

// MapOptions say how MapSource makes jobs of records.
type MapOptions struct {
	// Chunksize is the most records one job takes (-n, --chunksize); 0 or
	// 1: one, or with Fill as many as fit.
	Chunksize int
	// Fill (-X) puts in each job as many records as fit Limits, as xargs
	// does. When the input ends, the records left are spread evenly over
	// up to Workers jobs, as GNU parallel -X does, so that a short input
	// still runs in parallel.
	Fill bool
	// Limits bound every job's command: a record goes into a job of
	// several (Fill, or Chunksize > 1) while the command stays within
	// them, and a record that alone makes a command over them fails its
	// own job, however many records a job takes. Zero: SystemArgLimits().
	Limits shell.ArgLimits
	// Shell is what a command line that needs a shell runs under
	// (Options.Shell), counted in its size; nil: /bin/sh -c.
	Shell []string
	// Workers is the number of workers, for Fill; 0: 1; NoLimit (-j 0):
	// one record a job, as GNU parallel -j 0 -X spreads them.
	Workers int
}

// measureSlot stands for the worker slot when a command is measured: its
// digits are more than a real slot has.
const measureSlot = 1 << 20

// MapSource makes jobs of the records of recs, each the template t applied
// to its records: one record per job, or with o.Chunksize or o.Fill
// several. A record that cannot be used fails in a job of its own, with a
// message naming its line, and the others run: a *RecordError of recs, a
// record with fewer fields than t needs (template.Options.Fields), and
// one that alone makes a command over o.Limits ("argument list too long":
// the kernel would refuse to start it). An error of recs other than a
// *RecordError ends the source.
func MapSource(t *template.Template, recs Records, o MapOptions) Source {
	if o.Chunksize < 1 {
		o.Chunksize = 1
		if o.Fill {
			o.Chunksize = 0
		}
	}
	m := &mapSource{t: t, recs: recs, o: o, sized: o.Fill || o.Chunksize > 1}
	if o.Limits == (shell.ArgLimits{}) {
		m.o.Limits = shell.SystemArgLimits()
	}
	if len(m.o.Shell) == 0 {
		m.o.Shell = shell.DefaultShell
	}
	return m.job
}

type mapSource struct {
	t      *template.Template
	recs   Records
	o      MapOptions
	sized  bool          // jobs of several records: filled up to o.Limits
	seq    int           // the last job's
	held   []inputRecord // read, not yet in a job: they come first
	eof    bool          // recs is at its end
	spread int           // Fill, once the input has ended: records per job
}

// inputRecord is a record read from the input.
type inputRecord struct {
	values []string
	pos    Pos
	err    error // a *RecordError
}

// read returns the next record, held ones first; ok is false at the end.
func (m *mapSource) read() (rec inputRecord, ok bool, err error) {
	if len(m.held) > 0 {
		rec, m.held = m.held[0], m.held[1:]
		return rec, true, nil
	}
	if m.eof {
		return rec, false, nil
	}
	values, pos, err := m.recs.Next()
	var re *RecordError
	switch {
	case err == io.EOF:
		m.eof = true
		return rec, false, nil
	case errors.As(err, &re):
		return inputRecord{pos: pos, err: re}, true, nil
	case err != nil:
		return rec, false, err
	}
	return inputRecord{values: values, pos: pos}, true, nil
}

// unread puts recs back in front of the records to read.
func (m *mapSource) unread(recs ...inputRecord) {
	m.held = append(recs, m.held...)
}

// job makes the next job: the Source.
func (m *mapSource) job() (*Job, error) {
	j := &Job{tmpl: m.t, Seq: m.seq + 1}
	most := m.o.Chunksize
	if m.spread > 0 && (most == 0 || m.spread < most) {
		most = m.spread
	}
	var taken []inputRecord
	var fixed, size, limit int // sized: the estimate of the command's size
	for most == 0 || len(taken) < most {
		rec, ok, err := m.read()
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		bad := rec.err
		if need := m.t.MinFields(); bad == nil && len(rec.values) < need {
			bad = fmt.Errorf("%s: %w: the template needs %d, the line has %d", rec.pos, template.ErrFields, need, len(rec.values))
		}
		if bad == nil {
			// Every record is measured alone: one that is over the
			// limits fails here, naming its line, whether or not the
			// job would have taken others.
			c, err := m.t.Expand(template.Vars{Records: [][]string{rec.values}, Seq: j.Seq, Slot: measureSlot})
			if err != nil {
				// It fails the same way when it runs, alone.
				if len(taken) > 0 {
					m.unread(rec)
				} else {
					taken = append(taken, rec)
				}
				break
			}
			s1, lim, err := m.o.Limits.Measure(c, m.o.Shell)
			switch {
			case err != nil:
				bad = fmt.Errorf("%s: %w", rec.pos, err)
			case !m.sized:
			case len(taken) == 0:
				// What the command takes whatever its records: the
				// command of one record less what a second one adds.
				fixed = s1
				if c2, err := m.t.Expand(template.Vars{Records: [][]string{rec.values, rec.values}, Seq: j.Seq, Slot: measureSlot}); err == nil {
					s2, _, _ := m.o.Limits.Measure(c2, m.o.Shell)
					fixed = 2*s1 - s2
				}
				size, limit = s1, lim
			case size+s1-fixed > limit:
				m.unread(rec)
				return m.finish(j, taken, true), nil
			default:
				size += s1 - fixed
			}
		}
		if bad != nil {
			if len(taken) > 0 {
				m.unread(rec)
				break
			}
			m.seq++
			return &Job{Seq: m.seq, Args: rec.values, Line: rec.pos.Line, input: rec.pos.Name, err: bad}, nil
		}
		taken = append(taken, rec)
	}
	if len(taken) == 0 {
		return nil, io.EOF
	}
	if m.o.Fill && m.eof && m.spread == 0 {
		// The input has ended: what is left goes to the workers evenly.
		left := len(taken) + len(m.held)
		parts := left
		if m.o.Workers != NoLimit {
			parts = min(max(m.o.Workers, 1), left)
		}
		m.spread = (left + parts - 1) / parts
		if len(taken) > m.spread {
			m.unread(taken[m.spread:]...)
			taken = taken[:m.spread]
		}
	}
	return m.finish(j, taken, m.sized && len(taken) > 1), nil
}

// finish makes j the job of taken, after checking, if check, that its
// command is within the limits (and putting back its last records until
// it is: the estimate is exact for the templates -X fills, but {N} of a
// chunk's N-th record, say, is not counted per record).
func (m *mapSource) finish(j *Job, taken []inputRecord, check bool) *Job {
	for tries := 0; check && len(taken) > 1; tries++ {
		recs := make([][]string, len(taken))
		for k, r := range taken {
			recs[k] = r.values
		}
		c, err := m.t.Expand(template.Vars{Records: recs, Seq: j.Seq, Slot: measureSlot})
		if err != nil {
			break
		}
		if _, _, err := m.o.Limits.Measure(c, m.o.Shell); err == nil {
			break
		}
		drop := 1
		if tries >= 8 {
			drop = len(taken) / 2
		}
		m.unread(taken[len(taken)-drop:]...)
		taken = taken[:len(taken)-drop]
	}
	m.seq++
	j.Seq = m.seq
	j.Line, j.input = taken[0].pos.Line, taken[0].pos.Name
	for _, r := range taken {
		j.recs = append(j.recs, r.values)
		j.Args = append(j.Args, r.values...)
	}
	return j
}
