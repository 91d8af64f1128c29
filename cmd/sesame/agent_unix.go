//go:build !windows && !lean

package main

import (
	"fmt"
	"os/exec"
	"strings"
)

// runTool runs a service manager's command, saying what failed.
func (a *app) runTool(argv ...string) error {
	out, err := exec.Command(argv[0], argv[1:]...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("'%s' failed: %v %s", strings.Join(argv, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}
