package tuitest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
)

// BinaryEnv names an already built sesame binary for Sesame to return.
const BinaryEnv = "SESAME_TEST_BINARY"

// build is the one sesame binary of this test process: building it once is
// the point, so it is shared by every test that asks for it.
var build struct {
	once sync.Once
	dir  string
	path string
	err  error
}

// Sesame returns the path of the sesame command (./cmd/sesame of this
// module), built the first time a test of this process asks for it into a
// temporary directory that Main removes.
//
// A test that re-runs itself in a child process (see
// vaulttest.InSecretService) hands its binary down through SESAME_TEST_BINARY,
// so that the child does not build it again.
func Sesame(t testing.TB) string {
	t.Helper()
	if p := os.Getenv(BinaryEnv); p != "" {
		return p
	}
	build.once.Do(func() {
		build.dir, build.err = os.MkdirTemp("", "sesame-bin-")
		if build.err != nil {
			return
		}
		build.path = filepath.Join(build.dir, "sesame")
		if runtime.GOOS == "windows" {
			build.path += ".exe"
		}
		// The import path resolves inside this module from any package
		// directory a test runs in.
		out, err := exec.Command("go", "build", "-o", build.path, "github.com/sesame-auth/sesame/cmd/sesame").CombinedOutput()
		if err != nil {
			build.err = fmt.Errorf("go build ./cmd/sesame: %v\n%s", err, out)
		}
	})
	if build.err != nil {
		t.Fatal(build.err)
	}
	return build.path
}

// Main runs a package's tests, removes the binary Sesame built and exits
// with the tests' status. Call it from TestMain so no binary is left behind:
//
//	func TestMain(m *testing.M) { tuitest.Main(m) }
func Main(m *testing.M) {
	code := m.Run()
	if build.dir != "" {
		os.RemoveAll(build.dir)
	}
	os.Exit(code)
}

// Environ is the test's environment without the variables that change where
// Sesame thinks it runs (X11 and the terminal's window, Wayland, SSH, tmux,
// screen) or which vault it opens, followed by extra ("KEY=value" pairs). A
// Term's program and a sesame command run next to it start from the same
// environment.
func Environ(extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "DISPLAY", "WAYLAND_DISPLAY", "WINDOWID", "SSH_TTY", "SSH_CONNECTION", "SSH_CLIENT", "TMUX", "STY", "SESAME_HOME", "SESAME_PASSPHRASE":
			continue
		}
		env = append(env, kv)
	}
	return append(env, extra...)
}
