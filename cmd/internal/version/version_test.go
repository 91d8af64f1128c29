package version

import (
	"runtime/debug"
	"testing"
)

func TestFormatVersion(t *testing.T) {
	vcs := &debug.BuildInfo{
		Main: debug.Module{Version: "(devel)"},
		Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "618e0c9a1b2c3d4e5f60718293a4b5c6d7e8f901"},
			{Key: "vcs.time", Value: "2026-12-01T21:00:00Z"},
			{Key: "vcs.modified", Value: "false"},
		},
	}
	tests := []struct {
		name         string
		v, rev, when string
		bi           *debug.BuildInfo
		want         string
	}{
		{"no build info", "", "", "", nil, "dev"},
		{"checkout build", "", "", "", vcs, "dev (commit 618e0c9a1b2c, 2026-12-01T21:00:00Z)"},
		{"release ldflags win", "v1.2.0", "abcdef0123456789", "2026-11-30T10:00:00Z", vcs, "v1.2.0 (commit abcdef012345, 2026-11-30T10:00:00Z)"},
		{"go install of a tag", "", "", "", &debug.BuildInfo{Main: debug.Module{Version: "v1.3.0"}}, "v1.3.0"},
		{"modified tree", "", "", "", &debug.BuildInfo{Settings: []debug.BuildSetting{
			{Key: "vcs.revision", Value: "0123456789abcdef"}, {Key: "vcs.modified", Value: "true"},
		}}, "dev (commit 0123456789ab, with uncommitted changes)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := formatVersion(tt.v, tt.rev, tt.when, tt.bi); got != tt.want {
				t.Errorf("formatVersion = %q, want %q", got, tt.want)
			}
		})
	}
}
