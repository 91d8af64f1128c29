//go:build lean

package main

// The lean build ('go build -tags lean'), which release packages install as
// sesame: it runs 'sesame code' and 'sesame list' itself, and hands every
// other command line to sesame-full, the whole program (the default build),
// installed next to it. A process that links neither the terminal UI, the QR
// decoder nor the approval server starts in a fraction of the time, and
// printing one code is mostly start-up (BENCHMARKS.md). 'go install' and
// 'go run' build the whole program as one sesame and never hand off.
//
// The hand-off happens before this process has read or written anything:
// for the terminal UI (no command), a command or flag this build does not
// have, help, shell completion and 'code --copy'. It replaces this process
// (a child process on Windows) with sesame-full and the same arguments, so
// what the user sees is the whole program's, exit status included.

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
)

// scanSources: this build does not scan.
type scanSources struct{}

// addCommands gives root the commands this build runs and hands the rest
// to sesame-full.
func (a *app) addCommands(root *cobra.Command) {
	root.AddCommand(a.listCmd(), a.codeCmd())
	usageErrors(root.Commands())
	root.Args = func(*cobra.Command, []string) error { return a.handOff() }
	root.RunE = func(*cobra.Command, []string) error { return a.handOff() }
	root.SetFlagErrorFunc(func(*cobra.Command, error) error { return a.handOff() })
	root.SetHelpFunc(func(*cobra.Command, []string) {
		fmt.Fprintf(a.stderr, "sesame: %v\n", a.handOff())
		os.Exit(1)
	})
	root.CompletionOptions.DisableDefaultCmd = true
}

// handOffEarly hands the command line to sesame-full before cobra sees it
// when cobra would answer it from this build's commands alone: shell
// completion asks about every command. It returns only when it could not.
func (a *app) handOffEarly(args []string) error {
	if len(args) > 0 && strings.HasPrefix(args[0], "__complete") {
		return a.handOff()
	}
	return nil
}

// handOff runs sesame-full with this process's arguments in its place. It
// returns only when it could not.
func (a *app) handOff() error {
	exe, err := os.Executable()
	if err == nil {
		exe, err = filepath.EvalSymlinks(exe)
	}
	if err != nil {
		return fmt.Errorf("find %s: %w", fullName, err)
	}
	full := filepath.Join(filepath.Dir(exe), fullName+exeSuffix)
	if _, err := os.Stat(full); err != nil {
		return fmt.Errorf("this command is in %s, the rest of Sesame, and it is not next to %s: reinstall Sesame from its release package (or build the single program with 'go install github.com/sesame-auth/sesame/cmd/sesame@latest')", fullName, exe)
	}
	return runInstead(full, a.args)
}

// addCopyFlag gives 'sesame code' no --copy: the clipboard is not linked
// here, so 'code --copy' is a flag this build does not have, and
// sesame-full runs it. Nothing sets copyIt, so nothing copies.
func (a *app) addCopyFlag(*cobra.Command, *bool) func(*cobra.Command, string) error {
	return nil
}
