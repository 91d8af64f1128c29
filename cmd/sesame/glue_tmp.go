package main

// Temporary until the tui packages land (the TUI engineer is writing them).

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"
)

func (a *app) addTUIFlags(root *cobra.Command) {}

func (a *app) runTUI(cmd *cobra.Command) error {
	v, err := a.openVault()
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "%d accounts\n", len(v.Data().Accounts))
	return nil
}

func (a *app) copyCode(cmd *cobra.Command, code string) error {
	return errors.New("copy is not wired yet")
}

func decodeQRFile(f string) ([]string, error) { return nil, errors.New("qr not wired yet") }
