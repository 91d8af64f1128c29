//go:build !lean

package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/sesame-auth/sesame/approve"
	"github.com/sesame-auth/sesame/tui"
	"github.com/sesame-auth/sesame/tui/clipboard"
)

func (a *app) addTUIFlags(root *cobra.Command) {
	root.PersistentFlags().BoolVar(&a.ui.privacy, "privacy", false, "start with codes masked except the selected one (for screen sharing)")
	root.PersistentFlags().StringVar(&a.ui.theme, "theme", "", "force the light or dark palette (default: ask the terminal, or read COLORFGBG)")
	root.PersistentFlags().BoolVar(&a.ui.noNotify, "no-notify", false, "no bell or terminal notification (OSC 9/777) for new sign-in requests (or set SESAME_NO_NOTIFY=1)")
	root.PersistentFlags().DurationVar(&a.ui.clearAfter, "clear-after", 30*time.Second, "clear a copied code from the clipboard after this long, if it is still there (0: never)")
}

func (a *app) runTUI(cmd *cobra.Command) error { return a.runTUIWith(cmd, "") }

// runTUIWith opens the terminal UI with a notice line, as 'sesame demo' does.
func (a *app) runTUIWith(cmd *cobra.Command, notice string) error {
	if !a.terminal() || !isTerminal(a.stdout) {
		return usagef("the terminal UI needs a terminal; in scripts use 'sesame list' and 'sesame code QUERY'")
	}
	o, err := a.vaultOptions()
	if err != nil {
		return err
	}
	switch a.ui.theme {
	case "", "light", "dark":
	default:
		return usagef("--theme must be light or dark, not %q", a.ui.theme)
	}
	store, err := a.storeKind()
	if err != nil {
		return err
	}
	return tui.Run(cmd.Context(), tui.Options{
		VaultOptions:  o,
		Store:         store,
		ClearAfter:    a.ui.clearAfter,
		Privacy:       a.ui.privacy,
		Theme:         a.ui.theme,
		Getenv:        a.getenv,
		Notice:        notice,
		NoNotify:      a.noNotify(),
		DeviceOptions: approve.Options{Kinds: providers},
		ClearLater: func(code string, after time.Duration) {
			if err := a.spawnClearer(code, after); err != nil {
				fmt.Fprintf(a.stderr, "sesame: the copied code could not be scheduled for clearing: %v\n", err)
			}
		},
	})
}

// addCopyFlag gives 'sesame code' its --copy flag, and returns what copies
// the code when it is set.
func (a *app) addCopyFlag(cmd *cobra.Command, copyIt *bool) func(*cobra.Command, string) error {
	cmd.Flags().BoolVar(copyIt, "copy", false, "also copy the code to the clipboard")
	return a.copyCode
}

// copyCode copies a code for 'sesame code --copy' and, unless
// --clear-after is 0, leaves a small background process that clears the
// clipboard later if it still holds the code.
func (a *app) copyCode(cmd *cobra.Command, code string) error {
	env := clipboard.Env{Getenv: a.getenv}
	// OSC 52 goes to the terminal on stderr, so that $(sesame code --copy x)
	// still captures only the code.
	if isTerminal(a.stderr) {
		env.Terminal = a.stderr.(*os.File)
	}
	cb := clipboard.Detect(env)
	where, err := cb.Copy(cmd.Context(), code)
	if err != nil {
		return fmt.Errorf("copy the code: %w", err)
	}
	if a.ui.clearAfter <= 0 {
		fmt.Fprintf(a.stderr, "sesame: copied to %s\n", where)
		return nil
	}
	if err := a.spawnClearer(code, a.ui.clearAfter); err != nil {
		fmt.Fprintf(a.stderr, "sesame: copied to %s; it will not be cleared automatically: %v\n", where, err)
		return nil
	}
	fmt.Fprintf(a.stderr, "sesame: copied to %s; clearing it in %s if it is still there\n", where, a.ui.clearAfter)
	return nil
}

// spawnClearer starts 'sesame clear-clipboard' detached, handing it the
// code on stdin (never in argv, where other users could see it).
func (a *app) spawnClearer(code string, after time.Duration) error {
	after = max(after, time.Second)
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	c := exec.Command(exe, "clear-clipboard", "--clear-after", after.String())
	c.Stdin = strings.NewReader(code + "\n")
	detach(c)
	if err := c.Start(); err != nil {
		return err
	}
	return c.Process.Release()
}

// clearClipboardCmd is the hidden helper behind --copy: it waits, then
// clears the system clipboard if it still holds the code read from stdin.
func (a *app) clearClipboardCmd() *cobra.Command {
	return &cobra.Command{
		Use:    "clear-clipboard",
		Hidden: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			line, err := bufio.NewReader(io.LimitReader(a.stdin, 64)).ReadString('\n')
			code := strings.TrimSpace(line)
			if code == "" {
				return errors.Join(errors.New("no code on stdin"), err)
			}
			select {
			case <-time.After(a.ui.clearAfter):
			case <-cmd.Context().Done():
				return nil
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			_, err = clipboard.Detect(clipboard.Env{Getenv: a.getenv}).ClearIf(ctx, code)
			return err
		},
	}
}

// isTerminal reports whether w is an interactive terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}
