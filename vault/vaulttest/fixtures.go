package vaulttest

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
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
	root := filepath.Join(dir, "..", "shared", "fixtures")
	path := filepath.Join(append([]string{root}, rel...)...)
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CI") != "" {
			tb.Fatalf("fixture %s is missing (CI is set, so this fails instead of skipping): %v", path, err)
		}
		if _, err := os.Stat(root); err != nil {
			missingOnce.Do(func() {
				fmt.Fprintf(os.Stderr, "sesame tests: %s is missing, so the tests of real export files are skipped: "+
					"they are other authenticators' export files kept outside the module (see the README's test section)\n", filepath.Clean(root))
			})
			tb.SkipNow()
		}
		tb.Skipf("fixture %s is missing", path)
	}
	return path
}

// missingOnce says once per test process that the fixtures folder is absent.
var missingOnce sync.Once
