package vault_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"filippo.io/age"

	"github.com/sesame-auth/sesame/vault"
	"github.com/sesame-auth/sesame/vault/vaulttest"
)

// withHeader returns a vault file with the header field key set to value
// (removed when nil), leaving the encrypted contents as they are.
func withHeader(t *testing.T, file []byte, key string, value any) []byte {
	t.Helper()
	i := bytes.Index(file, []byte(`,"data":"`))
	if i < 0 {
		t.Fatal("not a version 2 vault file")
	}
	var head map[string]any
	if err := json.Unmarshal(append(bytes.Clone(file[:i]), '}'), &head); err != nil {
		t.Fatal(err)
	}
	if value == nil {
		delete(head, key)
	} else {
		head[key] = value
	}
	b, err := json.Marshal(head)
	if err != nil {
		t.Fatal(err)
	}
	return append(b[:len(b)-1], file[i:]...)
}

// rewrap returns a vault file with its wrapped_key replaced by key.
func rewrap(t *testing.T, file, key []byte) []byte {
	t.Helper()
	return withHeader(t, file, "wrapped_key", key) // []byte marshals as base64, as the vault writes it
}

func wrappedKeyOf(t *testing.T, file []byte) []byte {
	t.Helper()
	var env struct {
		WrappedKey []byte `json:"wrapped_key"`
	}
	if err := json.Unmarshal(file, &env); err != nil || len(env.WrappedKey) == 0 {
		t.Fatalf("no wrapped_key: %v", err)
	}
	return env.WrappedKey
}

// A damaged or hostile wrapped key is reported as a damaged file with the
// backup hint, in Sesame's words: no age internals, no bytes of the file.
func TestDamagedWrappedKey(t *testing.T) {
	v := vaulttest.NewPassphrase(t, vaulttest.Account("A", "a"))
	good := readFile(t, v.Path())
	wk := wrappedKeyOf(t, good)
	lines := bytes.SplitN(wk, []byte("\n"), 3) // version line, "-> scrypt SALT N", body...
	stanza := strings.Fields(string(lines[1]))

	var x25519 bytes.Buffer
	id, _ := age.GenerateX25519Identity()
	w, _ := age.Encrypt(&x25519, id.Recipient())
	w.Write([]byte("AGE-SECRET-KEY-1NOTAKEY"))
	w.Close()

	const marker = "QUOTEME7zzzz"
	cases := map[string]struct {
		key  []byte
		want string
	}{
		"malformed body line": {bytes.Replace(wk, []byte(stanza[2]), []byte(stanza[2]+"\n"+marker+"!!"), 1), "damaged"},
		"truncated":           {wk[:len(wk)/2], "damaged"},
		"not age":             {[]byte(marker + " not an age file"), "damaged"},
		"not passphrase":      {x25519.Bytes(), "damaged"},
		"work factor 23":      {bytes.Replace(wk, []byte(" "+stanza[3]+"\n"), []byte(" 23\n"), 1), "more work than Sesame allows"},
		"work factor huge":    {bytes.Replace(wk, []byte(" "+stanza[3]+"\n"), []byte(" 99999999999999999999\n"), 1), "more work than Sesame allows"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			file := rewrap(t, good, tc.key)
			if err := os.WriteFile(v.Path(), file, 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := vault.Open(vault.Options{Dir: v.Dir(), Keyring: vaulttest.NewKeyring(), Passphrase: []byte(vaulttest.Passphrase)})
			var ce *vault.CorruptError
			if !errors.As(err, &ce) || !errors.Is(err, vault.ErrCorrupt) {
				t.Fatalf("open: %v, want a *CorruptError", err)
			}
			msg := err.Error()
			if !strings.Contains(msg, tc.want) || !strings.Contains(msg, vault.BackupName) {
				t.Errorf("error does not say %q and point at the backup: %v", tc.want, msg)
			}
			for _, leak := range []string{marker, stanza[2], "header", "malformed", "age-encryption", "parsing", "base64", "EOF"} {
				if strings.Contains(msg, leak) {
					t.Errorf("error repeats %q from the file or age's internals: %v", leak, msg)
				}
			}
			if !bytes.Equal(file, readFile(t, v.Path())) {
				t.Fatal("a failed open changed the file")
			}
		})
	}
}

// A vault from a newer Sesame is not damaged: restoring the backup would not
// help, upgrading would.
func TestNewerFormat(t *testing.T) {
	v := vaulttest.New(t, vaulttest.Account("A", "a"))
	good := readFile(t, v.Path())
	// A newer format may change any other field.
	newer := withHeader(t, withHeader(t, good, "version", 3), "store", map[string]string{"kind": "tpm"})
	// Version 1's layout, from a Sesame that went on writing it.
	v1 := bytes.Replace(readFile(t, "testdata/v1-passphrase.sesame"), []byte(`"version": 1`), []byte(`"version": 3`), 1)
	for name, file := range map[string][]byte{"version 2 layout": newer, "version 1 layout": v1} {
		t.Run(name, func(t *testing.T) {
			if err := os.WriteFile(v.Path(), file, 0o600); err != nil {
				t.Fatal(err)
			}
			_, err := vault.Open(vault.Options{Dir: v.Dir(), Keyring: v.Keyring()})
			if !errors.Is(err, vault.ErrNewerFormat) || errors.Is(err, vault.ErrCorrupt) {
				t.Fatalf("open: %v, want ErrNewerFormat and not ErrCorrupt", err)
			}
			msg := err.Error()
			if !strings.Contains(msg, "format 3") || !strings.Contains(msg, "upgrade Sesame") || strings.Contains(msg, vault.BackupName) || strings.Contains(msg, "damaged") {
				t.Errorf("error should name the format, say to upgrade and not suggest the backup: %v", msg)
			}
			if _, err := v.Update(func(*vault.Data) error { return nil }); !errors.Is(err, vault.ErrNewerFormat) {
				t.Fatalf("update: %v, want ErrNewerFormat", err)
			}
			if !bytes.Equal(file, readFile(t, v.Path())) {
				t.Fatal("the newer vault was changed")
			}
		})
	}
	for _, bad := range []any{0, -1, "3", nil} {
		if err := os.WriteFile(v.Path(), withHeader(t, good, "version", bad), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := vault.Open(vault.Options{Dir: v.Dir(), Keyring: v.Keyring()}); !errors.Is(err, vault.ErrCorrupt) {
			t.Errorf("version %v: %v, want ErrCorrupt", bad, err)
		}
	}
}

// Sesame before version 2 decides with encoding/json over the whole file:
// it reads "format" and "version" and says "written by a newer Sesame"
// for a version above 1. The binary payload must not stop that.
func TestOlderSesameSeesNewerFormat(t *testing.T) {
	accts := make([]vault.Account, 200) // enough ciphertext to hold every byte value
	for i := range accts {
		accts[i] = vaulttest.Account("Issuer", fmt.Sprint("user", i))
	}
	for _, v := range []*vault.Vault{vaulttest.New(t, accts...), vaulttest.NewPassphrase(t, accts[:1]...)} {
		file := readFile(t, v.Path())
		var head struct { // exactly what Sesame 1 reads first
			Format  string `json:"format"`
			Version int    `json:"version"`
		}
		if err := json.Unmarshal(file, &head); err != nil {
			t.Fatalf("Sesame 1 cannot parse a version 2 file, so it would call it damaged: %v", err)
		}
		if head.Format != "sesame-vault" || head.Version != 2 {
			t.Fatalf("Sesame 1 reads format %q version %d, want sesame-vault 2", head.Format, head.Version)
		}
	}
}

// A vault written by Sesame before version 2 (testdata/v1-passphrase.sesame,
// made at commit de90e23 with the passphrase below and scrypt work factor 10)
// opens, and the next save rewrites it in version 2, keeping it as the backup.
func TestVersion1VaultIsRewritten(t *testing.T) {
	const passphrase = "sample vault passphrase"
	sample := readFile(t, "testdata/v1-passphrase.sesame")
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, vault.FileName), sample, 0o600); err != nil {
		t.Fatal(err)
	}
	o := vault.Options{Dir: dir, Keyring: vaulttest.NewKeyring(), Passphrase: []byte(passphrase), ScryptWorkFactor: 10}
	check := func(v *vault.Vault, wantAccounts int) {
		t.Helper()
		a, err := v.Find("example")
		if err != nil {
			t.Fatal(err)
		}
		// RFC 6238's SHA-1 vector at T=59 s.
		if c, err := a.Code(time.Unix(59, 0)); err != nil || c.Value != "94287082" || !a.Pinned {
			t.Fatalf("example account: code %q, %v, pinned %v", c.Value, err, a.Pinned)
		}
		d := v.Data()
		if len(d.Accounts) != wantAccounts {
			t.Fatalf("%d accounts, want %d", len(d.Accounts), wantAccounts)
		}
		var labels []string
		for _, a := range d.Accounts[:4] {
			labels = append(labels, fmt.Sprintf("%s/%s/%d/%s", a.Type, a.Label(), a.Counter, a.Added.Format(time.RFC3339)))
		}
		want := "totp/Example (alice@example.com)/0/2026-11-30T12:00:00Z hotp/Bank (alice)/5/2026-11-30T12:00:00Z steam/Steam (alice)/0/2026-11-30T12:00:00Z totp/no issuer/0/2026-11-30T12:00:00Z"
		if got := strings.Join(labels, " "); got != want {
			t.Fatalf("accounts:\n got %s\nwant %s", got, want)
		}
		if len(d.Pairings) != 1 || string(d.Pairings[0].DeviceKey) != "device key bytes" || d.Pairings[0].Params["k"] != "v" {
			t.Fatalf("pairings: %+v", d.Pairings)
		}
		if len(d.History) != 1 || d.History[0].Application != "VPN" {
			t.Fatalf("history: %+v", d.History)
		}
	}
	v, err := vault.Open(o)
	if err != nil {
		t.Fatal(err)
	}
	check(v, 4)
	if !bytes.Equal(sample, readFile(t, v.Path())) {
		t.Fatal("opening rewrote the file")
	}
	if _, err := v.Update(func(d *vault.Data) error { _, err := d.Add(vaulttest.Account("New", "n"), vaultNow); return err }); err != nil {
		t.Fatal(err)
	}
	file := readFile(t, v.Path())
	if !bytes.HasPrefix(file, []byte(`{"format":"sesame-vault","version":2,`)) {
		t.Fatalf("the save did not write version 2: %.60q", file)
	}
	if !bytes.Equal(sample, readFile(t, v.BackupPath())) {
		t.Fatal("the backup is not the version 1 file")
	}
	w, err := vault.Open(o)
	if err != nil {
		t.Fatal(err)
	}
	check(w, 5)
	if !reflect.DeepEqual(w.Data(), v.Data()) {
		t.Fatal("the version 2 file reads back differently from what was saved")
	}
}

// Vault.Find, which decodes only labels, resolves queries exactly as
// Data.Find does.
func TestFind(t *testing.T) {
	v := vaulttest.New(t,
		vaulttest.Account("GitHub", "alice"), vaulttest.Account("GitHub", "bob"), vaulttest.Account("", "Solo Name"),
		vaulttest.Account("Only Issuer", ""), vaulttest.Account("Ünïcode", "Émile"), vaulttest.Account("Mail", "alice@example.com"))
	d := v.Data()
	bob := d.Accounts[1].ID
	cases := map[string]string{
		"github": "ambiguous", "GitHub (alice)": "GitHub (alice)", "github:bob": "GitHub (bob)", "alice": "GitHub (alice)",
		"solo name": "Solo Name", ":solo name": "Solo Name", "ONLY ISSUER": "Only Issuer", "ünïcode": "Ünïcode (Émile)",
		"émile": "Ünïcode (Émile)", "example": "Mail (alice@example.com)", "hub b": "GitHub (bob)", bob: "GitHub (bob)",
		"nothing": "not found", " ": "not found", "github (alice": "not found",
	}
	fresh, err := vault.Open(vault.Options{Dir: v.Dir(), Keyring: v.Keyring()})
	if err != nil {
		t.Fatal(err)
	}
	for q, want := range cases {
		var got, gotData string
		a, err := fresh.Find(q)
		b, errData := d.Find(q)
		for _, r := range []struct {
			out *string
			a   *vault.Account
			err error
		}{{&got, &a, err}, {&gotData, b, errData}} {
			var amb *vault.AmbiguousError
			switch {
			case errors.As(r.err, &amb):
				*r.out = "ambiguous"
			case errors.Is(r.err, vault.ErrNotFound):
				*r.out = "not found"
			case r.err != nil:
				*r.out = r.err.Error()
			default:
				*r.out = r.a.Label()
			}
		}
		if got != want || gotData != want {
			t.Errorf("Find(%q): vault %q, data %q; want %q", q, got, gotData, want)
		}
	}
}
