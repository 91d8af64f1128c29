//go:build !lean

package main

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/sesame-auth/sesame/vault"
)

func (a *app) unlockCmd() *cobra.Command {
	var ttl time.Duration
	cmd := &cobra.Command{
		Use:   "unlock",
		Short: "Keep a passphrase vault open for this login session, for a while (Linux)",
		Long: `Ask for the vault passphrase once and keep the vault key in the Linux kernel's
session keyring, so that every command and the terminal UI of this login
session open the vault without the passphrase (and without the slow scrypt
step) until --for has passed or 'sesame lock' is run. The key ends with the
session (an SSH login, say) too. Changing the passphrase drops it.

Like ssh-agent, anything running as you in the same session can use the key
while it is kept. Nothing is kept unless you run 'sesame unlock'.

Only passphrase vaults need it; on macOS and Windows, and where the kernel
refuses keyrings (some container sandboxes), it says so and exits 1.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if ttl < time.Second {
				return usagef("--for must be at least 1s, not %s", ttl)
			}
			o, err := a.vaultOptions()
			if err != nil {
				return err
			}
			if err := vault.CheckKeyCache(o); err != nil {
				return err
			}
			v, err := a.openVault()
			if err != nil {
				return err
			}
			if err := v.KeepKey(ttl); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "unlocked for %s in this session: 'sesame lock' locks it now\n", ttl)
			return nil
		},
	}
	cmd.Flags().DurationVar(&ttl, "for", 15*time.Minute, "how long to keep the vault unlocked")
	return cmd
}

func (a *app) lockCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "lock",
		Short: "Drop the vault key that 'sesame unlock' kept, at once",
		RunE: func(cmd *cobra.Command, _ []string) error {
			o, err := a.vaultOptions()
			if err != nil {
				return err
			}
			removed, err := vault.ForgetKey(o)
			if err != nil {
				return err
			}
			if !removed {
				fmt.Fprintln(a.stdout, "the vault was not unlocked in this session: nothing to lock")
				return nil
			}
			fmt.Fprintln(a.stdout, "locked: the vault needs its passphrase again")
			return nil
		},
	}
}
