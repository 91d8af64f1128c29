package vault_test

import (
	"errors"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/vault"
)

func editData(t *testing.T) (*vault.Data, []string) {
	t.Helper()
	s, err := vault.ParseSecret("JBSWY3DPEHPK3PXP")
	if err != nil {
		t.Fatal(err)
	}
	var d vault.Data
	var ids []string
	for _, who := range []string{"alice", "bob", "carol"} {
		a, err := d.Add(vault.Account{Type: vault.TOTP, Issuer: "Example", Name: who, Secret: s}, time.Unix(0, 0))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, a.ID)
	}
	d.Pairings = []vault.Pairing{{ID: "p1", Provider: "sesame"}}
	return &d, ids
}

func TestCheckPassphrase(t *testing.T) {
	for _, p := range []string{"", "x", "pw", "7 chars"} {
		if err := vault.CheckPassphrase([]byte(p)); !errors.Is(err, vault.ErrPassphraseTooShort) {
			t.Errorf("CheckPassphrase(%q) = %v, want ErrPassphraseTooShort", p, err)
		}
	}
	for _, p := range []string{"8 chars!", "päßwörtli", "a long passphrase"} {
		if err := vault.CheckPassphrase([]byte(p)); err != nil {
			t.Errorf("CheckPassphrase(%q) = %v", p, err)
		}
	}
	if err := vault.CheckPassphrase([]byte("ééééééé")); err == nil { // 14 bytes, 7 characters
		t.Error("CheckPassphrase counts bytes, not characters")
	}
}

func TestRename(t *testing.T) {
	d, ids := editData(t)
	name, issuer := "  dave ", "Other"
	a, err := d.Rename(ids[0], nil, &name)
	if err != nil || a.Name != "dave" || a.Issuer != "Example" {
		t.Fatalf("rename the name: %+v, %v", a, err)
	}
	if a, err = d.Rename(ids[0], &issuer, nil); err != nil || a.Issuer != "Other" || a.Name != "dave" {
		t.Fatalf("rename the issuer: %+v, %v", a, err)
	}
	// Into bob (same issuer, name and secret): refused, nothing changed.
	ex, bob := "Example", "bob"
	if _, err := d.Rename(ids[0], &ex, &bob); !errors.Is(err, vault.ErrDuplicate) {
		t.Fatalf("rename into a duplicate: %v", err)
	}
	if got, _ := d.Account(ids[0]); got.Issuer != "Other" || got.Name != "dave" {
		t.Fatalf("a refused rename changed the account: %+v", got)
	}
	// Renaming an account to itself is no duplicate.
	if _, err := d.Rename(ids[1], &ex, &bob); err != nil {
		t.Fatalf("rename to the same label: %v", err)
	}
	empty := ""
	var fe *vault.FieldError
	if _, err := d.Rename(ids[1], &empty, &empty); !errors.As(err, &fe) {
		t.Fatalf("rename to nothing: %v", err)
	}
	if _, err := d.Rename("nope", &ex, nil); !errors.Is(err, vault.ErrNotFound) {
		t.Fatalf("rename a missing account: %v", err)
	}
}

func TestMovePinRestore(t *testing.T) {
	d, ids := editData(t)
	if err := d.Move(ids[0], ids[2]); err != nil {
		t.Fatal(err)
	}
	if d.Accounts[0].ID != ids[2] || d.Accounts[2].ID != ids[0] {
		t.Fatalf("move did not swap: %v", d.Accounts)
	}
	if err := d.Move(ids[0], "nope"); !errors.Is(err, vault.ErrNotFound) {
		t.Fatalf("move to a missing account: %v", err)
	}
	if a, err := d.TogglePin(ids[1]); err != nil || !a.Pinned {
		t.Fatalf("pin: %+v, %v", a, err)
	}
	if a, err := d.TogglePin(ids[1]); err != nil || a.Pinned {
		t.Fatalf("unpin: %+v, %v", a, err)
	}
	if _, err := d.TogglePin("nope"); !errors.Is(err, vault.ErrNotFound) {
		t.Fatalf("pin a missing account: %v", err)
	}
	gone, err := d.Remove(ids[1])
	if err != nil {
		t.Fatal(err)
	}
	a, err := d.Restore(gone, 1, time.Unix(5, 0))
	if err != nil || a.ID != ids[1] || d.Accounts[1].ID != ids[1] || len(d.Accounts) != 3 {
		t.Fatalf("restore: %+v, %v, %v", a, err, d.Accounts)
	}
	if _, err := d.Restore(gone, 0, time.Unix(5, 0)); !errors.Is(err, vault.ErrDuplicate) {
		t.Fatalf("restore of an account already back: %v", err)
	}
	gone, _ = d.Remove(ids[1])
	if _, err := d.Restore(gone, 99, time.Unix(5, 0)); err != nil || d.Accounts[2].ID != ids[1] {
		t.Fatalf("restore past the end goes last: %v, %v", err, d.Accounts)
	}
}

func TestPausePairing(t *testing.T) {
	d, _ := editData(t)
	if p, err := d.SetPaused("p1", true); err != nil || !p.Paused || !d.Pairings[0].Paused {
		t.Fatalf("pause: %+v, %v", p, err)
	}
	if p, err := d.TogglePaused("p1"); err != nil || p.Paused {
		t.Fatalf("toggle: %+v, %v", p, err)
	}
	if _, err := d.SetPaused("nope", true); !errors.Is(err, vault.ErrPairingNotFound) {
		t.Fatalf("pause a missing pairing: %v", err)
	}
	if _, err := d.TogglePaused("nope"); !errors.Is(err, vault.ErrPairingNotFound) {
		t.Fatalf("toggle a missing pairing: %v", err)
	}
}
