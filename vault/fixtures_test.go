package vault_test

import (
	"os"
	"path/filepath"
	"testing"
)

// sharedFixture returns the path of a file under the shared fixtures folder
// (../shared/fixtures next to the repository root). The fixtures are GPL data
// kept out of the module, so when the folder is missing the test is skipped
// locally and fails when CI is set.
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
	root := filepath.Join(dir, "..", "shared", "fixtures")
	path := filepath.Join(append([]string{root}, rel...)...)
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CI") != "" {
			tb.Fatalf("fixture %s is missing (CI is set, so this fails instead of skipping): %v", path, err)
		}
		tb.Skipf("fixture %s is missing; set CI=1 to make this a failure", path)
	}
	return path
}
