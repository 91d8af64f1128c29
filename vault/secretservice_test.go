package vault_test

import (
	"crypto/rand"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/sesame-auth/sesame/vault"
	"github.com/sesame-auth/sesame/vault/vaulttest"
)

// TestSecretService runs against a real gnome-keyring over D-Bus: the vault
// key is one Secret Service item that secret-tool can see, the vault opens
// from it, and no secret or account name is anywhere in the vault folder.
func TestSecretService(t *testing.T) {
	if !vaulttest.InSecretService(t) {
		return
	}
	o := vault.Options{Dir: t.TempDir() + "/sesame"} // the real OS keyring
	if err := vault.ProbeKeyring(vault.SystemKeyring{}); err != nil {
		t.Fatalf("the keyring probe fails on a working Secret Service: %v", err)
	}
	v, err := vault.Create(o, vault.StoreAuto)
	if err != nil {
		t.Fatal(err)
	}
	if v.Store() != vault.StoreKeyring {
		t.Fatalf("auto store chose %s with a working Secret Service", v.Store())
	}
	var accts []vault.Account
	for i := range 50 {
		a := vaulttest.Account("Issuer", "secret-service-user-"+string(rune('a'+i%26))+strings.Repeat("z", i/26))
		a.Secret = make([]byte, 20)
		rand.Read(a.Secret)
		accts = append(accts, a)
	}
	if _, err := v.Update(func(d *vault.Data) error {
		for _, a := range accts {
			if _, err := d.Add(a, vaultNow); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	id := keyringID(t, v.Path())
	out, err := exec.Command("secret-tool", "lookup", "service", vault.KeyringService, "username", id).Output()
	if err != nil {
		t.Fatalf("secret-tool cannot find the vault key item %s/%s: %v", vault.KeyringService, id, err)
	}
	if !strings.HasPrefix(string(out), "AGE-SECRET-KEY-") {
		t.Fatal("the keyring item does not hold an age key")
	}
	if out, _ := exec.Command("secret-tool", "search", "--all", "service", vault.KeyringService).CombinedOutput(); strings.Count(string(out), "attribute.username = ") != 1 {
		t.Fatalf("want exactly one Sesame keyring item (the probe must clean up), secret-tool says:\n%s", out)
	}

	w, err := vault.Open(o)
	if err != nil {
		t.Fatal(err)
	}
	got := w.Data().Accounts
	if len(got) != len(accts) {
		t.Fatalf("reopened vault holds %d accounts, want %d", len(got), len(accts))
	}
	for i := range accts {
		if !got[i].SameAs(&accts[i]) {
			t.Fatalf("account %d differs after reopening", i)
		}
	}

	var needles [][]byte
	for _, a := range accts {
		needles = append(needles, secretForms(a.Secret)...)
		needles = append(needles, []byte(a.Name))
	}
	assertNoCleartext(t, o.Dir, needles)

	// A deleted keyring item: a clear error, the file untouched.
	before := readFile(t, v.Path())
	if err := exec.Command("secret-tool", "clear", "service", vault.KeyringService, "username", id).Run(); err != nil {
		t.Fatal(err)
	}
	if _, err := vault.Open(o); !errors.Is(err, vault.ErrKeyMissing) {
		t.Fatalf("open with the keyring item deleted: %v, want ErrKeyMissing", err)
	}
	if string(before) != string(readFile(t, v.Path())) {
		t.Fatal("a failed open changed the vault file")
	}

	// A locked keyring: put the key back, lock the login collection (no
	// prompter can unlock it in a headless session), and expect a clear error.
	if err := w.RestoreKeyring(); err != nil {
		t.Fatal(err)
	}
	if _, err := vault.Open(o); err != nil {
		t.Fatalf("open after RestoreKeyring: %v", err)
	}

	// Setting a recovery passphrase rotates the key into a new item and
	// deletes the old one.
	if err := w.SetPassphrase([]byte("recovery words")); err != nil {
		t.Fatal(err)
	}
	if newID := keyringID(t, v.Path()); newID == id {
		t.Fatal("the rotated key is stored under the old keyring item")
	}
	if out, _ := exec.Command("secret-tool", "search", "--all", "service", vault.KeyringService).CombinedOutput(); strings.Count(string(out), "attribute.username = ") != 1 {
		t.Fatalf("want exactly one Sesame keyring item after the key rotation, secret-tool says:\n%s", out)
	}
	if w, err = vault.Open(o); err != nil || len(w.Data().Accounts) != len(accts) {
		t.Fatalf("open after the key rotation: %v", err)
	}
	before = readFile(t, v.Path())
	lock := exec.Command("dbus-send", "--session", "--dest=org.freedesktop.secrets", "--print-reply",
		"/org/freedesktop/secrets", "org.freedesktop.Secret.Service.Lock", "array:objpath:/org/freedesktop/secrets/collection/login")
	if out, err := lock.CombinedOutput(); err != nil {
		t.Fatalf("lock the keyring: %v\n%s", err, out)
	}
	if _, err := vault.Open(o); !errors.Is(err, vault.ErrKeyringUnavailable) {
		t.Fatalf("open with the keyring locked: %v, want ErrKeyringUnavailable", err)
	}
	if string(before) != string(readFile(t, v.Path())) {
		t.Fatal("a failed open changed the vault file")
	}
}

func keyringID(t *testing.T, path string) string {
	t.Helper()
	var env struct {
		KeyringID string `json:"keyring_id"`
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &env); err != nil || env.KeyringID == "" {
		t.Fatalf("no keyring_id in the vault file: %v", err)
	}
	return env.KeyringID
}
