//go:build faults

package main

// The slow part of the fault suite, run by make test-faults (go test -tags
// faults): the same checks as faults_test.go at scale, and signals at
// random moments, many times over.

import (
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestFaultScaleJSONRecordsOf20000Jobs: 20,000 jobs under --json.
func TestFaultScaleJSONRecordsOf20000Jobs(t *testing.T) {
	forEachExecutor(t, func(t *testing.T, ex string) {
		checkJSONRecords(t, ex, 20000, "-j4")
	})
}

// TestFaultScaleNoFileDescriptorLeakAcross100000Jobs: 100,000 jobs of every
// kind; the runner's descriptors stay bounded.
func TestFaultScaleNoFileDescriptorLeakAcross100000Jobs(t *testing.T) {
	forEachExecutor(t, func(t *testing.T, ex string) {
		checkNoFDLeak(t, ex, 100000)
	})
}

// TestFaultScaleSignalsAtRandomMoments: runs of short jobs that leave
// grandchildren, stopped by SIGINT or SIGTERM at a random moment (before,
// during or after the input is read, between jobs, while they start):
// each exits with the signal's status (or 0, if it finished first), with
// a whole joblog and nothing left behind.
func TestFaultScaleSignalsAtRandomMoments(t *testing.T) {
	const rounds = 12
	forEachExecutor(t, func(t *testing.T, ex string) {
		rng := rand.New(rand.NewPCG(uint64(time.Now().UnixNano()), 7))
		for round := range rounds {
			sig := []syscall.Signal{syscall.SIGINT, syscall.SIGTERM}[round%2]
			delay := time.Duration(rng.IntN(1500)) * time.Millisecond
			mode := []string{"group", "line", "ungroup"}[round%3]
			t.Run(fmt.Sprintf("%v after %v, %s", sig, delay, mode), func(t *testing.T) {
				var in strings.Builder
				for i := range 400 {
					fmt.Fprintf(&in, "%d\n", i)
				}
				f := start(t, futOpts{args: args("map", "--executor", ex, "-j4", "--output", mode, "--grace", "300ms",
					"--joblog", "log", "sh", "-c", `sleep 30 & (sleep 30 &); echo $1; [ $(($1 % 5)) = 0 ] && sleep 0.1; exit $(($1 % 3))`, "_"),
					stdin: strings.NewReader(in.String())})
				time.Sleep(delay) // a random moment of the run, not a wait for a condition
				_ = f.cmd.Process.Signal(sig)
				if st := f.wait(); st != 128+int(sig) && st != 1 {
					t.Errorf("exit status %d, want %d (or 1 if the run ended first)\nstderr:\n%s", st, 128+int(sig), tail(f.errText()))
				}
				f.noLeftovers()
				if _, err := os.Stat(f.dir + "/log"); err == nil { // no joblog if the signal came before it was created
					readJoblog(t, f.dir+"/log")
				}
			})
		}
	})
}

// TestFaultScaleManyClientsSubmitAtOnce: 50 clients submitting 200
// futures each at once (issue 16): 10,000 unique ids, each job run
// exactly once, none lost.
func TestFaultScaleManyClientsSubmitAtOnce(t *testing.T) {
	checkManyClients(t, 50, 200, 8*time.Minute) // within make test-faults' -timeout 10m
}
