package tuitest_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/tui/tuitest"
)

// TestTermInTmux drives a shell through every Term method: the environment
// it gets, its working directory, scrollback, the pipe and its exit.
func TestTermInTmux(t *testing.T) {
	t.Setenv("SESAME_HOME", "/the/developer's/vault")
	dir := t.TempDir()
	tm := tuitest.Start(t, tuitest.TermOptions{Width: 60, Height: 10, Scrollback: 100, Dir: dir, Env: []string{"GREETING=it's me", "PS1=$ "}}, "sh")

	tm.Line(`echo "[$GREETING][$SESAME_HOME][$(pwd)]"`)
	tm.WaitFor(10*time.Second, "[it's me][]["+dir+"]")

	// Thirty lines in a ten-line terminal: the first is only in the scrollback.
	tm.Line("seq 101 130")
	tm.WaitMatch(10*time.Second, 1, `(?m)^101\n102\n(.*\n)*130$`)

	raw := filepath.Join(t.TempDir(), "it's.raw")
	tm.PipeTo(raw)
	tm.Type("echo piped ")
	tm.Type("-x")
	tm.Keys("Enter")
	tm.WaitCount(10*time.Second, 2, "piped -x")
	deadline := time.Now().Add(10 * time.Second)
	for b, _ := os.ReadFile(raw); !strings.Contains(string(b), "piped -x\r\n"); b, _ = os.ReadFile(raw) {
		if time.Now().After(deadline) {
			t.Fatalf("the pipe holds %q, want the echo's output", b)
		}
		time.Sleep(50 * time.Millisecond) // polling the file, not synchronising
	}

	tm.Line("exit")
	tm.WaitExit(10 * time.Second)
}
