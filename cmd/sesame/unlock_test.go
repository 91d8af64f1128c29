//go:build !lean

package main

import (
	"strings"
	"testing"
)

// unlock keeps a passphrase vault's key so that commands need no
// passphrase; lock drops it. The kernel keyring itself is tested with the
// built binary (kernelkeyring_test.go).
func TestUnlockAndLock(t *testing.T) {
	c := newCLI(t)
	c.env["SESAME_PASSPHRASE"] = "the passphrase"
	c.ok("", "--store", "passphrase", "add", "otpauth://totp/Box:ops?secret=JBSWY3DPEHPK3PXP")
	if r := c.run("", "unlock", "--for", "0s"); r.code != 2 || !strings.Contains(r.stderr, "--for must be at least 1s") {
		t.Fatalf("unlock --for 0s: %+v", r)
	}
	if got := c.ok("", "unlock", "--for", "10m"); got != "unlocked for 10m0s in this session: 'sesame lock' locks it now\n" {
		t.Fatalf("unlock printed %q", got)
	}
	delete(c.env, "SESAME_PASSPHRASE")
	code := c.ok("", "code", "box")
	if len(strings.TrimSpace(code)) != 6 {
		t.Fatalf("code after unlock: %q", code)
	}
	// Unlocking again needs no passphrase: the kept key opens the vault.
	c.ok("", "unlock")
	if got := c.ok("", "lock"); got != "locked: the vault needs its passphrase again\n" {
		t.Fatalf("lock printed %q", got)
	}
	if r := c.run("", "code", "box"); r.code != 1 || !strings.Contains(r.stderr, "protected by a passphrase") {
		t.Fatalf("code after lock: %+v", r)
	}
	if got := c.ok("", "lock"); !strings.Contains(got, "nothing to lock") {
		t.Fatalf("lock of a locked vault printed %q", got)
	}
	if r := c.run("", "unlock"); r.code != 1 || !strings.Contains(r.stderr, "protected by a passphrase") || c.keyCache.Len() != 0 {
		t.Fatalf("unlock without a passphrase: %+v", r)
	}
}

func TestUnlockKeyringVault(t *testing.T) {
	c := newCLI(t)
	c.ok("", "add", "otpauth://totp/Box:ops?secret=JBSWY3DPEHPK3PXP")
	if r := c.run("", "unlock"); r.code != 1 || !strings.Contains(r.stderr, "OS keyring: it opens without a passphrase already") {
		t.Fatalf("unlock of a keyring vault: %+v", r)
	}
}
