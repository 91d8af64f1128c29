//go:build lean

package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
)

const exeSuffix = ".exe"

// runInstead runs path with args in this console and exits with its status:
// Windows has no exec. Ctrl-C reaches both processes; this one leaves it to
// the child.
func runInstead(path string, args []string) error {
	signal.Ignore(os.Interrupt)
	cmd := exec.Command(path, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		os.Exit(exit.ExitCode())
	}
	if err != nil {
		return fmt.Errorf("start %s: %w", path, err)
	}
	os.Exit(0)
	return nil
}
