package wire

import (
	"cmp"
	"os"
	"runtime"
	"runtime/debug"
	"sync"
)

// ProtocolVersion is the version of the worker protocol this package speaks.
// A runner and a worker must speak the same one.
const ProtocolVersion = 1

// Hello is the payload of FrameHello: who is speaking. Both sides send one.
type Hello struct {
	Protocol int    `json:"protocol"` // ProtocolVersion
	Futures  string `json:"futures"`  // the futures version
	Role     string `json:"role"`     // "runner" or "worker"
	GOOS     string `json:"goos"`
	GOARCH   string `json:"goarch"`
	CPUs     int    `json:"cpus"`
	Hostname string `json:"hostname"`
	PID      int    `json:"pid"`
	// Features are the optional parts of the protocol the sender speaks
	// (FeatureFiles); a peer uses one only with a peer that lists it.
	Features []string `json:"features,omitempty"`
	// Boot is the machine's boot id (Linux: /proc/sys/kernel/random/boot_id),
	// "" when unknown: with Hostname, it tells a peer on the same machine.
	Boot string `json:"boot,omitempty"`
}

// LocalHello is this process's Hello in the given role.
func LocalHello(role string) Hello {
	host, _ := os.Hostname()
	return Hello{
		Protocol: ProtocolVersion, Futures: FuturesVersion(), Role: role,
		GOOS: runtime.GOOS, GOARCH: runtime.GOARCH, CPUs: runtime.NumCPU(),
		Hostname: host, PID: os.Getpid(), Features: []string{FeatureFiles}, Boot: BootID(),
	}
}

// Release is the release tag this binary was linked with, "" for none:
// make build (at a tag) and GoReleaser set it with
// -ldflags "-X github.com/futures-cli/futures/pool/internal/wire.Release=v1.2.0".
// It is what FuturesVersion and `futures version` name the build.
var Release string

// FuturesVersion is the version of this build, as its Hello says it: the
// release tag it was linked with (Release), else the main module's version,
// else its VCS revision for a development build (devel-REV, devel-REV-dirty),
// else devel ("unknown" without build info).
func FuturesVersion() string {
	return futuresVersion(buildInfo(), Release)
}

// buildInfo is this binary's build info, nil when it has none.
var buildInfo = sync.OnceValue(func() *debug.BuildInfo {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return nil
	}
	return bi
})

// futuresVersion is FuturesVersion for the build info bi (nil: none) and
// the release tag release ("": none).
func futuresVersion(bi *debug.BuildInfo, release string) string {
	if release != "" {
		return release
	}
	if bi == nil {
		return "unknown"
	}
	v := bi.Main.Version
	if v != "" && v != "(devel)" {
		return v
	}
	rev, dirty := "", false
	for _, s := range bi.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			dirty = s.Value == "true"
		}
	}
	if rev == "" {
		return "devel"
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if dirty {
		rev += "-dirty"
	}
	return "devel-" + rev
}

// CheckHello checks the hello the peer sent: it must speak our protocol.
// A mismatch names both sides, each with its futures version, pid and
// host, so that the user sees which to upgrade:
//
//	version mismatch: the worker (futures v0.9.0, pid 812 on node7) speaks
//	protocol 2; this runner (futures v1.0.0, pid 90 on laptop) speaks protocol 1
func CheckHello(peer Hello) error {
	if peer.Protocol != ProtocolVersion {
		self := LocalHello("")
		role := "runner"
		if peer.Role == "runner" {
			role = "worker"
		}
		return Errorf("version mismatch: the %s (futures %s, pid %d on %s) speaks protocol %d; this %s (futures %s, pid %d on %s) speaks protocol %d",
			cmp.Or(peer.Role, "peer"), cmp.Or(peer.Futures, "?"), peer.PID, cmp.Or(peer.Hostname, "?"), peer.Protocol,
			role, self.Futures, self.PID, cmp.Or(self.Hostname, "?"), ProtocolVersion)
	}
	return nil
}

// BootID is this machine's boot id (bootid_*.go), "" where there is none
// to read.
var BootID = sync.OnceValue(bootID)
