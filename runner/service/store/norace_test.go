//go:build !race

package store

// raceEnabled is true under the race detector, whose instrumentation of
// modernc.org/sqlite makes each transaction about 15 times slower.
const raceEnabled = false
