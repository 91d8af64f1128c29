//go:build !lean

package main

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/tui/tuitest"
	"github.com/sesame-auth/sesame/vault"
)

// headlessEnv is the environment of a machine with no session bus: no bus
// address, an empty runtime folder, no display, and a dbus-launch on PATH
// that only records that it was run (godbus's autolaunch runs it).
func headlessEnv(t *testing.T, extra ...string) (env []string, launched string) {
	t.Helper()
	bin := t.TempDir()
	launched = filepath.Join(t.TempDir(), "dbus-launch-was-run")
	script := "#!/bin/sh\ntouch '" + launched + "'\nexit 1\n"
	if err := os.WriteFile(filepath.Join(bin, "dbus-launch"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	for _, kv := range tuitest.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "DBUS_SESSION_BUS_ADDRESS", "XDG_RUNTIME_DIR", "PATH":
			continue
		}
		env = append(env, kv)
	}
	env = append(env, "PATH="+bin+string(os.PathListSeparator)+os.Getenv("PATH"), "XDG_RUNTIME_DIR="+t.TempDir())
	return append(env, extra...), launched
}

// marked lists the processes whose environment holds mark, with their names.
func marked(t *testing.T, mark string) []string {
	t.Helper()
	procs, err := filepath.Glob("/proc/[0-9]*/environ")
	if err != nil {
		t.Fatal(err)
	}
	var found []string
	for _, p := range procs {
		b, err := os.ReadFile(p)
		if err != nil {
			continue // gone, or not ours to read
		}
		for _, kv := range bytes.Split(b, []byte{0}) {
			if string(kv) == mark {
				comm, _ := os.ReadFile(filepath.Join(filepath.Dir(p), "comm"))
				found = append(found, filepath.Base(filepath.Dir(p))+" "+strings.TrimSpace(string(comm)))
			}
		}
	}
	return found
}

// With no session bus, 'sesame add' makes a passphrase vault at once, says
// why in one sentence, and leaves no process behind: no dbus-launch is run,
// so no dbus-daemon or gnome-keyring-daemon is started. Every process it
// could start inherits its environment, so a marker variable finds them all,
// even those that were re-parented.
func TestAddWithoutSessionBusStartsNothing(t *testing.T) {
	t.Parallel() // its marker finds only the processes it started
	if _, err := os.Stat("/proc/self/environ"); err != nil {
		t.Skip("no /proc to count processes in")
	}
	mark := fmt.Sprintf("SESAME_TEST_MARK=%x", rand.Uint64())
	// The count itself can fail: a marked process is found while it runs.
	probe := exec.Command("sleep", "30")
	probe.Env = append(os.Environ(), mark)
	if err := probe.Start(); err != nil {
		t.Fatal(err)
	}
	found := marked(t, mark)
	probe.Process.Kill()
	probe.Wait()
	if len(found) != 1 || !strings.HasSuffix(found[0], " sleep") {
		t.Fatalf("the process count does not see a marked sleep: %v", found)
	}

	home := filepath.Join(t.TempDir(), "home")
	env, launched := headlessEnv(t, mark, "SESAME_HOME="+home, "SESAME_PASSPHRASE=headless passphrase")
	cmd := exec.Command(tuitest.Sesame(t), "add", "otpauth://totp/Box:ops?secret=JBSWY3DPEHPK3PXP")
	cmd.Env = env
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("add: %v\n%s", err, errb.String())
	}
	if left := marked(t, mark); len(left) != 0 {
		t.Errorf("processes left after 'sesame add' with no session bus: %v", left)
	}
	if _, err := os.Stat(launched); err == nil {
		t.Error("dbus-launch was run")
	}
	want := "sesame: no working OS keyring (there is no D-Bus session bus: DBUS_SESSION_BUS_ADDRESS is not set and "
	if !strings.Contains(errb.String(), want) || !strings.Contains(errb.String(), "/bus does not exist), so the new vault is protected by a passphrase instead") {
		t.Errorf("add said:\n%s\nwant the reason: %s...", errb.String(), want)
	}
	if out.String() != "added Box (ops)\n" {
		t.Errorf("add printed %q", out.String())
	}
}

// silentBus is a session bus socket that accepts connections and never
// answers, as a bus does while the keyring behind it waits for a prompt
// nobody sees. Each accepted connection is sent on the returned channel.
func silentBus(t *testing.T) (addr string, accepted <-chan struct{}) {
	t.Helper()
	dir, err := os.MkdirTemp("", "bus") // short: unix socket paths are limited
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	l, err := net.Listen("unix", filepath.Join(dir, "bus"))
	if err != nil {
		t.Fatal(err)
	}
	ch := make(chan struct{}, 16)
	var conns []net.Conn
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			conns = append(conns, c)
			select {
			case ch <- struct{}{}:
			default:
			}
		}
	}()
	t.Cleanup(func() {
		l.Close()
		<-done
		for _, c := range conns {
			c.Close()
		}
	})
	return "unix:path=" + filepath.Join(dir, "bus"), ch
}

// A keyring that does not answer is given up on after --keyring-timeout,
// with a message that names the likely cause and the way on; nothing is
// created.
func TestKeyringTimeout(t *testing.T) {
	t.Parallel()
	addr, _ := silentBus(t)
	home := filepath.Join(t.TempDir(), "home")
	env, _ := headlessEnv(t, "DBUS_SESSION_BUS_ADDRESS="+addr, "SESAME_HOME="+home)
	cmd := exec.Command(tuitest.Sesame(t), "add", "--keyring-timeout", "1s", "otpauth://totp/Box:ops?secret=JBSWY3DPEHPK3PXP")
	cmd.Env = env
	var errb bytes.Buffer
	cmd.Stderr = &errb
	err := cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("add with a keyring that does not answer: %v, want exit 1\n%s", err, errb.String())
	}
	for _, want := range []string{"the OS keyring did not answer within 1s", "unlock prompt on a display nobody is looking at", "--keyring-timeout", "--store passphrase"} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("add said %q; want it to say %q", errb.String(), want)
		}
	}
	if vault.Exists(home) {
		t.Error("a vault was created")
	}
}

// SIGTERM ends the process even while a keyring call cannot be cancelled:
// it says it stopped, and ends by SIGTERM, as a shell expects of a command
// it interrupted.
func TestSIGTERMDuringKeyringCall(t *testing.T) {
	addr, accepted := silentBus(t)
	env, _ := headlessEnv(t, "DBUS_SESSION_BUS_ADDRESS="+addr, "SESAME_HOME="+filepath.Join(t.TempDir(), "home"))
	cmd := exec.Command(tuitest.Sesame(t), "add", "--keyring-timeout", "1h", "otpauth://totp/Box:ops?secret=JBSWY3DPEHPK3PXP")
	cmd.Env = env
	var stderr bytes.Buffer // read once the process has ended
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	// The bus check connects once and hangs up; the keyring call connects
	// again and waits for an answer that never comes.
	for i := range 2 {
		select {
		case <-accepted:
		case err := <-exited:
			t.Fatalf("sesame ended before it called the keyring: %v", err)
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			t.Fatalf("sesame made %d connections to the bus in 30s, want 2", i)
		}
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case <-exited:
		if !endedBy(cmd.ProcessState, syscall.SIGTERM) || stderr.String() != "sesame: cancelled, nothing changed\n" {
			t.Fatalf("after SIGTERM: %v, stderr %q; want it said so and ended by SIGTERM", cmd.ProcessState, stderr.String())
		}
	case <-time.After(20 * time.Second):
		cmd.Process.Kill()
		t.Fatal("sesame was still running 20s after SIGTERM")
	}
}
