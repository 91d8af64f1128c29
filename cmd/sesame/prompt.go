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
	b, err := a.ask(question, true)
	if err != nil {
		return nil, err
	}
	if len(b) == 0 {
		return nil, errors.New("the passphrase is empty: nothing was changed")
	}
	return b, nil
}

// ask shows question on stderr and reads one line of answer from the
// terminal, without echo when secret. Ctrl-C (or SIGTERM) and Ctrl-D end it
// at once with errCancelled; the terminal is left as it was found.
func (a *app) ask(question string, secret bool) ([]byte, error) {
	fmt.Fprint(a.stderr, question)
	type answer struct {
		b   []byte
		err error
	}
	var ans answer
	if f, ok := a.stdin.(*os.File); ok && secret && a.isTerminal == nil {
		fd := int(f.Fd())
		st, stErr := term.GetState(fd)
		got := make(chan answer, 1)
		go func() {
			b, err := term.ReadPassword(fd)
			got <- answer{b, err}
		}()
		select {
		case ans = <-got:
		case <-a.done():
			if stErr == nil {
				_ = term.Restore(fd, st) // echo back on: ReadPassword will not return to do it
			}
			ans.err = errCancelled
		}
	} else {
		// lines reads through input, which gives up when the user stops the command.
		line, err := a.lines().ReadString('\n')
		if errors.Is(err, io.EOF) && line != "" {
			err = nil // a last line without a newline
		}
		ans = answer{[]byte(strings.TrimRight(line, "\r\n")), err}
	}
	if secret || ans.err != nil {
		fmt.Fprintln(a.stderr) // the Enter the terminal did not echo, or a clean line after ^C
	}
	switch {
	case errors.Is(ans.err, io.EOF), errors.Is(ans.err, errCancelled):
		return nil, errCancelled
	case ans.err != nil:
		return nil, fmt.Errorf("read the answer: %w", ans.err)
	}
	return ans.b, nil
}

// done is closed when the user stops the command (SIGINT, SIGTERM).
func (a *app) done() <-chan struct{} {
	if a.ctx == nil {
		return nil
	}
	return a.ctx.Done()
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
	line, err := a.ask(question+" [y/N] ", false)
	if err != nil {
		return false, err
	}
	switch strings.ToLower(strings.TrimSpace(string(line))) {
	case "y", "yes":
		return true, nil
	}
	return false, nil
}

// input is standard input for reading: a read that waits ends when the
// user stops the command.
func (a *app) input() io.Reader { return cancelReader{a.done(), a.stdin} }

// lines reads standard input line by line; one reader is shared so that
// buffered input is not lost between questions.
func (a *app) lines() *bufio.Reader {
	if a.lineReader == nil {
		a.lineReader = bufio.NewReader(a.input())
	}
	return a.lineReader
}
