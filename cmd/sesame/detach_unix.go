//go:build !windows && !lean

package main

import (
	"os/exec"
	"syscall"
)

// detach starts c in its own session, so that it outlives the terminal.
func detach(c *exec.Cmd) { c.SysProcAttr = &syscall.SysProcAttr{Setsid: true} }
