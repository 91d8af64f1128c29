// Package version says which build of Sesame's commands is running, for
// their --version: what a release build stamped in, else what the Go
// toolchain recorded.
package version

import (
	"runtime/debug"
	"strings"
)

// Release builds stamp these with -ldflags
// "-X github.com/sesame-auth/sesame/cmd/internal/version.version=v1.2.3 ..."
// (see .goreleaser.yaml). Other builds
// leave them empty and String reads the same facts from the build
// information that the Go toolchain records.
var (
	version = ""
	commit  = ""
	date    = ""
)

// String is what --version prints after the command's name: the version (the
// module version for 'go install', "dev" for a build from a checkout), then
// the commit and its date when they are known, as in
// "v1.2.0 (commit 618e0c9a1b2c, 2026-12-01T21:00:00Z)".
func String() string {
	return formatVersion(version, commit, date, readBuildInfo())
}

func readBuildInfo() *debug.BuildInfo {
	bi, ok := debug.ReadBuildInfo()
	if !ok {
		return nil
	}
	return bi
}

func formatVersion(v, rev, when string, bi *debug.BuildInfo) string {
	modified := false
	if bi != nil {
		if v == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				if rev == "" {
					rev = s.Value
				}
			case "vcs.time":
				if when == "" {
					when = s.Value
				}
			case "vcs.modified":
				modified = s.Value == "true"
			}
		}
	}
	if v == "" {
		v = "dev"
	}
	var details []string
	if rev != "" {
		if len(rev) > 12 {
			rev = rev[:12]
		}
		if modified {
			rev += ", with uncommitted changes"
		}
		details = append(details, "commit "+rev)
	}
	if when != "" {
		details = append(details, when)
	}
	if len(details) == 0 {
		return v
	}
	return v + " (" + strings.Join(details, ", ") + ")"
}
