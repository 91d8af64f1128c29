//go:build !unix

package tuitest

import "os/exec"

// runAs does nothing where processes have no Unix user ids (sway, its one
// caller, runs only on Linux).
func runAs(*exec.Cmd, uint32) {}
