// Package copybuf holds the 32 KiB buffers that copy job output and --pipe
// blocks, shared by runner's exec, output and input so they are pooled once.
package copybuf

import "sync"

// Pool holds *[]byte buffers of 32 KiB: Get one, copy through it, Put it back.
var Pool = sync.Pool{New: func() any { b := make([]byte, 32<<10); return &b }}
