//go:build !linux

package main

import "errors"

// run is Linux's (pidfds, epoll): elsewhere there is no floor to measure.
func run(int) error { return errors.New("Linux only") }
