//go:build !lean

package main

import (
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/sesame-auth/sesame/tui/tuitest"
)

// The built binary starts with its core size limit at zero, whatever the
// limit it inherited, and harden makes the process non-dumpable.
func TestNoCoreDumps(t *testing.T) {
	var lim unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_CORE, &lim); err != nil {
		t.Fatal(err)
	}
	if lim.Max == 0 {
		t.Skip("the core size limit is 0 here already (hard limit): nothing to see")
	}
	// The child inherits a core limit above zero.
	raised := unix.Rlimit{Cur: lim.Max, Max: lim.Max}
	if err := unix.Setrlimit(unix.RLIMIT_CORE, &raised); err != nil {
		t.Fatal(err)
	}
	defer unix.Setrlimit(unix.RLIMIT_CORE, &lim)

	cmd := exec.Command(tuitest.Sesame(t), "add", "--secret", "-", "--issuer", "X")
	cmd.Env = tuitest.Environ("SESAME_HOME=" + t.TempDir())
	stdin, err := cmd.StdinPipe() // held open: the command waits for the secret
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { stdin.Close(); cmd.Process.Kill(); cmd.Wait() }()
	limits := "/proc/" + strconv.Itoa(cmd.Process.Pid) + "/limits"
	deadline := time.Now().Add(30 * time.Second)
	for {
		b, err := os.ReadFile(limits)
		if err != nil {
			t.Fatal(err)
		}
		if coreLimitZero(string(b)) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the running sesame still has a core size limit:\n%s", b)
		}
		time.Sleep(10 * time.Millisecond) // polling /proc, not synchronising
	}
	io.WriteString(stdin, "JBSWY3DPEHPK3PXP\n")

	harden()
	if d, err := unix.PrctlRetInt(unix.PR_GET_DUMPABLE, 0, 0, 0, 0); err != nil || d != 0 {
		t.Fatalf("after harden the process is dumpable: %d, %v", d, err)
	}
}

// coreLimitZero reports whether /proc/PID/limits says "Max core file size 0 0".
func coreLimitZero(limits string) bool {
	for _, line := range strings.Split(limits, "\n") {
		if strings.HasPrefix(line, "Max core file size") {
			f := strings.Fields(strings.TrimPrefix(line, "Max core file size"))
			return len(f) >= 2 && f[0] == "0"
		}
	}
	return false
}
