//go:build !lean

package main

import (
	"os/exec"
	"syscall"
)

// detach starts c without a console of its own, so that it outlives this one.
func detach(c *exec.Cmd) {
	const detachedProcess = 0x00000008
	c.SysProcAttr = &syscall.SysProcAttr{CreationFlags: detachedProcess}
}
