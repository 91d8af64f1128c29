//go:build !windows

package main

import (
	"os"
	"os/signal"
	"syscall"
	"time"
)

// endBy ends the process by signal s, as a process that does not catch s
// ends, so that whoever started it sees it was interrupted: a shell then
// stops the script or loop that ran it instead of going on with the next
// command. The status a shell shows is the same as exitStatus's. A signal
// that was ignored when Sesame started (a background job of a script) is
// ignored still, so then the process exits with that status instead.
func endBy(s os.Signal) {
	signal.Reset(s)
	if n, ok := s.(syscall.Signal); ok && !signal.Ignored(s) {
		_ = syscall.Kill(os.Getpid(), n)
		time.Sleep(time.Second) // the signal ends the process before this does
	}
	os.Exit(exitStatus(s))
}
