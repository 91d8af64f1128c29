package vaulttest

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"
)

const sessionEnv = "SESAME_TEST_IN_SECRET_SERVICE"

// keyringPassword unlocks the throwaway login keyring of test sessions.
const keyringPassword = "sesame-test-keyring"

// InSecretService runs the calling test inside a private D-Bus session with
// an unlocked gnome-keyring, so that it uses a real Secret Service. Call it
// first thing in the test: it returns true when the test is running inside
// the session and should go on; false when it was the outer run, which has
// already started the session, run the test there and reported its result.
//
// env holds "KEY=value" pairs that the run inside the session gets on top
// of the test's environment (a binary built for it, say), so that the
// caller needs no t.Setenv and can run in parallel with other tests.
//
// It needs dbus-run-session, gnome-keyring-daemon and secret-tool; when they
// are missing the test fails if CI is set and is skipped otherwise.
func InSecretService(t *testing.T, env ...string) bool {
	t.Helper()
	if os.Getenv(sessionEnv) == "1" {
		return true
	}
	for _, tool := range []string{"dbus-run-session", "gnome-keyring-daemon", "secret-tool"} {
		if _, err := exec.LookPath(tool); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is not installed; .ci/run must install it (dbus, gnome-keyring, libsecret-tools)", tool)
			}
			t.Skipf("%s is not installed", tool)
		}
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	home := t.TempDir()
	script := `printf %s "$KEYRING_PASSWORD" | gnome-keyring-daemon --unlock --components=secrets >/dev/null || exit 97
exec "$@"`
	cmd := exec.Command("dbus-run-session", "--", "sh", "-c", script, "sh", exe, "-test.run=^"+t.Name()+"$", "-test.v", "-test.count=1")
	cmd.Env = append(os.Environ(), env...)
	cmd.Env = append(cmd.Env, sessionEnv+"=1", "KEYRING_PASSWORD="+keyringPassword,
		"HOME="+home, "XDG_DATA_HOME="+home+"/data", "XDG_CONFIG_HOME="+home+"/config", "XDG_RUNTIME_DIR="+home)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err = cmd.Run()
	t.Logf("inside the Secret Service session:\n%s", out.String())
	if err != nil {
		t.Fatalf("the test failed inside the Secret Service session: %v", err)
	}
	if !strings.Contains(out.String(), "--- PASS: "+t.Name()) {
		t.Fatal("the test did not run inside the Secret Service session")
	}
	return false
}

// KeyringPassword is the password of the test session's login keyring, for
// tests that lock and unlock it.
func KeyringPassword() string { return keyringPassword }
