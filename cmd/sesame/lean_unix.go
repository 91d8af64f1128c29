//go:build lean && !windows

package main

import (
	"fmt"
	"os"
	"syscall"
)

const exeSuffix = ""

// runInstead replaces this process with path, given args.
func runInstead(path string, args []string) error {
	err := syscall.Exec(path, append([]string{os.Args[0]}, args...), os.Environ())
	return fmt.Errorf("start %s: %w", path, err)
}
