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
	t.Parallel() // waits on gnome-keyring in a session of its own
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
	// A locked keyring is not an absent one: no quiet passphrase vault.
	if err := vault.ProbeKeyring(vault.SystemKeyring{}); !errors.Is(err, vault.ErrKeyringLocked) {
		t.Fatalf("probe with the keyring locked: %v, want ErrKeyringLocked", err)
	}
	fresh := vault.Options{Dir: t.TempDir() + "/fresh", Passphrase: []byte("pw"), ScryptWorkFactor: 10}
	if _, err := vault.Create(fresh, vault.StoreAuto); !errors.Is(err, vault.ErrKeyringLocked) || !strings.Contains(err.Error(), "unlock it") || !strings.Contains(err.Error(), "--store passphrase") {
		t.Fatalf("create (auto) with the keyring locked: %v, want ErrKeyringLocked saying how to unlock it or make a passphrase vault", err)
	}
	if _, err := os.Stat(fresh.Dir); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a failed Create left the folder behind: %v", err)
	}
}

const absentEnv = "SESAME_TEST_KEYRING_ABSENT"

// TestKeyringAbsent runs the probe where there is no OS keyring at all, in
// child processes (the D-Bus connection is made once per process): with no
// D-Bus, and with a D-Bus that has no Secret Service. Creating with StoreAuto
// falls back to a passphrase there.
func TestKeyringAbsent(t *testing.T) {
	if os.Getenv(absentEnv) == "1" {
		err := vault.ProbeKeyring(vault.SystemKeyring{})
		if err == nil || errors.Is(err, vault.ErrKeyringLocked) {
			t.Fatalf("probe without a keyring: %v, want an error that is not ErrKeyringLocked", err)
		}
		v, err := vault.Create(vault.Options{Dir: t.TempDir(), Passphrase: []byte("pw"), ScryptWorkFactor: 10}, vault.StoreAuto)
		if err != nil || v.Store() != vault.StorePassphrase {
			t.Fatalf("create (auto) without a keyring: %v, want a passphrase vault", err)
		}
		return
	}
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	run := func(t *testing.T, cmd *exec.Cmd) {
		// A bus address that leads nowhere stops godbus from autolaunching one.
		cmd.Env = append(os.Environ(), absentEnv+"=1", "DBUS_SESSION_BUS_ADDRESS=unix:path="+t.TempDir()+"/no-bus")
		out, err := cmd.CombinedOutput()
		if err != nil || !strings.Contains(string(out), "--- PASS: TestKeyringAbsent") {
			t.Fatalf("child: %v\n%s", err, out)
		}
	}
	args := []string{"-test.run=^TestKeyringAbsent$", "-test.v", "-test.count=1"}
	t.Run("no D-Bus", func(t *testing.T) { run(t, exec.Command(exe, args...)) })
	t.Run("no Secret Service", func(t *testing.T) {
		if _, err := exec.LookPath("dbus-run-session"); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatal("dbus-run-session is not installed; .ci/run must install dbus")
			}
			t.Skip("dbus-run-session is not installed")
		}
		// A bus with no activatable services, so no Secret Service.
		conf := t.TempDir() + "/bus.conf"
		if err := os.WriteFile(conf, []byte(`<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN" "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>session</type><listen>unix:tmpdir=/tmp</listen><auth>EXTERNAL</auth>
<policy context="default"><allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/><allow own="*"/></policy></busconfig>`), 0o600); err != nil {
			t.Fatal(err)
		}
		// dbus-run-session sets the child's bus address, overriding the dead one.
		run(t, exec.Command("dbus-run-session", append([]string{"--config-file=" + conf, "--", exe}, args...)...))
	})
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
