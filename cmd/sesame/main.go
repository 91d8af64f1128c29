// Command sesame is a terminal authenticator: rolling TOTP, HOTP and Steam
// codes from an encrypted vault whose key lives in the OS keyring, one-key
// copy, imports and exports, and sign-in approvals with number matching.
//
// This package is only flags, wiring and exit codes; the work is done by
// the vault, tui and approve packages.
package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sesame-auth/sesame/cmd/internal/version"
	"github.com/sesame-auth/sesame/vault"
)

func main() {
	os.Exit(runProcess(&app{
		stdin:  os.Stdin,
		stdout: os.Stdout,
		stderr: os.Stderr,
		getenv: os.Getenv,
		now:    time.Now,
	}, os.Args[1:]))
}

// runProcess is the whole process around a run: core dumps off, signals
// watched. It returns the exit status, or ends the process by the signal
// that stopped the command.
func runProcess(a *app, args []string) int {
	harden()
	ctx, stop := notifySignals()
	code := a.run(ctx, args)
	stop()
	if s, ok := signalOf(ctx); ok && code == exitStatus(s) {
		endBy(s)
	}
	return code
}

// app is one invocation of the command: its streams, environment and flags.
// Tests build their own with fakes.
type app struct {
	ctx            context.Context // ends on SIGINT or SIGTERM; every wait watches it
	args           []string        // the command line, after the program's name
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	now            func() time.Time
	keyring        vault.Keyring  // nil: the OS keyring
	keyCache       vault.KeyCache // nil: the kernel keyring ('sesame unlock')
	scryptWork     int            // 0: the default work factor; tests lower it
	isTerminal     func(io.Reader) bool
	lineReader     *bufio.Reader
	scanSources    // where 'add --scan' and '--clipboard' read (scan.go)

	// Global flags.
	passphraseFile string
	store          string
	keyringTimeout time.Duration
	ui             uiFlags
}

// fullName is the whole program's file name next to the lean sesame, which
// hands it what it does not run itself (lean.go).
const fullName = "sesame-full"

// uiFlags are the root command's flags for the terminal UI and copying.
type uiFlags struct {
	privacy    bool
	theme      string
	clearAfter time.Duration
	noNotify   bool
}

// usageError marks errors in how the command was called: exit status 2.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// errQuiet is returned when the command already told the user what went wrong.
var errQuiet = errors.New("")

// run executes the command line and returns the exit status.
func (a *app) run(ctx context.Context, args []string) int {
	a.ctx, a.args = ctx, args
	if err := a.handOffEarly(args); err != nil {
		fmt.Fprintf(a.stderr, "sesame: %v\n", err)
		return 1
	}
	root := a.rootCmd()
	root.SetArgs(args)
	root.SetIn(a.stdin)
	root.SetOut(a.stdout)
	root.SetErr(a.stderr)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return 0
	}
	if code, ok := cancelStatus(ctx, err); ok {
		fmt.Fprintf(a.stderr, "sesame: %v\n", errCancelled)
		return code
	}
	if !errors.Is(err, errQuiet) {
		fmt.Fprintf(a.stderr, "sesame: %v\n", err)
	}
	var ue usageError
	if errors.As(err, &ue) || strings.HasPrefix(err.Error(), "unknown command") {
		fmt.Fprintln(a.stderr, "sesame: run 'sesame --help' for usage")
		return 2
	}
	return 1
}

func (a *app) rootCmd() *cobra.Command {
	root := &cobra.Command{
		Use:   "sesame",
		Short: "A terminal authenticator: rolling codes, one-key copy and sign-in approvals",
		Long: `Sesame shows your TOTP, HOTP and Steam codes in the terminal, copies them in one
key, and approves sign-ins with number matching. Everything secret is encrypted
at rest with a key held in the OS keyring, or under a passphrase where there is
no keyring.

Run without a command to open the terminal UI.`,
		Version:       version.String(),
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          unknownCommand,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			if err := refuseIgnoredGlobals(cmd); err != nil {
				return err
			}
			if a.ui.clearAfter < 0 {
				return usagef("--clear-after must be 0 (never clear) or a positive duration, not %s", a.ui.clearAfter)
			}
			_, err := a.storeKind()
			return err
		},
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{err} })
	root.SetVersionTemplate("sesame {{.Version}}\n")
	root.SuggestionsMinimumDistance = 2
	pf := root.PersistentFlags()
	pf.StringVar(&a.passphraseFile, "passphrase-file", "", "read the vault passphrase from this file (first line)")
	pf.StringVar(&a.store, "store", "auto", "where a new vault keeps its key: auto, keyring or passphrase")
	pf.DurationVar(&a.keyringTimeout, "keyring-timeout", vault.DefaultKeyringTimeout, "give up on an OS keyring that does not answer (an unlock prompt nobody sees) after this long")
	a.addCommands(root)
	return root
}

// usageErrors makes argument-count errors of every subcommand usage errors
// (exit 2); a command that says nothing about arguments takes none.
func usageErrors(cmds []*cobra.Command) {
	for _, c := range cmds {
		c.SilenceUsage = true
		check := c.Args
		if check == nil {
			check = cobra.NoArgs
		}
		c.Args = func(cmd *cobra.Command, args []string) error {
			if err := check(cmd, args); err != nil {
				return usageError{err}
			}
			return nil
		}
		usageErrors(c.Commands())
	}
}

// unknownCommand refuses arguments to the root command, which takes none:
// any is a mistyped command, and the error suggests the nearest ones.
func unknownCommand(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	msg := fmt.Sprintf("unknown command %q", args[0])
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		msg += fmt.Sprintf(": did you mean '%s'?", strings.Join(s, "' or '"))
	}
	return usageError{errors.New(msg)}
}

// vaultOptions gathers where the vault is and how to unlock it. The
// passphrase comes from --passphrase-file or SESAME_PASSPHRASE, if either is given.
func (a *app) vaultOptions() (vault.Options, error) {
	var k vault.Keyring = vault.SystemKeyring{Timeout: a.keyringTimeout}
	if a.keyring != nil {
		k = a.keyring
	}
	o := vault.Options{Dir: a.getenv("SESAME_HOME"), Keyring: waitKeyring{a.ctx, k}, ScryptWorkFactor: a.scryptWork, Context: a.ctx}
	if o.KeyCache = a.keyCache; o.KeyCache == nil {
		o.KeyCache = vault.KernelKeyring{}
	}
	p, err := a.passphraseFromFlags()
	if err != nil {
		return o, err
	}
	o.Passphrase = p
	return o, nil
}

func (a *app) passphraseFromFlags() ([]byte, error) {
	if a.passphraseFile != "" {
		return readFirstLine(a.passphraseFile)
	}
	if p := a.getenv("SESAME_PASSPHRASE"); p != "" {
		return []byte(p), nil
	}
	return nil, nil
}

// openVault opens the existing vault, asking for the passphrase on the
// terminal when it is needed and not given.
func (a *app) openVault() (*vault.Vault, error) {
	o, err := a.vaultOptions()
	if err != nil {
		return nil, err
	}
	v, err := vault.Open(o)
	askable := errors.Is(err, vault.ErrPassphraseRequired) || (errors.Is(err, vault.ErrKeyMissing) && !errors.Is(err, vault.ErrNoRecovery))
	if !askable || o.Passphrase != nil || !a.terminal() {
		return v, err
	}
	if errors.Is(err, vault.ErrKeyMissing) {
		fmt.Fprintf(a.stderr, "sesame: %v\n", err)
	}
	for range 3 {
		if o.Passphrase, err = a.prompt("Vault passphrase: "); err != nil {
			return nil, err
		}
		if v, err = vault.Open(o); !errors.Is(err, vault.ErrWrongPassphrase) {
			break
		}
		fmt.Fprintln(a.stderr, "sesame: wrong passphrase")
	}
	return v, err
}

// openOrCreate opens the vault, creating it first if there is none yet.
// Without a working keyring the new vault is protected by a passphrase, and
// the user is told so in one sentence.
func (a *app) openOrCreate() (*vault.Vault, error) {
	o, err := a.vaultOptions()
	if err != nil {
		return nil, err
	}
	if vault.Exists(o.Dir) {
		return a.openVault()
	}
	kind, err := a.storeKind()
	if err != nil {
		return nil, err
	}
	if err := vault.CanCreate(o.Dir); err != nil {
		return nil, err // the folder's problem first, before the keyring's
	}
	switch kind {
	case vault.StoreAuto:
		kind = vault.StoreKeyring
		switch err := vault.ProbeKeyring(o.Keyring); {
		case errors.Is(err, vault.ErrKeyringLocked):
			return nil, err // a keyring the user has but left locked: do not quietly avoid it
		case errors.Is(err, errCancelled):
			return nil, err // stopped while the keyring was asked, which says nothing of it
		case err != nil:
			fmt.Fprintf(a.stderr, "sesame: no working OS keyring (%v), so the new vault is protected by a passphrase instead\n", err)
			kind = vault.StorePassphrase
		}
	}
	if kind == vault.StorePassphrase && o.Passphrase == nil {
		if o.Passphrase, err = a.newPassphrase(); err != nil {
			return nil, err
		}
	}
	if kind == vault.StorePassphrase {
		if err := vault.CheckPassphrase(o.Passphrase); err != nil {
			return nil, fmt.Errorf("%w; no vault was created", err)
		}
	}
	v, err := vault.Create(o, kind)
	if err != nil {
		return nil, err
	}
	how := "its key is in the OS keyring"
	if kind == vault.StorePassphrase {
		how = "protected by your passphrase"
	}
	fmt.Fprintf(a.stderr, "sesame: created a new vault in %s (%s)\n", v.Dir(), how)
	return v, nil
}

// storeKind is --store: where a new vault keeps its key.
func (a *app) storeKind() (vault.StoreKind, error) {
	switch a.store {
	case "auto", "":
		return vault.StoreAuto, nil
	case "keyring":
		return vault.StoreKeyring, nil
	case "passphrase":
		return vault.StorePassphrase, nil
	}
	return "", usagef("--store must be auto, keyring or passphrase, not %q", a.store)
}

// plural is "1 account", "2 accounts".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

// globalUsers names, for each global flag, the commands that read it (by
// their path after "sesame"; "" is the terminal UI). Any other command
// refuses it, as it refuses every flag it would ignore.
var globalUsers = map[string][]string{
	"passphrase-file": {"", "add", "list", "code", "rm", "rename", "passwd", "recover", "import", "export",
		"pair", "devices", "devices pause", "devices resume", "devices unblock", "unpair", "approve", "unlock"},
	"store":       {"", "add", "import", "pair"},
	"clear-after": {"", "code", "demo", "clear-clipboard"},
	"privacy":     {"", "demo"},
	"theme":       {"", "demo"},
}

// refuseIgnoredGlobals refuses a global flag given to a command that would
// ignore it. Shell completion reads what it is given.
func refuseIgnoredGlobals(cmd *cobra.Command) error {
	path := strings.TrimPrefix(strings.TrimPrefix(cmd.CommandPath(), cmd.Root().Name()), " ")
	if path == "completion" || strings.HasPrefix(path, "completion ") || strings.HasPrefix(path, "__complete") || path == "help" {
		return nil
	}
	for name, users := range globalUsers {
		if cmd.Flags().Changed(name) && !slices.Contains(users, path) {
			return usagef("--%s means nothing to 'sesame %s': leave it out", name, path)
		}
	}
	return nil
}
