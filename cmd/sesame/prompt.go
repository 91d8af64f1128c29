package main

import (
	"bufio"
	"crypto/subtle"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"golang.org/x/term"
)

// terminal reports whether standard input is an interactive terminal, where
// Sesame may ask questions.
func (a *app) terminal() bool {
	if a.isTerminal != nil {
		return a.isTerminal(a.stdin)
	}
	f, ok := a.stdin.(*os.File)
	return ok && term.IsTerminal(int(f.Fd()))
}

// prompt asks for a secret on the terminal without echoing it.
func (a *app) prompt(question string) ([]byte, error) {
	if !a.terminal() {
		return nil, errors.New("a passphrase is needed: set SESAME_PASSPHRASE or use --passphrase-file")
	}
	fmt.Fprint(a.stderr, question)
	var (
		b   []byte
		err error
	)
	if f, ok := a.stdin.(*os.File); ok && a.isTerminal == nil {
		b, err = term.ReadPassword(int(f.Fd()))
	} else {
		var line string
		line, err = a.lines().ReadString('\n')
		b = []byte(strings.TrimRight(line, "\r\n"))
		if errors.Is(err, io.EOF) && len(b) > 0 {
			err = nil
		}
	}
	fmt.Fprintln(a.stderr)
	if err != nil {
		return nil, fmt.Errorf("read the passphrase: %w", err)
	}
	if len(b) == 0 {
		return nil, errors.New("the passphrase is empty: nothing was changed")
	}
	return b, nil
}

// newPassphrase asks for a new passphrase twice, or takes it from
// --passphrase-file or SESAME_PASSPHRASE.
func (a *app) newPassphrase() ([]byte, error) {
	if p, err := a.passphraseFromFlags(); p != nil || err != nil {
		return p, err
	}
	return a.promptTwice("New passphrase: ", "nothing was changed")
}

// promptTwice asks for a new secret twice on the terminal; unchanged says
// what was left alone when the two differ.
func (a *app) promptTwice(question, unchanged string) ([]byte, error) {
	p, err := a.prompt(question)
	if err != nil {
		return nil, err
	}
	again, err := a.prompt("Repeat it: ")
	if err != nil {
		return nil, err
	}
	if subtle.ConstantTimeCompare(p, again) != 1 {
		return nil, errors.New("the two passphrases differ: " + unchanged)
	}
	return p, nil
}

// readFirstLine reads a passphrase or password file: its first line, which
// must not be empty.
func readFirstLine(path string) ([]byte, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read the passphrase file: %w", err)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	line = strings.TrimSuffix(line, "\r")
	if line == "" {
		return nil, fmt.Errorf("the passphrase file %s is empty", path)
	}
	return []byte(line), nil
}

// confirm asks a yes/no question on the terminal; no is the default.
func (a *app) confirm(question string) (bool, error) {
	if !a.terminal() {
		return false, usagef("%s: confirm with --yes when not running in a terminal", strings.TrimSuffix(question, "?"))
	}
	fmt.Fprintf(a.stderr, "%s [y/N] ", question)
	line, err := a.lines().ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return false, err
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true, nil
	}
	return false, nil
}

// lines reads standard input line by line; one reader is shared so that
// buffered input is not lost between questions.
func (a *app) lines() *bufio.Reader {
	if a.lineReader == nil {
		a.lineReader = bufio.NewReader(a.stdin)
	}
	return a.lineReader
}
