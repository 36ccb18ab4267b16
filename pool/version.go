package pool

import "github.com/futures-cli/futures/pool/internal/wire"

// Version is this build's futures version as the Hello of its workers says
// it, and as a runner compares it with a remote worker's: the release tag
// it was linked with ([Release]), else the main module's version, else
// devel-REVISION for a development build.
func Version() string { return wire.FuturesVersion() }

// Release is the release tag this binary was linked with, "" for none.
// make build (at a tag) and GoReleaser set it with
//
//	-ldflags "-X github.com/futures-cli/futures/pool/internal/wire.Release=v1.2.0"
//
// so that `futures version` and the worker handshake name the same version.
func Release() string { return wire.Release }
