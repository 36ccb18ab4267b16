package report

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/futures-cli/futures/runner/service"
	"github.com/futures-cli/futures/runner/service/store"
)

// ErrNoService is the error of a service that has no store of futures.
var ErrNoService = errors.New("no futures store")

// ReadService reads the futures of the executor service name from its
// store, whether the service runs or not (it is not started): each
// future that is done is a job, its id the job's seq, with the end of its
// stderr when it did not succeed. Pending and running futures are left
// out.
func ReadService(ctx context.Context, name string) ([]Job, error) {
	p, err := service.Resolve(name)
	if err != nil {
		return nil, err
	}
	db := filepath.Join(p.StateDir, store.DBName)
	if _, err := os.Stat(db); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, fmt.Errorf("service %s: %w at %s", p.Name, ErrNoService, db)
		}
		return nil, fmt.Errorf("service %s: %w", p.Name, err)
	}
	st, err := store.Open(p.StateDir)
	if err != nil {
		return nil, fmt.Errorf("service %s: %w", p.Name, err)
	}
	defer st.Close()
	fus, err := st.List(ctx, store.Filter{})
	if err != nil {
		return nil, fmt.Errorf("service %s: %w", p.Name, err)
	}
	jobs := make([]Job, 0, len(fus))
	for _, fu := range fus {
		if !fu.Done() {
			continue // pending or running: not on the picture yet
		}
		j := FromFuture(fu)
		if j.Outcome != Succeeded && j.Outcome != Cancelled {
			_, errPath := st.OutputPaths(fu.ID)
			j.Stderr = fileTail(errPath)
		}
		jobs = append(jobs, j)
	}
	return jobs, nil
}

// FromFuture is the Job of a service's future that is done.
func FromFuture(fu *store.Future) Job {
	j := Job{
		Seq: int(fu.ID), Command: fu.Spec.Line, Args: fu.Spec.Argv,
		Worker: fu.Worker, Host: fu.Host, ExitCode: fu.ExitCode, Signal: fu.Signal, Error: fu.Error,
		MaxRSSKB: fu.MaxRSSKB, User: fu.User, Sys: fu.Sys,
		Outcome: outcomeOf(fu.State, fu.Error, fu.Signal, fu.ExitCode),
	}
	if j.Command == "" {
		j.Command = strings.Join(fu.Spec.Argv, " ")
	}
	if !fu.Started.IsZero() {
		j.Start = fu.Started
		if !fu.Finished.IsZero() {
			j.Duration = fu.Finished.Sub(fu.Started)
		}
	}
	if fu.Broken && j.Outcome == Succeeded {
		j.Outcome = Failed
	}
	return j
}

// fileTail is the end of the file at path, "" when it cannot be read.
func fileTail(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Size() > stderrTail*2 {
		if _, err := f.Seek(-stderrTail*2, io.SeekEnd); err != nil {
			return ""
		}
	}
	b, err := io.ReadAll(io.LimitReader(f, stderrTail*2))
	if err != nil {
		return ""
	}
	return tail(string(b))
}
