//go:build unix

package pgtest

import (
	"os/exec"
	"syscall"
)

// runAs makes c run as the given user and group.
func runAs(c *exec.Cmd, uid, gid int) {
	c.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: uint32(uid), Gid: uint32(gid)}}
}
