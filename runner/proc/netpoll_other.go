//go:build !linux

package proc

import "time"

// netPoller is Linux's (netpoll_linux.go): elsewhere jobs read their output
// with a goroutine per pipe.
type netPoller struct{}

func newNetPoller() *netPoller                            { return nil }
func (n *netPoller) watch(int) error                      { return nil }
func (n *netPoller) wait(time.Duration, func() bool) bool { return false }
func (n *netPoller) handle(func())                        {}
func (n *netPoller) poke()                                {}
func (n *netPoller) close()                               {}
