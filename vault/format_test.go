package vault_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"filippo.io/age"

	"github.com/sesame-auth/sesame/vault"
	"github.com/sesame-auth/sesame/vault/vaulttest"
)

// rewrap returns a vault file with its wrapped_key replaced by key.
func rewrap(t *testing.T, file, key []byte) []byte {
	t.Helper()
	var env map[string]any
	if err := json.Unmarshal(file, &env); err != nil {
		t.Fatal(err)
	}
	env["wrapped_key"] = key // []byte marshals as base64, as the vault writes it
	b, err := json.Marshal(env)
	if err != nil {
		t.Fatal(err)
	}
	return b
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
	newer := bytes.Replace(good, []byte(`"version": 1`), []byte(`"version": 2`), 1)
	// A newer format may change any other field.
	newer = bytes.Replace(newer, []byte(`"store": "keyring"`), []byte(`"store": {"kind": "tpm"}`), 1)
	if err := os.WriteFile(v.Path(), newer, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := vault.Open(vault.Options{Dir: v.Dir(), Keyring: v.Keyring()})
	if !errors.Is(err, vault.ErrNewerFormat) || errors.Is(err, vault.ErrCorrupt) {
		t.Fatalf("open: %v, want ErrNewerFormat and not ErrCorrupt", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, "format 2") || !strings.Contains(msg, "upgrade Sesame") || strings.Contains(msg, vault.BackupName) || strings.Contains(msg, "damaged") {
		t.Errorf("error should name the format, say to upgrade and not suggest the backup: %v", msg)
	}
	if _, err := v.Update(func(*vault.Data) error { return nil }); !errors.Is(err, vault.ErrNewerFormat) {
		t.Fatalf("update: %v, want ErrNewerFormat", err)
	}
	if !bytes.Equal(newer, readFile(t, v.Path())) {
		t.Fatal("the newer vault was changed")
	}
	for _, bad := range []string{`"version": 0`, `"version": -1`, `"version": "2"`} {
		if err := os.WriteFile(v.Path(), bytes.Replace(good, []byte(`"version": 1`), []byte(bad), 1), 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := vault.Open(vault.Options{Dir: v.Dir(), Keyring: v.Keyring()}); !errors.Is(err, vault.ErrCorrupt) {
			t.Errorf("%s: %v, want ErrCorrupt", bad, err)
		}
	}
}
