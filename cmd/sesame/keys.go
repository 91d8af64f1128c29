//go:build !lean

package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/sesame-auth/sesame/vault"
)

func (a *app) passwdCmd() *cobra.Command {
	var remove bool
	cmd := &cobra.Command{
		Use:   "passwd",
		Short: "Change the vault passphrase, or set a recovery passphrase on a keyring vault",
		Long: `For a vault protected by a passphrase, change that passphrase.

For a vault whose key is in the OS keyring, set (or change) a recovery
passphrase: if the keyring item is ever lost, 'sesame recover' opens the vault
with it and puts the key back. Choose a long passphrase: anyone with a copy of
the vault file can try to guess it offline (8 characters at the least).
--remove drops the recovery passphrase.

Every change makes a new vault key, so the old passphrase opens neither the
vault nor its backup afterwards. Copies of the vault file made before the
change still open with the old passphrase: delete them.

The new passphrase is asked twice on the terminal, or read from
SESAME_NEW_PASSPHRASE (meant for automation).`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			v, err := a.openVault()
			if err != nil {
				return err
			}
			if remove {
				if v.Store() != vault.StoreKeyring {
					return usagef("--remove is for the recovery passphrase of a keyring vault")
				}
				if err := v.SetPassphrase(nil); err != nil {
					return err
				}
				fmt.Fprintln(a.stdout, "removed the recovery passphrase")
				return nil
			}
			p := []byte(a.getenv("SESAME_NEW_PASSPHRASE"))
			if len(p) == 0 {
				if !a.terminal() {
					return errors.New("a new passphrase is needed: run in a terminal or set SESAME_NEW_PASSPHRASE")
				}
				if p, err = a.promptTwice("New passphrase: ", "nothing was changed"); err != nil {
					return err
				}
			}
			if err := vault.CheckPassphrase(p); err != nil {
				return fmt.Errorf("%w; nothing was changed", err)
			}
			if err := v.SetPassphrase(p); err != nil {
				return err
			}
			if v.Store() == vault.StoreKeyring {
				fmt.Fprintln(a.stdout, "set the recovery passphrase")
			} else {
				fmt.Fprintln(a.stdout, "changed the vault passphrase")
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&remove, "remove", false, "remove the recovery passphrase of a keyring vault")
	return cmd
}

func (a *app) recoverCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "recover",
		Short: "Open a keyring vault with its recovery passphrase and put its key back in the keyring",
		RunE: func(cmd *cobra.Command, _ []string) error {
			o, err := a.vaultOptions()
			if err != nil {
				return err
			}
			if o.Passphrase == nil {
				if o.Passphrase, err = a.prompt("Recovery passphrase: "); err != nil {
					return err
				}
			}
			v, err := vault.Open(o)
			if err != nil {
				return err
			}
			if v.Store() != vault.StoreKeyring {
				return errors.New("this vault is protected by a passphrase, not the keyring: there is nothing to recover")
			}
			if err := v.RestoreKeyring(); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "the vault key is back in the OS keyring; %s\n", plural(len(v.Data().Accounts), "account"))
			return nil
		},
	}
}
