//go:build !lean

package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"github.com/sesame-auth/sesame/vault"
	"github.com/sesame-auth/sesame/vault/transfer"
)

// maxPasswordTries is how often import asks again after a wrong password.
const maxPasswordTries = 3

func (a *app) importCmd() *cobra.Command {
	var (
		format       string
		passwordFile string
		partial      bool
		dryRun       bool
		asJSON       bool
	)
	cmd := &cobra.Command{
		Use:   "import FILE...",
		Short: "Import accounts from another authenticator's export files or QR images",
		Long: `Import accounts from export files of other authenticator apps, detected from
their content:

  Google Authenticator  otpauth-migration:// links (text) or the export QR
                        codes as PNG/JPEG/GIF; give every QR code of a
                        multi-QR export in one run
  Aegis                 vault JSON, plain or encrypted
  2FAS                  .2fas backups, plain or encrypted
  andOTP                JSON, plain or encrypted (current and old format;
                        an old encrypted backup needs --format andotp)
  Bitwarden             unencrypted JSON or CSV export (login.totp)
  Ente Auth             plain text export; any text file of otpauth:// URIs
  FreeOTP               FreeOTP 2 encrypted backups (Java-serialized, even
                        when the file is named .xml)
  FreeOTP+              JSON export; FreeOTP/FreeOTP+ internal tokens.xml
  Proton Authenticator  JSON export
  Stratum               Authenticator Pro backups, plain or encrypted
                        (current and legacy format)
  TOTP Authenticator    BinaryBoot's encrypted backup, or its app data
                        (TOTP_Authenticator_Preferences.xml)
  also                  Steam Desktop Authenticator, Duo, and Sesame's own
                        backups ('sesame export')

The password of an encrypted file is asked on the terminal, or read from
--password-file (first line). It is never given as a flag value.

The import is all-or-nothing: if any file cannot be read, nothing is added.
A valid export that holds no accounts at all is an error too (exit 1,
"nothing to import"), so that a wrong or empty file is not taken for success.
Entries Sesame cannot use and accounts already in the vault are skipped, and
each skip is listed with its reason; an account already in the vault with
other settings (digits, period...) is skipped too, and the reason says so.
Accounts imported with something to check (a secret under 80 bits) are
listed as warnings. FILE "-" reads standard input.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			opts := transfer.ImportOptions{AllowPartial: partial}
			if format != "" {
				f, err := transfer.ParseFormat(format)
				if err != nil {
					return usageError{err}
				}
				opts.Format = f
			}
			var inputs []transfer.Input
			for _, name := range args {
				in, err := a.readInput(name)
				if err != nil {
					return err
				}
				inputs = append(inputs, in)
			}
			res, err := a.importWithPassword(opts, passwordFile, inputs)
			if errors.Is(err, transfer.ErrNoAccounts) {
				return err // "nothing to import" says it all
			}
			if err != nil {
				return fmt.Errorf("%w; nothing was imported", err)
			}
			var added []vault.Account
			var dups []transfer.Skip
			if dryRun {
				v, err := a.openVault()
				switch {
				case errors.Is(err, vault.ErrNoVault):
					added = res.Accounts
				case err != nil:
					return err
				default:
					d := v.Data()
					if added, dups, err = transfer.Merge(&d, res.Accounts, a.now()); err != nil {
						return err
					}
				}
			} else if len(res.Accounts) > 0 {
				v, err := a.openOrCreate()
				if err != nil {
					return err
				}
				_, err = v.Update(func(d *vault.Data) error {
					added, dups, err = transfer.Merge(d, res.Accounts, a.now())
					return err
				})
				if err != nil {
					return fmt.Errorf("%w; nothing was imported", err)
				}
			}
			skipped := append(res.Skipped, dups...)
			if asJSON {
				if err := writeJSON(a.stdout, importReport(res, added, skipped, dryRun)); err != nil {
					return err
				}
				return nothingImported(added, dryRun)
			}
			verb := "added"
			if dryRun {
				verb = "would add"
			}
			for _, acct := range added {
				fmt.Fprintf(a.stdout, "%s %s\n", verb, acct.Label())
			}
			for _, s := range skipped {
				if s.Source != "" {
					s.Source = filepath.Base(s.Source)
				}
				fmt.Fprintf(a.stdout, "skipped %s\n", s)
			}
			for _, w := range res.Warnings {
				if w.Source != "" {
					w.Source = filepath.Base(w.Source)
				}
				fmt.Fprintf(a.stdout, "warning %s\n", w)
			}
			var formats []string
			for _, in := range res.Inputs {
				formats = append(formats, fmt.Sprintf("%s (%s)", filepath.Base(in.Name), in.Format))
			}
			fmt.Fprintf(a.stdout, "%s %d, skipped %d, from %s\n", verb, len(added), len(skipped), strings.Join(formats, ", "))
			return nothingImported(added, dryRun)
		},
	}
	f := cmd.Flags()
	f.StringVar(&format, "format", "", "the files' format, when detection guesses wrong: "+formatNames())
	f.StringVar(&passwordFile, "password-file", "", "read the password of encrypted files from this file (first line)")
	f.BoolVar(&partial, "partial", false, "import a multi-QR Google Authenticator export even if some QR codes are missing")
	f.BoolVar(&dryRun, "dry-run", false, "show what would be imported without changing the vault")
	f.BoolVar(&asJSON, "json", false, "print the report as JSON")
	return cmd
}

// nothingImported is the error of an import that skipped every account it
// read: like an export with no accounts, it is not taken for success.
func nothingImported(added []vault.Account, dryRun bool) error {
	switch {
	case len(added) > 0:
		return nil
	case dryRun:
		return errors.New("nothing would be imported: every account was skipped (see the reasons above)")
	}
	return errors.New("nothing imported: every account was skipped (see the reasons above)")
}

func formatNames() string {
	var names []string
	for _, f := range transfer.Formats() {
		names = append(names, string(f))
	}
	return strings.Join(names, ", ")
}

// importJSON is the --json report of an import.
type importJSON struct {
	DryRun   bool           `json:"dry_run,omitempty"`
	Added    []accountJSON  `json:"added"`
	Skipped  []skipJSON     `json:"skipped"`
	Warnings []warningJSON  `json:"warnings"`
	Inputs   []importedFile `json:"inputs"`
}

type warningJSON struct {
	Source  string `json:"source,omitempty"`
	Label   string `json:"label"`
	Message string `json:"message"`
}

type skipJSON struct {
	Source string `json:"source,omitempty"`
	Label  string `json:"label"`
	Reason string `json:"reason"`
}

type importedFile struct {
	Name     string `json:"name"`
	Format   string `json:"format"`
	Accounts int    `json:"accounts"`
}

func importReport(res *transfer.Result, added []vault.Account, skipped []transfer.Skip, dryRun bool) importJSON {
	r := importJSON{DryRun: dryRun, Added: []accountJSON{}, Skipped: []skipJSON{}, Warnings: []warningJSON{}, Inputs: []importedFile{}}
	for i := range added {
		r.Added = append(r.Added, toJSON(&added[i]))
	}
	for _, s := range skipped {
		r.Skipped = append(r.Skipped, skipJSON(s))
	}
	for _, w := range res.Warnings {
		r.Warnings = append(r.Warnings, warningJSON(w))
	}
	for _, in := range res.Inputs {
		r.Inputs = append(r.Inputs, importedFile{in.Name, string(in.Format), in.Accounts})
	}
	return r
}

// readInput reads one import file, or standard input for "-".
func (a *app) readInput(name string) (transfer.Input, error) {
	if name != "-" {
		return transfer.ReadFile(name)
	}
	data, err := io.ReadAll(io.LimitReader(a.input(), transfer.MaxFileSize+1))
	if err != nil {
		return transfer.Input{}, fmt.Errorf("read standard input: %w", err)
	}
	if len(data) > transfer.MaxFileSize {
		return transfer.Input{}, fmt.Errorf("standard input: %w", transfer.ErrTooLarge)
	}
	return transfer.Input{Name: "stdin", Data: data}, nil
}

// importWithPassword runs the import, asking for passwords on the terminal
// (again after a wrong one) or reading them from passwordFile.
func (a *app) importWithPassword(opts transfer.ImportOptions, passwordFile string, inputs []transfer.Input) (*transfer.Result, error) {
	var fromFile []byte
	if passwordFile != "" {
		p, err := readFirstLine(passwordFile)
		if err != nil {
			return nil, err
		}
		fromFile = p
	}
	known := map[string][]byte{}
	opts.Password = func(name string, f transfer.Format) ([]byte, error) {
		if fromFile != nil {
			return fromFile, nil
		}
		if p, ok := known[name]; ok {
			return p, nil
		}
		if !a.terminal() || a.stdinUsed(inputs) {
			return nil, fmt.Errorf("%w: give it with --password-file FILE, or run in a terminal", transfer.ErrPasswordRequired)
		}
		p, err := a.prompt(fmt.Sprintf("Password of %s (%s): ", filepath.Base(name), f))
		if err != nil {
			return nil, err
		}
		known[name] = p
		return p, nil
	}
	for try := 1; ; try++ {
		res, err := transfer.Import(opts, inputs...)
		if !errors.Is(err, transfer.ErrWrongPassword) || fromFile != nil || try >= maxPasswordTries || !a.terminal() {
			return res, err
		}
		fmt.Fprintf(a.stderr, "sesame: %v\n", err)
		clear(known)
	}
}

// stdinUsed reports whether standard input is one of the files, so it
// cannot also answer a password question.
func (a *app) stdinUsed(inputs []transfer.Input) bool {
	for _, in := range inputs {
		if in.Name == "stdin" {
			return true
		}
	}
	return false
}

// Export formats.
const (
	exportURI    = "uri"
	exportGoogle = "google"
	exportBackup = "backup"
	exportAegis  = "aegis"
)

func (a *app) exportCmd() *cobra.Command {
	var (
		format       string
		out          string
		force        bool
		passwordFile string
	)
	cmd := &cobra.Command{
		Use:   "export --format uri|google|backup|aegis [--out FILE]",
		Short: "Export accounts: otpauth URIs, Google Authenticator QR codes, an encrypted backup or an Aegis vault",
		Long: `Export every account of the vault.

  --format backup   Sesame's encrypted backup (age, passphrase): restore it on
                    another machine with 'sesame import FILE'
  --format aegis    an encrypted Aegis vault: import it in Aegis with the password
  --format google   Google Authenticator migration QR codes, each kept small
                    enough for a phone camera: at most 10 accounts in one code,
                    fewer when names, issuers or secrets are long. Shown one by
                    one in the terminal (press Enter for the next), or written
                    as PNG files with --out DIR or --out PREFIX.
                    Google Authenticator, Aegis and others scan them. Steam
                    accounts, 7-digit codes and periods other than 30 s do not
                    fit the format and are left out (and listed).
  --format uri      a text list of otpauth:// URIs, UNENCRYPTED: anyone who
                    reads it has your codes. It is not printed to a terminal
                    unless you add --force.

The passphrase of backup and aegis exports is asked twice on the terminal, or
read from --password-file (first line). Files are written with mode 0600; an
existing file is not overwritten without --force.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			switch format {
			case exportURI, exportGoogle, exportBackup, exportAegis:
			case "":
				return usagef("choose a format with --format uri, google, backup or aegis")
			default:
				return usagef("unknown export format %q: use uri, google, backup or aegis", format)
			}
			encrypted := format == exportBackup || format == exportAegis
			switch {
			case passwordFile != "" && !encrypted:
				return usagef("--password-file is for the encrypted formats, backup and aegis; a %s export has no passphrase", format)
			case force && out == "" && format != exportURI:
				return usagef("--force overwrites files given with --out; without --out there is nothing to overwrite")
			}
			v, err := a.openVault()
			if err != nil {
				return err
			}
			accounts := v.Data().Accounts
			if len(accounts) == 0 {
				return errors.New("the vault has no accounts to export")
			}
			switch format {
			case exportURI:
				return a.exportURIs(accounts, out, force)
			case exportGoogle:
				return a.exportGoogle(accounts, out, force)
			}
			pw, err := a.exportPassword(passwordFile)
			if err != nil {
				return err
			}
			var data []byte
			work := transfer.WithWorkFactor(a.scryptWork)
			if format == exportBackup {
				data, err = transfer.ExportBackup(accounts, pw, work)
			} else {
				data, err = transfer.ExportAegis(accounts, pw, work)
			}
			if err != nil {
				return err
			}
			if out == "" {
				_, err = a.stdout.Write(data)
				return err
			}
			if err := writeExport(out, data, force); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "exported %s to %s (%s, encrypted)\n", plural(len(accounts), "account"), out, format)
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&format, "format", "", "uri, google, backup or aegis")
	f.StringVarP(&out, "out", "o", "", "write to this file (google: a folder or a file name prefix for the PNGs)")
	f.BoolVar(&force, "force", false, "overwrite existing files; print a uri list to a terminal")
	f.StringVar(&passwordFile, "password-file", "", "read the passphrase of a backup or aegis export from this file (first line)")
	return cmd
}

// stdoutTerminal reports whether standard output is a terminal. Tests set
// isTerminal, which then answers for standard output too.
func (a *app) stdoutTerminal() bool {
	if a.isTerminal != nil {
		return a.isTerminal(a.stdin)
	}
	f, ok := a.stdout.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

func (a *app) exportURIs(accounts []vault.Account, out string, force bool) error {
	data := transfer.ExportURIs(accounts)
	fmt.Fprintln(a.stderr, "sesame: warning: an otpauth URI list is NOT encrypted: anyone who reads it can make your codes; delete it once imported")
	if out == "" {
		if a.stdoutTerminal() && !force {
			return usagef("refusing to print unencrypted secrets to the terminal: use --out FILE, a pipe, or --force")
		}
		_, err := a.stdout.Write(data)
		return err
	}
	if err := writeExport(out, data, force); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "exported %s to %s (otpauth URIs, unencrypted)\n", plural(len(accounts), "account"), out)
	return nil
}

func (a *app) exportGoogle(accounts []vault.Account, out string, force bool) error {
	uris, skipped, err := transfer.ExportGoogle(accounts)
	if err != nil {
		return err
	}
	// Check where the images go before anything is printed or drawn.
	var names []string
	if out != "" && len(uris) > 0 {
		if names, err = googlePNGNames(out, len(uris), force); err != nil {
			return err
		}
	}
	a.leftOut(skipped)
	if len(uris) == 0 {
		return errors.New("no account fits Google Authenticator's format: nothing was exported")
	}
	n := len(accounts) - len(skipped)
	if out != "" {
		pngs, err := transfer.QRPNGs(uris, transfer.GooglePNGSize)
		if err != nil {
			return err
		}
		for i, p := range pngs {
			if err := writeExport(names[i], p, true); err != nil {
				return err
			}
		}
		fmt.Fprintf(a.stdout, "exported %s as %s: %s\n", plural(n, "account"), plural(len(pngs), "QR code"), strings.Join(names, ", "))
		fmt.Fprintln(a.stderr, "sesame: warning: the QR images are NOT encrypted: delete them once scanned")
		return nil
	}
	if !a.stdoutTerminal() {
		// Piped: the migration links themselves, one a line.
		fmt.Fprintln(a.stderr, "sesame: warning: these links are NOT encrypted: anyone who reads them can make your codes")
		for _, u := range uris {
			fmt.Fprintln(a.stdout, u)
		}
		return nil
	}
	for i, u := range uris {
		art, err := transfer.TerminalQR(u)
		if err != nil {
			return err
		}
		fmt.Fprint(a.stdout, art)
		fmt.Fprintf(a.stdout, "QR code %d of %d (%s in all): scan it in Google Authenticator (Transfer accounts > Import accounts)\n", i+1, len(uris), plural(n, "account"))
		if i+1 < len(uris) {
			fmt.Fprint(a.stdout, "press Enter for the next one ")
		} else {
			fmt.Fprint(a.stdout, "press Enter to clear the screen ")
		}
		if _, err := a.lines().ReadString('\n'); err != nil && !errors.Is(err, io.EOF) {
			return err
		}
		fmt.Fprint(a.stdout, "\x1b[H\x1b[2J") // clear, so no code stays on screen
	}
	return nil
}

// maxLeftOut is how many left-out accounts an export lists one by one.
const maxLeftOut = 10

// leftOut lists the accounts an export format cannot hold, the first
// maxLeftOut of them by name and then how many more.
func (a *app) leftOut(skipped []transfer.Skip) {
	for i, s := range skipped {
		if i == maxLeftOut {
			fmt.Fprintf(a.stderr, "sesame: and %s left out\n", plural(len(skipped)-maxLeftOut, "more account"))
			break
		}
		fmt.Fprintf(a.stderr, "sesame: left out %s\n", s)
	}
}

// googlePNGNames names the count PNG files of a Google export to out (a
// folder, or a file name prefix) and checks that they can be written: the
// folder exists, and no file would be replaced unless forced.
func googlePNGNames(out string, count int, force bool) ([]string, error) {
	prefix := filepath.Join(out, "sesame-google")
	if fi, err := os.Stat(out); err != nil || !fi.IsDir() {
		if strings.HasSuffix(out, string(os.PathSeparator)) {
			return nil, fmt.Errorf("folder %s does not exist: create it first", out)
		}
		prefix = strings.TrimSuffix(out, ".png")
		if dir := filepath.Dir(prefix); dir != "" {
			if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
				return nil, fmt.Errorf("folder %s does not exist: create it first", dir)
			}
		}
	}
	names := make([]string, 0, count)
	for i := range count {
		name := fmt.Sprintf("%s-%d-of-%d.png", prefix, i+1, count)
		if !force {
			if _, err := os.Lstat(name); err == nil {
				return nil, fmt.Errorf("%s exists: use --force to overwrite it", name)
			}
		}
		names = append(names, name)
	}
	return names, nil
}

// exportPassword reads a new export passphrase from a file, or asks it twice.
func (a *app) exportPassword(passwordFile string) ([]byte, error) {
	if passwordFile != "" {
		return readFirstLine(passwordFile)
	}
	if !a.terminal() {
		return nil, usagef("an export passphrase is needed: use --password-file FILE, or run in a terminal")
	}
	return a.promptTwice("Passphrase for the export: ", "nothing was exported")
}

// writeExport writes an export file with mode 0600, atomically, refusing
// to replace an existing file unless forced.
func writeExport(path string, data []byte, force bool) error {
	if !force {
		if _, err := os.Lstat(path); err == nil {
			return fmt.Errorf("%s exists: use --force to overwrite it", path)
		}
	}
	return vault.WriteFile(path, data)
}
