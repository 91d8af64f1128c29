package vaulttest

import (
	"os"
	"path/filepath"
	"testing"
)

// Fixture returns the path of a file under the shared fixtures folder,
// ../shared/fixtures beside the repository root: real export files of other
// authenticators (GPL data kept out of the module) and RFC vectors. When it
// is missing the test is skipped, or fails if CI is set.
func Fixture(tb testing.TB, rel ...string) string {
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
