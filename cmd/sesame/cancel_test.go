//go:build !lean

package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gofrs/flock"

	"github.com/sesame-auth/sesame/vault"
	"github.com/sesame-auth/sesame/vault/vaulttest"
)

// runCtx runs the command with ctx, on stdin, as if stdin were a terminal
// or not.
func (c *cli) runCtx(ctx context.Context, stdin io.Reader, terminal bool, args ...string) result {
	c.t.Helper()
	var out, errb bytes.Buffer
	a := &app{
		stdin:      stdin,
		stdout:     &out,
		stderr:     &errb,
		getenv:     func(k string) string { return c.env[k] },
		now:        func() time.Time { return c.now },
		keyring:    c.keyring,
		keyCache:   c.keyCache,
		scryptWork: 10,
		isTerminal: func(io.Reader) bool { return terminal },
	}
	code := a.run(ctx, args)
	return result{code, out.String(), errb.String()}
}

// signalled is the context of a run that sig ended.
func signalled(sig os.Signal) context.Context {
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(signalCause{sig})
	return ctx
}

// blockingReader is a terminal where nobody types: reads wait until the
// test ends.
type blockingReader struct{ done <-chan struct{} }

func (r blockingReader) Read([]byte) (int, error) { <-r.done; return 0, io.EOF }

// Every prompt ends at once on Ctrl-C (SIGINT), SIGTERM or Ctrl-D (end of
// input), says "cancelled, nothing changed" and exits 130, or 143 for
// SIGTERM, leaving the vault as it was.
func TestPromptsCancel(t *testing.T) {
	c := newCLI(t)
	c.keyring.Err = vaulttest.ErrNoKeyring
	c.env["SESAME_PASSPHRASE"] = "old passphrase"
	c.ok("", "add", "otpauth://totp/Keep:me?secret=JBSWY3DPEHPK3PXP")
	delete(c.env, "SESAME_PASSPHRASE")
	vaultFile := filepath.Join(c.home, vault.FileName)
	before, err := os.ReadFile(vaultFile)
	if err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	defer close(stop)
	commands := [][]string{
		{"list"},   // Vault passphrase:
		{"passwd"}, // Vault passphrase:, then New passphrase:
		{"add", "--secret", "-", "--issuer", "X"}, // Secret:
		{"import", "-"}, // reads the file, no prompt: ends by the signal only
	}
	for _, args := range commands {
		for _, sig := range []os.Signal{os.Interrupt, syscall.SIGTERM} {
			r := c.runCtx(signalled(sig), blockingReader{stop}, true, args...)
			want := exitStatus(sig)
			if r.code != want || !strings.Contains(r.stderr, "sesame: cancelled, nothing changed") {
				t.Errorf("sesame %q stopped by %v: exit %d, stderr %q; want exit %d and \"cancelled, nothing changed\"", args, sig, r.code, r.stderr, want)
			}
		}
	}
	// Ctrl-D at each kind of prompt: a passphrase, a yes/no question.
	c.env["SESAME_PASSPHRASE"] = "old passphrase"
	for _, args := range [][]string{{"rm", "keep"}, {"add", "--secret", "-", "--issuer", "X"}} {
		r := c.runT("", true, args...)
		if r.code != 130 || !strings.Contains(r.stderr, "sesame: cancelled, nothing changed") {
			t.Errorf("sesame %q with Ctrl-D at the prompt: exit %d, stderr %q", args, r.code, r.stderr)
		}
	}
	delete(c.env, "SESAME_PASSPHRASE")
	r := c.runT("", true, "list")
	if r.code != 130 || !strings.Contains(r.stderr, "Vault passphrase: ") {
		t.Errorf("list with Ctrl-D at the passphrase prompt: %+v", r)
	}
	after, _ := os.ReadFile(vaultFile)
	if !bytes.Equal(before, after) {
		t.Fatal("a cancelled command changed the vault")
	}
}

// With the lock held by another process, a signal ends rm at whichever wait
// it finds (the keyring, the lock) with exit 143, and nothing is removed.
// vault's TestLockWaitEndsWithContext shows the lock wait itself ends.
func TestLockWaitCancels(t *testing.T) {
	c := newCLI(t)
	c.ok("", "add", "otpauth://totp/Keep:me?secret=JBSWY3DPEHPK3PXP")
	held := flock.New(filepath.Join(c.home, "vault.lock"))
	if ok, err := held.TryLock(); !ok || err != nil {
		t.Fatalf("take the lock: %v", err)
	}
	defer held.Unlock()
	ctx, cancel := context.WithCancelCause(context.Background())
	done := make(chan result, 1)
	go func() { done <- c.runCtx(ctx, strings.NewReader(""), false, "rm", "keep", "--yes") }()
	cancel(signalCause{syscall.SIGTERM})
	r := <-done
	if r.code != 143 || !strings.Contains(r.stderr, "cancelled, nothing changed") {
		t.Fatalf("rm waiting for the lock, then SIGTERM: %+v", r)
	}
	held.Unlock()
	if got := c.ok("", "list"); !strings.Contains(got, "Keep") {
		t.Fatalf("the account is gone after a cancelled rm:\n%s", got)
	}
}

// The keyring wrapper gives up a call that hangs as soon as the run ends.
func TestWaitKeyringGivesUp(t *testing.T) {
	hang := make(chan struct{})
	defer close(hang)
	ctx, cancel := context.WithCancel(context.Background())
	k := waitKeyring{ctx, hangingKeyring{hang}}
	cancel()
	if _, err := k.Get("sesame", "x"); !errors.Is(err, errCancelled) {
		t.Errorf("Get on a hanging keyring after cancel: %v", err)
	}
	if err := k.Set("sesame", "x", "y"); !errors.Is(err, errCancelled) {
		t.Errorf("Set on a hanging keyring after cancel: %v", err)
	}
	live := waitKeyring{context.Background(), vaulttest.NewKeyring()}
	if err := live.Set("sesame", "x", "y"); err != nil {
		t.Fatal(err)
	}
	if v, err := live.Get("sesame", "x"); v != "y" || err != nil {
		t.Errorf("Get through the wrapper = %q, %v", v, err)
	}
}

type hangingKeyring struct{ hang chan struct{} }

func (h hangingKeyring) Get(string, string) (string, error) { <-h.hang; return "", nil }
func (h hangingKeyring) Set(string, string, string) error   { <-h.hang; return nil }
func (h hangingKeyring) Delete(string, string) error        { <-h.hang; return nil }

// A secret typed at "Secret:" on a terminal is taken like one from stdin,
// and asked with the prompt.
func TestSecretPrompt(t *testing.T) {
	c := newCLI(t)
	r := c.runT("JBSWY3DPEHPK3PXP\n", true, "add", "--secret", "-", "--issuer", "Typed", "--name", "in")
	if r.code != 0 || !strings.Contains(r.stderr, "Secret: ") || r.stdout != "added Typed (in)\n" {
		t.Fatalf("add --secret - on a terminal: %+v", r)
	}
}

// A wrong passphrase says so and what to do, and a command that changes
// nothing anyway (list) does not claim that "nothing was changed".
func TestWrongPassphraseMessage(t *testing.T) {
	c := newCLI(t)
	c.keyring.Err = vaulttest.ErrNoKeyring
	c.env["SESAME_PASSPHRASE"] = "right passphrase"
	c.ok("", "add", "otpauth://totp/Keep:me?secret=JBSWY3DPEHPK3PXP")
	c.env["SESAME_PASSPHRASE"] = "wrong passphrase"
	r := c.run("", "list")
	if r.code != 1 || !strings.Contains(r.stderr, "wrong passphrase: check it and try again") || strings.Contains(r.stderr, "nothing was changed") {
		t.Fatalf("list with a wrong passphrase: %+v", r)
	}
}
