//go:build !lean

package main

import (
	"strings"

	"github.com/spf13/cobra"

	"github.com/sesame-auth/sesame/vault"
)

// addCompletions teaches shell completion the accounts and pairings of the
// vault, and the values of the flags that take a fixed set.
func (a *app) addCompletions(root *cobra.Command) {
	fixed := map[string][]string{
		"store":     {"auto", "keyring", "passphrase"},
		"theme":     {"light", "dark"},
		"type":      {"totp", "hotp", "steam"},
		"algorithm": {"SHA1", "SHA256", "SHA512"},
	}
	formats := map[string][]string{
		"export": {exportURI, exportGoogle, exportBackup, exportAegis},
		"import": strings.Split(formatNames(), ", "),
	}
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if values, ok := formats[c.Name()]; ok {
			_ = c.RegisterFlagCompletionFunc("format", cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp))
		}
		for name, values := range fixed {
			if c.Flags().Lookup(name) != nil || c.PersistentFlags().Lookup(name) != nil {
				_ = c.RegisterFlagCompletionFunc(name, cobra.FixedCompletions(values, cobra.ShellCompDirectiveNoFileComp))
			}
		}
		switch c.Name() {
		case "code", "rm", "rename":
			c.ValidArgsFunction = a.completeAccounts
		case "unpair", "pause", "resume", "unblock":
			c.ValidArgsFunction = a.completePairings
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(root)
}

// completionData reads the vault for completion without asking anything:
// a keyring vault, or a passphrase vault with SESAME_PASSPHRASE set.
func (a *app) completionData() (vault.Data, bool) {
	o, err := a.vaultOptions()
	if err != nil {
		return vault.Data{}, false
	}
	v, err := vault.Open(o)
	if err != nil {
		return vault.Data{}, false
	}
	return v.Data(), true
}

func (a *app) completeAccounts(_ *cobra.Command, args []string, prefix string) ([]string, cobra.ShellCompDirective) {
	d, ok := a.completionData()
	if !ok || len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []string
	for _, acct := range d.Accounts {
		q := acct.Name
		if acct.Issuer != "" {
			q = acct.Issuer + ":" + acct.Name
		}
		q = strings.TrimSuffix(q, ":")
		if strings.HasPrefix(strings.ToLower(q), strings.ToLower(prefix)) {
			out = append(out, q+"\t"+string(acct.Type))
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

func (a *app) completePairings(_ *cobra.Command, args []string, prefix string) ([]string, cobra.ShellCompDirective) {
	d, ok := a.completionData()
	if !ok || len(args) > 0 {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	var out []string
	for _, p := range d.Pairings {
		if strings.HasPrefix(p.ID, prefix) {
			out = append(out, p.ID+"\t"+pairingLabel(p)+" ("+p.User+")")
		}
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}
