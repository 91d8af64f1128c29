//go:build !lean

package main

import (
	"bytes"
	"encoding/base32"
	"encoding/json"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/tui/tuitest"
	"github.com/sesame-auth/sesame/vault"
	"github.com/sesame-auth/sesame/vault/vaulttest"
)

// signalChildEnv makes the test binary run signalChild (see TestMain).
const signalChildEnv = "SESAME_TEST_SIGNAL_CHILD"

// TestMain runs the tests, or with cliChildEnv set runs the test binary as
// the sesame command (for TestKillCommands), or with signalChildEnv set as
// signalChild (for TestSignalsWatchedFromFirstWait).
func TestMain(m *testing.M) {
	if os.Getenv(cliChildEnv) != "" {
		os.Exit(runAsCLI())
	}
	if mode := os.Getenv(signalChildEnv); mode != "" {
		os.Exit(signalChild(mode))
	}
	// Most tests here wait on real processes (tmux, servers, D-Bus
	// sessions, the kernel keyring) far more than they compute: run up to 4
	// at once whatever GOMAXPROCS is. A -parallel flag given to go test
	// still decides, as it is parsed after this.
	if err := flag.Set("test.parallel", "4"); err != nil {
		panic(err)
	}
	tuitest.Main(m)
}

// inSecretService is vaulttest.InSecretService for tests that run the
// built binary: it is built before the session, and handed down to the run
// inside it rather than built again there.
func inSecretService(t *testing.T) bool {
	t.Helper()
	return vaulttest.InSecretService(t, tuitest.BinaryEnv+"="+tuitest.Sesame(t))
}

// runBinary runs the built command with a clean environment plus env.
func runBinary(t *testing.T, env []string, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	return runProgram(t, tuitest.Sesame(t), append(os.Environ(), env...), stdin, args...)
}

// endedBy reports whether a process ended by signal sig.
func endedBy(st *os.ProcessState, sig syscall.Signal) bool {
	ws, ok := st.Sys().(syscall.WaitStatus)
	return ok && ws.Signaled() && ws.Signal() == sig
}

// runProgram runs the program at path with exactly env.
func runProgram(t *testing.T, path string, env []string, stdin string, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(path, args...)
	cmd.Env = env
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	if ee, ok := err.(*exec.ExitError); ok {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return out.String(), errb.String(), code
}

// TestBinaryWithSecretService runs the built binary against a real
// gnome-keyring: the first add creates a keyring vault, codes match an
// independent TOTP, secret-tool sees the one key item, and no secret is
// anywhere in $SESAME_HOME.
func TestBinaryWithSecretService(t *testing.T) {
	t.Parallel()
	if !inSecretService(t) {
		return
	}
	home := filepath.Join(t.TempDir(), "home")
	env := []string{"SESAME_HOME=" + home, "SESAME_PASSPHRASE="}
	secret := []byte("binary-test-secret-0123456789")
	b32 := base32.StdEncoding.EncodeToString(secret)
	_, errOut, code := runBinary(t, env, "", "add", "otpauth://totp/KeyringBank:keyring-user?secret="+b32+"&algorithm=SHA256&digits=8")
	if code != 0 || !strings.Contains(errOut, "its key is in the OS keyring") {
		t.Fatalf("add: exit %d, %s", code, errOut)
	}
	before := time.Now()
	out, errOut, code := runBinary(t, env, "", "code", "keyringbank")
	after := time.Now()
	got := strings.TrimSpace(out)
	if code != 0 || (got != totp(secret, "SHA256", 8, 30, before) && got != totp(secret, "SHA256", 8, 30, after)) {
		t.Fatalf("code: exit %d, %q (%s)", code, got, errOut)
	}
	var env2 struct {
		KeyringID string `json:"keyring_id"`
	}
	b, _ := os.ReadFile(filepath.Join(home, vault.FileName))
	json.Unmarshal(b, &env2)
	if out, err := exec.Command("secret-tool", "lookup", "service", "sesame", "username", env2.KeyringID).Output(); err != nil || !strings.HasPrefix(string(out), "AGE-SECRET-KEY-") {
		t.Fatalf("secret-tool lookup of %q: %v", env2.KeyringID, err)
	}
	needles := []string{b32, strings.TrimRight(b32, "="), strings.ToLower(strings.TrimRight(b32, "=")), string(secret), "KeyringBank", "keyring-user"}
	filepath.WalkDir(home, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, _ := os.ReadFile(p)
		for _, n := range needles {
			if bytes.Contains(data, []byte(n)) {
				t.Errorf("%s contains %q in clear", p, n)
			}
		}
		return nil
	})
}

// TestAddQRFromIndependentEncoder adds an account from a QR image made by
// another project's encoder (the shared fixtures).
func TestAddQRFromIndependentEncoder(t *testing.T) {
	img := vaulttest.Fixture(t, "otpauth_uri_list/dim13_example_otpauth_qr.png")
	c := newCLI(t)
	if got := c.ok("", "add", "--qr", img); got != "added Example (alice@google.com)\n" {
		t.Fatalf("add --qr printed %q", got)
	}
	secret, _ := base32.StdEncoding.DecodeString("JBSWY3DPEHPK3PXP")
	if got := c.ok("", "code", "example"); got != totp(secret, "SHA1", 6, 30, testNow)+"\n" {
		t.Fatalf("code = %q", got)
	}
	r := c.run("", "add", "--qr", vaulttest.Fixture(t, "google_authenticator/scito_qr_but_without_otp.png"))
	if r.code != 1 || !strings.Contains(r.stderr, "not a usable otpauth:// link") {
		t.Fatalf("QR without an otpauth link: %+v", r)
	}
	r = c.run("", "add", "--qr", vaulttest.Fixture(t, "google_authenticator/scito_example_export.png"))
	if r.code != 1 || !strings.Contains(r.stderr, "sesame import") {
		t.Fatalf("QR of a Google export: %+v", r)
	}
}
