// Package tuitest gives tests real terminals: it builds the sesame binary,
// runs it in tmux and starts Xvfb. A missing tool fails the test when CI is
// set and skips it otherwise.
package tuitest

import (
	"bufio"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// Need returns the path of a program a test needs. When it is missing the
// test fails if CI is set and is skipped otherwise.
func Need(t testing.TB, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		Missing(t, fmt.Sprintf("%s is not installed", name))
	}
	return p
}

// Missing fails the test under CI and skips it elsewhere.
func Missing(t testing.TB, why string) {
	t.Helper()
	if os.Getenv("CI") != "" {
		t.Fatalf("%s (CI is set, so this is a failure, not a skip)", why)
	}
	t.Skipf("%s; skipped because CI is not set", why)
}

// Xvfb starts a virtual X server on a free display and returns its DISPLAY
// value (":N"). The server is stopped when the test ends.
func Xvfb(t testing.TB) string {
	t.Helper()
	return XvfbScreen(t, "640x480x24")
}

// XvfbScreen is Xvfb with a screen of the given geometry ("1920x1080x24").
func XvfbScreen(t testing.TB, geometry string) string {
	t.Helper()
	bin := Need(t, "Xvfb")
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	// -displayfd makes Xvfb pick a free display and write its number once it
	// accepts connections: no guessing, no waiting on a socket.
	cmd := exec.Command(bin, "-displayfd", "3", "-nolisten", "tcp", "-screen", "0", geometry)
	cmd.ExtraFiles = []*os.File{w}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start Xvfb: %v", err)
	}
	w.Close()
	t.Cleanup(func() {
		// SIGTERM, so that Xvfb removes its lock file and socket. A lock
		// left by a killed server is taken over by the next Xvfb that
		// starts, and two that start at once can both take it over and
		// end up on the same display (TestScanScreenX11 once met
		// "Can't open display :0" halfway through).
		exited := make(chan struct{})
		go func() {
			cmd.Wait()
			close(exited)
		}()
		cmd.Process.Signal(syscall.SIGTERM)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	})
	got := make(chan string, 1)
	go func() {
		line, _ := bufio.NewReader(r).ReadString('\n')
		r.Close()
		got <- strings.TrimSpace(line)
	}()
	select {
	case n := <-got:
		if n == "" {
			t.Fatal("Xvfb exited without reporting a display")
		}
		return ":" + n
	case <-time.After(15 * time.Second):
		t.Fatal("Xvfb did not report a display within 15s")
	}
	return ""
}
