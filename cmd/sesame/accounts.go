//go:build !lean

package main

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/sesame-auth/sesame/vault"
	"github.com/sesame-auth/sesame/vault/qrcode"
	"github.com/sesame-auth/sesame/vault/transfer"
)

func (a *app) addCmd() *cobra.Command {
	var (
		qr     bool
		scan   bool
		paste  bool
		all    bool
		manual vault.Account
		secret string
		typ    string
		algo   string
	)
	cmd := &cobra.Command{
		Use:   "add [URI] | add --qr FILE... | add --scan | add --clipboard | add --secret - --issuer X --name Y",
		Short: "Add accounts from otpauth:// URIs, QR codes (images, the screen, the clipboard) or a typed secret",
		Long: `Add accounts to the vault, creating the vault if there is none yet.

  sesame add 'otpauth://totp/Example:alice?secret=...&issuer=Example'
  sesame add < uris.txt                      one URI per line
  sesame add --qr screenshot.png ...         PNG, JPEG or GIF images of QR codes
  sesame add --scan [--all]                  the QR codes on your screen
  sesame add --clipboard [--all]             a QR code image or otpauth:// link
                                             on the clipboard
  sesame add --secret - --issuer Example --name alice
                                   the secret is asked without echo on a
                                   terminal, or read from stdin

--secret takes only "-": a secret written on the command line would be seen
by other users in the process list and kept in your shell history.

Nothing is added unless every input is valid; an account already in the vault
is refused. To move accounts from another authenticator, use 'sesame import'.

--scan captures every screen: through the X server on X11, the desktop's
Screenshot portal (which may ask you) or grim on Wayland, screencapture on
macOS, GDI on Windows. The capture stays in memory, or where the platform forces a file, in
a private temporary file removed at once. --scan and --clipboard add a
Google Authenticator export QR code like 'sesame import'; a QR code holding
a web link is refused. With several accounts, --all adds them all;
otherwise you are asked which.`,
		Args: cobra.ArbitraryArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkManualFlags(cmd); err != nil {
				return err
			}
			if all && !scan && !paste {
				return usagef("--all goes with --scan or --clipboard")
			}
			if scan || paste {
				if len(args) > 0 {
					return usagef("--scan and --clipboard take no arguments")
				}
				source, read := "the screen", a.screenCodes
				if paste {
					source, read = "the clipboard", a.clipboardCodes
				}
				texts, err := read()
				if err != nil {
					return fmt.Errorf("%w; nothing was added", err)
				}
				return a.addCodes(source, texts, all)
			}
			var accounts []vault.Account
			var err error
			switch {
			case qr:
				if len(args) == 0 {
					return usagef("--qr needs at least one image file")
				}
				accounts, err = accountsFromQR(args)
			case cmd.Flags().Changed("secret"):
				if len(args) > 0 {
					return usagef("give either a URI or --secret, not both")
				}
				manual.Type, manual.Algorithm = vault.Type(strings.ToLower(typ)), vault.Algorithm(strings.ToUpper(algo))
				accounts, err = a.accountFromFlags(manual)
			case len(args) > 0:
				accounts, err = accountsFromURIs(args, "argument")
			case a.terminal():
				return usagef("give an otpauth:// URI, --qr FILE or --secret (or pipe URIs on stdin)")
			default:
				accounts, err = accountsFromReader(a.input())
			}
			if err != nil {
				return err
			}
			if len(accounts) == 0 {
				return errors.New("no accounts to add: the input was empty")
			}
			v, err := a.openOrCreate()
			if err != nil {
				return err
			}
			var added []vault.Account
			_, err = v.Update(func(d *vault.Data) error {
				added = added[:0]
				for _, acct := range accounts {
					got, err := d.Add(acct, a.now())
					if err != nil {
						return fmt.Errorf("%w; nothing was added", err)
					}
					added = append(added, *got)
				}
				return nil
			})
			if err != nil {
				return err
			}
			for _, acct := range added {
				fmt.Fprintf(a.stdout, "added %s\n", acct.Label())
			}
			return nil
		},
	}
	f := cmd.Flags()
	f.BoolVar(&qr, "qr", false, "read otpauth:// QR codes from image files (PNG, JPEG, GIF)")
	f.BoolVar(&scan, "scan", false, "read the QR codes on the screen")
	f.BoolVar(&paste, "clipboard", false, "read a QR code image or an otpauth:// link from the clipboard")
	f.BoolVar(&all, "all", false, "with --scan or --clipboard: add every account found without asking")
	f.StringVar(&secret, "secret", "", `"-": type in a base32 secret (asked without echo, or read from stdin)`)
	f.StringVar(&manual.Issuer, "issuer", "", "issuer (service) of a --secret account")
	f.StringVar(&manual.Name, "name", "", "account name of a --secret account")
	f.StringVar(&typ, "type", "totp", "totp, hotp or steam")
	f.StringVar(&algo, "algorithm", "SHA1", "SHA1, SHA256 or SHA512")
	f.IntVar(&manual.Digits, "digits", 0, "code length, 6 to 8 (default 6; Steam 5)")
	f.IntVar(&manual.Period, "period", 0, "seconds per TOTP code, 1 to 3600 (default 30)")
	f.Uint64Var(&manual.Counter, "counter", 0, "next HOTP counter")
	return cmd
}

// manualFlags describe a --secret account; they mean nothing with a URI or
// a QR code, which carry their own parameters.
var manualFlags = []string{"issuer", "name", "type", "algorithm", "digits", "period", "counter"}

// checkManualFlags refuses flags that would be ignored and values outside
// their range, rather than quietly dropping or defaulting them.
func checkManualFlags(cmd *cobra.Command) error {
	f := cmd.Flags()
	var sources []string
	for _, name := range []string{"qr", "scan", "clipboard", "secret"} {
		if f.Changed(name) {
			sources = append(sources, "--"+name)
		}
	}
	if len(sources) > 1 {
		return usagef("give one of %s, not several", strings.Join(sources, ", "))
	}
	if !f.Changed("secret") {
		for _, name := range manualFlags {
			if f.Changed(name) {
				return usagef("--%s describes an account typed in with --secret; a URI or QR code carries its own", name)
			}
		}
		return nil
	}
	if s, _ := f.GetString("secret"); s != "-" {
		return usagef(`--secret takes only "-": the secret is then asked without echo, or read from stdin; on the command line it would show in the process list and your shell history`)
	}
	if !f.Changed("issuer") && !f.Changed("name") {
		return usagef("--secret needs --issuer, --name or both, to tell the account apart")
	}
	typ, _ := f.GetString("type")
	typ = strings.ToLower(typ)
	if digits, _ := f.GetInt("digits"); f.Changed("digits") && typ != string(vault.Steam) && (digits < vault.MinDigits || digits > vault.MaxDigits) {
		return usagef("--digits must be from %d to %d, not %d", vault.MinDigits, vault.MaxDigits, digits)
	}
	period, _ := f.GetInt("period")
	switch {
	case f.Changed("period") && typ == string(vault.HOTP):
		return usagef("--period is for time-based accounts; an HOTP account counts with --counter")
	case f.Changed("period") && (period < 1 || period > vault.MaxPeriod):
		return usagef("--period must be from 1 to %d seconds, not %d", vault.MaxPeriod, period)
	case f.Changed("counter") && typ != string(vault.HOTP):
		return usagef("--counter is for HOTP accounts (--type hotp)")
	}
	return nil
}

// accountFromFlags makes the account of --secret -: the secret is asked
// without echo on a terminal, or read as the first line of stdin.
func (a *app) accountFromFlags(acct vault.Account) ([]vault.Account, error) {
	var secret string
	if a.terminal() {
		b, err := a.ask("Secret: ", true)
		if err != nil {
			return nil, err
		}
		secret = string(b)
	} else {
		line, err := a.lines().ReadString('\n')
		if err != nil && !errors.Is(err, io.EOF) {
			return nil, fmt.Errorf("read the secret from stdin: %w", err)
		}
		secret = line
	}
	s, err := vault.ParseSecret(strings.TrimSpace(secret))
	if err != nil {
		return nil, err
	}
	acct.Secret = s
	acct.Normalize()
	if err := acct.Validate(); err != nil {
		return nil, err
	}
	return []vault.Account{acct}, nil
}

// accountsFromURIs parses URIs, naming the bad one in the error.
func accountsFromURIs(uris []string, what string) ([]vault.Account, error) {
	var out []vault.Account
	for i, u := range uris {
		if transfer.IsMigrationLink(u) {
			return nil, fmt.Errorf("%s %d is a Google Authenticator export: use 'sesame import' for it", what, i+1)
		}
		acct, err := vault.ParseURI(u)
		if err != nil {
			return nil, fmt.Errorf("%s %d: %w; nothing was added", what, i+1, err)
		}
		out = append(out, acct)
	}
	return out, nil
}

func accountsFromReader(r io.Reader) ([]vault.Account, error) {
	b, err := io.ReadAll(io.LimitReader(r, 16<<20))
	if err != nil {
		return nil, fmt.Errorf("read stdin: %w", err)
	}
	var out []vault.Account
	for n, line := range strings.Split(string(b), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		acct, err := vault.ParseURI(line)
		if transfer.IsMigrationLink(line) {
			err = errors.New("a Google Authenticator export: use 'sesame import' for it")
		}
		if err != nil {
			return nil, fmt.Errorf("line %d: %w; nothing was added", n+1, err)
		}
		out = append(out, acct)
	}
	return out, nil
}

func accountsFromQR(files []string) ([]vault.Account, error) {
	var out []vault.Account
	for _, f := range files {
		texts, err := qrcode.DecodeFile(f)
		if err != nil {
			return nil, fmt.Errorf("%w; nothing was added", err)
		}
		for _, t := range texts {
			if transfer.IsMigrationLink(t) {
				return nil, fmt.Errorf("%s holds a Google Authenticator export: use 'sesame import %s'", f, f)
			}
			acct, err := vault.ParseURI(t)
			if err != nil {
				return nil, fmt.Errorf("%s: the QR code is not a usable otpauth:// link: %w; nothing was added", f, err)
			}
			out = append(out, acct)
		}
	}
	return out, nil
}

func (a *app) rmCmd() *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "rm QUERY",
		Short: "Remove one account",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			v, acct, err := a.openAccount(args[0])
			if err != nil {
				return err
			}
			if !yes {
				ok, err := a.confirm(fmt.Sprintf("Remove %s? Its codes cannot be recovered", acct.Label()))
				if err != nil {
					return err
				}
				if !ok {
					return errors.New("nothing was removed")
				}
			}
			id := acct.ID
			var removed vault.Account
			if _, err := v.Update(func(d *vault.Data) error {
				removed, err = d.Remove(id)
				return err
			}); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "removed %s\n", removed.Label())
			return nil
		},
	}
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation")
	return cmd
}

func (a *app) renameCmd() *cobra.Command {
	var issuer, name string
	cmd := &cobra.Command{
		Use:   "rename QUERY [--issuer X] [--name Y]",
		Short: "Change an account's issuer or name",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			setIssuer, setName := cmd.Flags().Changed("issuer"), cmd.Flags().Changed("name")
			if !setIssuer && !setName {
				return usagef("give --issuer, --name or both")
			}
			v, acct, err := a.openAccount(args[0])
			if err != nil {
				return err
			}
			id, old := acct.ID, acct.Label()
			var setI, setN *string
			if setIssuer {
				setI = &issuer
			}
			if setName {
				setN = &name
			}
			var renamed vault.Account
			_, err = v.Update(func(d *vault.Data) error {
				got, err := d.Rename(id, setI, setN)
				if err == nil {
					renamed = *got
				}
				return err
			})
			if err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "renamed %s to %s\n", old, renamed.Label())
			return nil
		},
	}
	cmd.Flags().StringVar(&issuer, "issuer", "", "new issuer")
	cmd.Flags().StringVar(&name, "name", "", "new account name")
	return cmd
}
