package tui

import (
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/sesame-auth/sesame/vault"
	"github.com/sesame-auth/sesame/vault/vaulttest"
)

// The TUI refuses a rename into another account of the vault with the
// vault's own rule and message, as 'sesame rename' does.
func TestEditRefusesDuplicate(t *testing.T) {
	o, v, _ := testOptions(t, newClock(t0),
		acct(vault.TOTP, "GitHub", "alice", helloSecret, 6, 30),
		acct(vault.TOTP, "GitHub", "bob", helloSecret, 6, 30))
	m := New(o)
	next, _ := m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	next, _ = next.Update(openedMsg{v: v})
	m = next.(Model)
	id := m.list.selectedID()
	before := onDisk(t, o.VaultOptions, id)
	other := map[string]string{"alice": "bob", "bob": "alice"}[before.Name]

	m = press(t, m, "e", "tab")
	for range len(before.Name) {
		m = press(t, m, "backspace")
	}
	m = typeText(t, m, other)
	m = press(t, m, "enter")
	if _, ok := m.overlay.(*editScreen); !ok || !strings.Contains(m.text(), vault.ErrDuplicate.Error()) {
		t.Fatalf("a rename into a duplicate was not refused with the vault's message:\n%s", m.text())
	}
	if got := onDisk(t, o.VaultOptions, id); got.Name != before.Name {
		t.Fatalf("the refused rename reached the vault: %q", got.Name)
	}
}

// The new vault's passphrase follows the vault's rule, with its message,
// as 'sesame passwd' and the CLI's first run do.
func TestNewVaultPassphraseRule(t *testing.T) {
	o := Options{VaultOptions: vault.Options{Dir: t.TempDir(), Keyring: &vaulttest.Keyring{Err: vaulttest.ErrNoKeyring}, ScryptWorkFactor: 10},
		Clock: newClock(t0).now, Clipboard: &fakeClipboard{}, Getenv: testEnv, Theme: "dark"}
	m := New(o)
	next, _ := m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	next, _ = next.Update(openedMsg{err: vault.ErrNoVault})
	m = press(t, next.(Model), "a", "l")
	m = paste(t, m, "otpauth://totp/First:me?secret="+helloSecret)
	m = press(t, m, "enter", "p", "w", "tab", "p", "w", "enter")
	s, ok := m.overlay.(*addScreen)
	if !ok || s.pass.fields[0].err != vault.ErrPassphraseTooShort.Error() || m.v != nil {
		t.Fatalf("a 2-character passphrase was not refused with the vault's message:\n%s", m.text())
	}
}
