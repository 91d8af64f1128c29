//go:build !unix

package pgtest

import "os/exec"

// runAs is never reached off Unix: there is no root there to step down from
// (asUser returns before it when the effective user is not 0).
func runAs(*exec.Cmd, int, int) {}
