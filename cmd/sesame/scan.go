//go:build !lean

package main

import (
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/sesame-auth/sesame/tui/clipboard"
	"github.com/sesame-auth/sesame/tui/screen"
	"github.com/sesame-auth/sesame/vault"
	"github.com/sesame-auth/sesame/vault/transfer"
)

// scanSources are where 'add --scan' and '--clipboard' read; tests set
// them to fakes.
type scanSources struct {
	capturer    func() (screen.Capturer, error)  // nil: screen.Detect
	pasteSource func() (clipboard.Source, error) // nil: clipboard.DetectSource
}

// screenCodes captures the screens and returns the texts of their QR codes.
func (a *app) screenCodes() ([]string, error) {
	detect := a.capturer
	if detect == nil {
		detect = func() (screen.Capturer, error) { return screen.Detect(screen.Env{Getenv: a.getenv}) }
	}
	c, err := detect()
	if err != nil {
		return nil, err
	}
	return screen.Scan(a.ctx, c)
}

// clipboardCodes reads the clipboard and returns its QR codes' texts, or
// its text's lines.
func (a *app) clipboardCodes() ([]string, error) {
	detect := a.pasteSource
	if detect == nil {
		detect = func() (clipboard.Source, error) { return clipboard.DetectSource(clipboard.Env{Getenv: a.getenv}) }
	}
	src, err := detect()
	if err != nil {
		return nil, err
	}
	content, err := src.Paste(a.ctx)
	if err != nil {
		return nil, err
	}
	return clipboard.Codes(content)
}

// addCodes adds the accounts that the codes read from source hold. With
// several and no --all, a terminal is asked which; otherwise it is a usage
// error. Accounts already in the vault are skipped and listed.
func (a *app) addCodes(source string, texts []string, all bool) error {
	res, err := transfer.FromCodes(transfer.ImportOptions{}, source, texts)
	if err != nil {
		return fmt.Errorf("%w; nothing was added", err)
	}
	accounts := res.Accounts
	if len(accounts) > 1 && !all {
		if !a.terminal() {
			return usagef("%d accounts found on %s: give --all to add them all, or run on a terminal to choose", len(accounts), source)
		}
		if accounts, err = a.chooseAccounts(source, accounts); err != nil {
			return err
		}
	}
	v, err := a.openOrCreate()
	if err != nil {
		return err
	}
	var added []vault.Account
	var dups []transfer.Skip
	_, err = v.Update(func(d *vault.Data) error {
		added, dups, err = transfer.Merge(d, accounts, a.now())
		return err
	})
	if err != nil {
		return fmt.Errorf("%w; nothing was added", err)
	}
	for _, acct := range added {
		fmt.Fprintf(a.stdout, "added %s\n", acct.Label())
	}
	for _, s := range append(res.Skipped, dups...) {
		fmt.Fprintf(a.stdout, "skipped %s\n", s)
	}
	if len(added) == 0 {
		return errors.New("nothing added: every account was skipped (see the reasons above)")
	}
	return nil
}

// chooseAccounts lists accounts on stderr and asks which to add: numbers
// separated by spaces or commas, or "all".
func (a *app) chooseAccounts(source string, accounts []vault.Account) ([]vault.Account, error) {
	fmt.Fprintf(a.stderr, "%d accounts found on %s:\n", len(accounts), source)
	for i, acct := range accounts {
		fmt.Fprintf(a.stderr, "  %d  %s\n", i+1, acct.Label())
	}
	ans, err := a.ask("Add which? (numbers, or \"all\"): ", false)
	if err != nil {
		return nil, err
	}
	return pickAccounts(accounts, string(ans))
}

// pickAccounts reads an answer to chooseAccounts.
func pickAccounts(accounts []vault.Account, answer string) ([]vault.Account, error) {
	answer = strings.TrimSpace(answer)
	if strings.EqualFold(answer, "all") {
		return accounts, nil
	}
	var out []vault.Account
	seen := map[int]bool{}
	for _, f := range strings.FieldsFunc(answer, func(r rune) bool { return r == ',' || r == ' ' }) {
		n, err := strconv.Atoi(f)
		if err != nil || n < 1 || n > len(accounts) {
			return nil, fmt.Errorf("%q is not one of the numbers 1 to %d; nothing was added", f, len(accounts))
		}
		if !seen[n] {
			seen[n] = true
			out = append(out, accounts[n-1])
		}
	}
	if len(out) == 0 {
		return nil, errors.New("no account chosen; nothing was added")
	}
	return out, nil
}
