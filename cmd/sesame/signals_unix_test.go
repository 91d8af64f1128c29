//go:build !windows && !lean

package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"
	"testing"
	"time"
)

// signalChild is a process that watches signals as a command does and
// sends itself SIGTERM: "unwatched" never asks for the context's Done
// channel, "watched" asks first; "end-term" and "end-int" end by SIGTERM or
// SIGINT through endBy. It prints what it caught, if it lives to.
func signalChild(mode string) int {
	ctx, stop := notifySignals()
	defer stop()
	switch mode {
	case "end-term":
		endBy(syscall.SIGTERM)
	case "end-int":
		endBy(syscall.SIGINT)
	case "watched":
		ctx.Done()
	}
	if err := syscall.Kill(os.Getpid(), syscall.SIGTERM); err != nil {
		fmt.Println(err)
		return 3
	}
	// The context's own channel, which does not start the watch.
	select {
	case <-ctx.(*signalContext).Context.Done():
		fmt.Println("caught:", context.Cause(ctx))
		return 0
	case <-time.After(10 * time.Second):
		fmt.Println("neither caught nor ended by SIGTERM")
		return 3
	}
}

// runSignalChild runs signalChild in mode, through sh when script is set
// ("$0" is the test binary), and returns its output and how it ended.
func runSignalChild(t *testing.T, mode, script string) (string, *os.ProcessState) {
	t.Helper()
	cmd := exec.Command(os.Args[0])
	if script != "" {
		cmd = exec.Command("sh", "-c", script, os.Args[0])
	}
	cmd.Env = append(os.Environ(), signalChildEnv+"="+mode)
	out, err := cmd.Output()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatal(err)
	}
	return string(out), cmd.ProcessState
}

// Signals are watched from the first time the context's Done channel is
// asked for: before that SIGTERM ends the process at once, as it ends any
// program; after, it ends the context, with the signal as its cause. endBy
// ends the process by the signal itself, so that a shell knows it was
// interrupted, unless the signal was ignored from the start: then the exit
// status says it.
func TestSignalsWatchedFromFirstWait(t *testing.T) {
	t.Parallel()
	if out, st := runSignalChild(t, "unwatched", ""); !endedBy(st, syscall.SIGTERM) || out != "" {
		t.Errorf("SIGTERM before anything waited: %v, output %q; want the process ended by SIGTERM, silently", st, out)
	}
	if out, st := runSignalChild(t, "watched", ""); st.ExitCode() != 0 || !strings.Contains(out, "caught: stopped by terminated") {
		t.Errorf("SIGTERM once the context is watched: %v, output %q; want it caught as the context's cause", st, out)
	}
	if out, st := runSignalChild(t, "end-term", ""); !endedBy(st, syscall.SIGTERM) || out != "" {
		t.Errorf("endBy(SIGTERM): %v, output %q; want the process ended by SIGTERM", st, out)
	}
	if out, st := runSignalChild(t, "end-int", ""); !endedBy(st, syscall.SIGINT) || out != "" {
		t.Errorf("endBy(SIGINT): %v, output %q; want the process ended by SIGINT", st, out)
	}
	// Go keeps an inherited "ignore" for SIGINT (not for SIGTERM).
	if out, st := runSignalChild(t, "end-int", `trap "" INT; exec "$0"`); st.ExitCode() != 130 || out != "" {
		t.Errorf("endBy(SIGINT) with SIGINT ignored from the start: %v, output %q; want exit 130", st, out)
	}
}
