package main

// The commands that read the vault and print: 'sesame list' and 'sesame
// code'. They are in both builds (see lean.go).

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/sesame-auth/sesame/vault"
)

// accountJSON is the stable --json shape of an account: every field but the secret.
type accountJSON struct {
	ID        string    `json:"id"`
	Type      string    `json:"type"`
	Issuer    string    `json:"issuer"`
	Name      string    `json:"name"`
	Algorithm string    `json:"algorithm"`
	Digits    int       `json:"digits"`
	Period    int       `json:"period,omitempty"`
	Counter   *uint64   `json:"counter,omitempty"`
	Pinned    bool      `json:"pinned"`
	Added     time.Time `json:"added,omitzero"`
}

func toJSON(acct *vault.Account) accountJSON {
	j := accountJSON{ID: acct.ID, Type: string(acct.Type), Issuer: acct.Issuer, Name: acct.Name,
		Algorithm: string(acct.Algorithm), Digits: acct.Digits, Period: acct.Period, Pinned: acct.Pinned, Added: acct.Added}
	if acct.Type == vault.HOTP {
		c := acct.Counter
		j.Counter = &c
	}
	return j
}

func (a *app) listCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list",
		Short: "List the accounts (never their secrets)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			v, err := a.openVault()
			if err != nil {
				return err
			}
			d := v.Data()
			if asJSON {
				out := make([]accountJSON, 0, len(d.Accounts))
				for i := range d.Accounts {
					out = append(out, toJSON(&d.Accounts[i]))
				}
				return writeJSON(a.stdout, out)
			}
			if len(d.Accounts) == 0 {
				fmt.Fprintln(a.stderr, "sesame: the vault is empty: add an account with 'sesame add'")
				return nil
			}
			out := bufio.NewWriter(a.stdout) // one write, not one per cell
			tw := tabwriter.NewWriter(out, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ISSUER\tNAME\tTYPE\tDETAILS")
			for _, acct := range d.Accounts {
				details := fmt.Sprintf("%s, %d digits, %ds", acct.Algorithm, acct.Digits, acct.Period)
				if acct.Type == vault.HOTP {
					details = fmt.Sprintf("%s, %d digits, counter %d", acct.Algorithm, acct.Digits, acct.Counter)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", dash(acct.Issuer), dash(acct.Name), acct.Type, details)
			}
			if err := tw.Flush(); err != nil {
				return err
			}
			return out.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON array of every non-secret field")
	return cmd
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

// codeJSON is the stable --json shape of 'sesame code'.
type codeJSON struct {
	Issuer    string  `json:"issuer"`
	Name      string  `json:"name"`
	Type      string  `json:"type"`
	Code      string  `json:"code"`
	Period    int     `json:"period,omitempty"`
	Remaining int     `json:"remaining,omitempty"`
	Counter   *uint64 `json:"counter,omitempty"`
}

func (a *app) codeCmd() *cobra.Command {
	var asJSON, copyIt bool
	var copyCode func(*cobra.Command, string) error // set with --copy (addCopyFlag)
	cmd := &cobra.Command{
		Use:   "code QUERY",
		Short: "Print the current code of one account",
		Long: `Print the current code of the account that QUERY names: its ID, an exact
issuer or name first, then a unique part of "issuer name". Plain output is the bare
code and a newline, so that $(sesame code github) works. For an HOTP account
the counter advances and is saved before the code is printed.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if cmd.Flags().Changed("clear-after") && !copyIt {
				return usagef("--clear-after is for --copy")
			}
			v, acct, err := a.openAccount(args[0])
			if err != nil {
				return err
			}
			now := a.now()
			var code vault.Code
			if acct.Type == vault.HOTP {
				code, err = v.NextHOTP(acct.ID)
			} else {
				code, err = acct.Code(now)
			}
			if err != nil {
				return err
			}
			// The code is printed first, so that it is there even when the
			// clipboard fails.
			if asJSON {
				j := codeJSON{Issuer: acct.Issuer, Name: acct.Name, Type: string(acct.Type), Code: code.Value}
				if acct.Type == vault.HOTP {
					used := acct.Counter // the counter this code was made from
					j.Counter = &used
				} else {
					j.Period, j.Remaining = acct.Period, int(code.Remaining(now)/time.Second)
				}
				err = writeJSON(a.stdout, j)
			} else {
				_, err = fmt.Fprintln(a.stdout, code.Value)
			}
			if err == nil && copyIt {
				err = copyCode(cmd, code.Value)
			}
			return err
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print issuer, name, type, code and period and remaining seconds (TOTP) or the counter used (HOTP) as JSON")
	copyCode = a.addCopyFlag(cmd, &copyIt)
	return cmd
}

// openAccount opens the vault and resolves a user's query to one account.
func (a *app) openAccount(query string) (*vault.Vault, vault.Account, error) {
	v, err := a.openVault()
	if err != nil {
		return nil, vault.Account{}, err
	}
	acct, err := v.Find(query)
	if err != nil {
		return nil, vault.Account{}, err
	}
	return v, acct, nil
}
