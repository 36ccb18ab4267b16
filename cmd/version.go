package cmd

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"

	"github.com/spf13/cobra"

	"github.com/futures-cli/futures/pool"
)

// Version is what `futures version` and `futures --version` say after
// "futures ": this binary's versionLine, named by the release tag it was
// linked with when it has one (pool.Release: make build at a tag, and
// GoReleaser, set it), the same version its workers' Hello names.
func Version() string {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		bi = nil
	}
	return versionLine(bi, pool.Release())
}

// versionLine says what a build is, from its build info (nil when there is
// none) and the release tag it was given (""; none): the release tag or the
// module version ("devel" when it has none: a go build outside a VCS tree,
// or with -buildvcs=false), then the VCS revision (12 digits, "+dirty" with
// uncommitted changes) and its commit time when the build recorded them,
// the Go version and the platform:
//
//	v1.2.0 go1.26.8 linux/amd64                   go install …@v1.2.0
//	devel (3f9ff335c17f+dirty 2026-11-25T04:33:42Z) go1.26.8 darwin/arm64
func versionLine(bi *debug.BuildInfo, release string) string {
	v, goVersion, goos, goarch := "", runtime.Version(), runtime.GOOS, runtime.GOARCH
	var rev, tm string
	dirty := false
	if bi != nil {
		v = bi.Main.Version
		if bi.GoVersion != "" {
			goVersion = bi.GoVersion
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				rev = s.Value
			case "vcs.time":
				tm = s.Value
			case "vcs.modified":
				dirty = s.Value == "true"
			case "GOOS":
				goos = s.Value
			case "GOARCH":
				goarch = s.Value
			}
		}
	}
	if release != "" {
		v = release
	}
	if v == "" || v == "(devel)" {
		v = "devel"
	}
	var b strings.Builder
	b.WriteString(v)
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if dirty {
			rev += "+dirty"
		}
		fmt.Fprintf(&b, " (%s", rev)
		if tm != "" {
			fmt.Fprintf(&b, " %s", tm)
		}
		b.WriteString(")")
	}
	fmt.Fprintf(&b, " %s %s/%s", goVersion, goos, goarch)
	return b.String()
}

// versionOptions are what `futures version` runs with: it takes no flags.
type versionOptions struct {
	f *factory
}

// newCmdVersion builds `futures version`, which says what --version says.
// runF runs the parsed options; nil: runVersion.
func newCmdVersion(f *factory, runF func(*versionOptions) error) *cobra.Command {
	o := &versionOptions{f: f}
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, VCS revision, Go version and platform of this build",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if runF != nil {
				return runF(o)
			}
			return runVersion(o)
		},
	}
}

// runVersion prints the version line.
func runVersion(o *versionOptions) error {
	fmt.Fprintf(o.f.stdout, "futures %s\n", Version())
	return nil
}
