//go:build linux && !lean

package main

import (
	"bytes"
	"encoding/base32"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/sesame-auth/sesame/tui/tuitest"
	"github.com/sesame-auth/sesame/vault/vaulttest"
)

// inNewSession moves the calling goroutine's thread into a new session
// keyring of its own, so that the commands it starts (which inherit the
// thread's keyrings) share that session and no other test's. The thread is
// never handed back: it ends with the test's goroutine.
func inNewSession(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("keyctl"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("keyctl is not installed; .ci/run must install keyutils")
		}
		t.Skip("keyctl (keyutils) is not installed")
	}
	runtime.LockOSThread()
	if _, err := unix.KeyctlJoinSessionKeyring(fmt.Sprintf("sesame-test-%x", rand.Uint64())); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("the kernel refuses a new session keyring: %v", err)
		}
		t.Skipf("the kernel refuses a new session keyring: %v", err)
	}
}

// The real kernel keyring, with the built binary: after 'sesame unlock' a
// passphrase vault opens without the passphrase in the same session, and
// only there; the key is gone after 'sesame lock', after its timeout, and
// after a passphrase change.
func TestUnlockWithKernelKeyring(t *testing.T) {
	t.Parallel()
	bin := tuitest.Sesame(t) // built before the goroutine leaves its thread
	inNewSession(t)
	home := filepath.Join(t.TempDir(), "home")
	real, err := filepath.EvalSymlinks(filepath.Dir(home))
	if err != nil {
		t.Fatal(err)
	}
	keyName := "sesame:vault:" + filepath.Join(real, "home")
	base := append(tuitest.Environ(), "SESAME_HOME="+home)
	withPass := append(base[:len(base):len(base)], "SESAME_PASSPHRASE=kernel keyring test")
	run := func(env []string, args ...string) (string, string, int) {
		t.Helper()
		cmd := exec.Command(args[0], args[1:]...)
		cmd.Env = env
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return out.String(), errb.String(), ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return out.String(), errb.String(), 0
	}
	kept := func() bool {
		t.Helper()
		_, _, code := run(base, "keyctl", "search", "@s", "user", keyName)
		return code == 0
	}
	secret := []byte("kernel-keyring-secret-012")
	b32 := base32.StdEncoding.EncodeToString(secret)
	// A cheap vault: the binary opens it at the work factor of its file.
	vaulttest.NewPassphraseIn(t, home, "kernel keyring test")
	if _, e, code := run(withPass, bin, "--store", "passphrase", "add", "otpauth://totp/Box:ops?secret="+b32); code != 0 {
		t.Fatalf("add: exit %d: %s", code, e)
	}
	codeOK := func(what string) {
		t.Helper()
		before := time.Now()
		out, e, code := run(base, bin, "code", "box")
		got := strings.TrimSpace(out)
		if code != 0 || (got != totp(secret, "SHA1", 6, 30, before) && got != totp(secret, "SHA1", 6, 30, time.Now())) {
			t.Fatalf("code %s: exit %d, %q, %s", what, code, got, e)
		}
	}
	locked := func(what string, env []string, args ...string) {
		t.Helper()
		_, e, code := run(env, args...)
		if code != 1 || !strings.Contains(e, "protected by a passphrase") {
			t.Fatalf("code %s: exit %d, %s; want exit 1 asking for the passphrase", what, code, e)
		}
	}
	locked("before unlock", base, bin, "code", "box")
	if kept() {
		t.Fatal("a key is kept before unlock")
	}

	if out, e, code := run(withPass, bin, "unlock", "--for", "10m"); code != 0 || !strings.Contains(out, "unlocked for 10m0s") {
		t.Fatalf("unlock: exit %d, %s%s", code, out, e)
	}
	if !kept() {
		t.Fatalf("keyctl does not find %q in the session keyring after unlock", keyName)
	}
	codeOK("after unlock, without a passphrase")
	locked("in a new session", base, "keyctl", "session", "-", bin, "code", "box")

	if out, _, code := run(base, bin, "lock"); code != 0 || !strings.Contains(out, "locked:") {
		t.Fatalf("lock: exit %d, %s", code, out)
	}
	if kept() {
		t.Fatal("the key is still in the session keyring after lock")
	}
	locked("after lock", base, bin, "code", "box")

	// A passphrase change drops the key.
	if _, e, code := run(withPass, bin, "unlock"); code != 0 {
		t.Fatalf("unlock: exit %d: %s", code, e)
	}
	if _, e, code := run(append(base, "SESAME_NEW_PASSPHRASE=changed passphrase"), bin, "passwd"); code != 0 {
		t.Fatalf("passwd with the vault unlocked: exit %d: %s", code, e)
	}
	if kept() {
		t.Fatal("the key is still in the session keyring after a passphrase change")
	}
	locked("after a passphrase change", base, bin, "code", "box")

	// The timeout: the kernel drops the key by itself.
	withNew := append(base[:len(base):len(base)], "SESAME_PASSPHRASE=changed passphrase")
	if _, e, code := run(withNew, bin, "unlock", "--for", "1s"); code != 0 {
		t.Fatalf("unlock --for 1s: exit %d: %s", code, e)
	}
	deadline := time.Now().Add(10 * time.Second)
	for kept() {
		if time.Now().After(deadline) {
			t.Fatal("the key kept for 1s was still in the session keyring 10s later")
		}
		time.Sleep(100 * time.Millisecond)
	}
	locked("after the timeout", base, bin, "code", "box")
}

// refusedEnv names the binary a child of TestUnlockWhereKernelRefuses runs
// under a seccomp filter that refuses keyring system calls.
const refusedEnv = "SESAME_TEST_REFUSE_KEYRINGS"

// Where the kernel refuses keyrings (container sandboxes block the keyring
// system calls with seccomp, as this test does), 'sesame unlock' says so
// before asking anything, and exits 1; commands still open the vault with
// the passphrase.
func TestUnlockWhereKernelRefuses(t *testing.T) {
	if bin := os.Getenv(refusedEnv); bin != "" {
		runtime.LockOSThread() // the filter is the thread's; exec hands it on
		if err := refuseKeyrings(); err != nil {
			t.Fatalf("install the seccomp filter: %v", err)
		}
		args := strings.Split(os.Getenv(refusedEnv+"_ARGS"), "\x1f")
		err := unix.Exec(bin, append([]string{bin}, args...), os.Environ())
		t.Fatalf("exec %s: %v", bin, err)
	}
	t.Parallel()
	bin := tuitest.Sesame(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	home := filepath.Join(t.TempDir(), "home")
	vaulttest.NewPassphraseIn(t, home, "refused keyring test") // cheap: the binary opens it at its file's cost
	env := append(tuitest.Environ(), "SESAME_HOME="+home, "SESAME_PASSPHRASE=refused keyring test", refusedEnv+"="+bin)
	run := func(args ...string) (string, int) {
		t.Helper()
		cmd := exec.Command(exe, "-test.run=^TestUnlockWhereKernelRefuses$")
		cmd.Env = append(env, refusedEnv+"_ARGS="+strings.Join(args, "\x1f"))
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return out.String(), ee.ExitCode()
		}
		if err != nil {
			t.Fatal(err)
		}
		return out.String(), 0
	}
	if out, code := run("--store", "passphrase", "add", "otpauth://totp/Box:ops?secret=JBSWY3DPEHPK3PXP"); code != 0 {
		t.Fatalf("add under the filter: exit %d: %s", code, out)
	}
	out, code := run("unlock")
	if code != 1 || !strings.Contains(out, "the kernel refuses keyrings here") || !strings.Contains(out, "SESAME_PASSPHRASE") {
		t.Fatalf("unlock where the kernel refuses keyrings: exit %d: %s", code, out)
	}
	if out, code := run("code", "box"); code != 0 {
		t.Fatalf("code with the passphrase where the kernel refuses keyrings: exit %d: %s", code, out)
	}
}

// refuseKeyrings makes the calling thread, and what it executes, get EPERM
// from the keyring system calls, as Docker's default seccomp profile does.
func refuseKeyrings() error {
	const (
		ld   = unix.BPF_LD | unix.BPF_W | unix.BPF_ABS
		jeq  = unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K
		ret  = unix.BPF_RET | unix.BPF_K
		deny = unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)
	)
	filter := []unix.SockFilter{
		{Code: ld, K: 0}, // the system call number
		{Code: jeq, Jt: 3, K: unix.SYS_KEYCTL},
		{Code: jeq, Jt: 2, K: unix.SYS_ADD_KEY},
		{Code: jeq, Jt: 1, K: unix.SYS_REQUEST_KEY},
		{Code: ret, K: unix.SECCOMP_RET_ALLOW},
		{Code: ret, K: deny},
	}
	prog := unix.SockFprog{Len: uint16(len(filter)), Filter: &filter[0]}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return err
	}
	return unix.Prctl(unix.PR_SET_SECCOMP, unix.SECCOMP_MODE_FILTER, uintptr(unsafe.Pointer(&prog)), 0, 0)
}
