package qrcode_test

import (
	"os"
	"path/filepath"
	"testing"
)

// sharedFixture returns the path of a file under the shared fixtures folder
// (../shared/fixtures next to the repository root). The fixtures are kept out
// of the module (GPL data), so a missing folder skips the test locally and
// fails it when CI is set.
func sharedFixture(tb testing.TB, rel ...string) string {
	tb.Helper()
	dir, err := os.Getwd()
	if err != nil {
		tb.Fatalf("getwd: %v", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			break
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			tb.Fatalf("no go.mod above the test directory: cannot locate ../shared/fixtures")
		}
		dir = parent
	}
	path := filepath.Join(append([]string{dir, "..", "shared", "fixtures"}, rel...)...)
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CI") != "" {
			tb.Fatalf("fixture %s is missing (CI is set, so this fails instead of skipping): %v", path, err)
		}
		tb.Skipf("fixture %s is missing; set CI=1 to make this a failure", path)
	}
	return path
}
