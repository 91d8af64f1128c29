package tui

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/sesame-auth/sesame/vault"
	"github.com/sesame-auth/sesame/vault/vaulttest"
)

// waitingKeyring holds every call until release is closed, as an OS keyring
// does while its unlock prompt waits on a display nobody sees.
type waitingKeyring struct {
	*vaulttest.Keyring
	release chan struct{}
}

func (k waitingKeyring) Get(s, u string) (string, error) { <-k.release; return k.Keyring.Get(s, u) }
func (k waitingKeyring) Set(s, u, v string) error        { <-k.release; return k.Keyring.Set(s, u, v) }
func (k waitingKeyring) Delete(s, u string) error        { <-k.release; return k.Keyring.Delete(s, u) }

// esc cancels a save that waits on the keyring: the form comes back with
// what was typed, and when the keyring answers at last no account is
// written; saving again then works.
func TestEscCancelsPendingSave(t *testing.T) {
	kr := waitingKeyring{vaulttest.NewKeyring(), make(chan struct{})}
	dir := filepath.Join(t.TempDir(), "vault")
	o := Options{
		VaultOptions: vault.Options{Dir: dir, Keyring: kr, ScryptWorkFactor: 10},
		Clock:        newClock(t0).now,
		Clipboard:    &fakeClipboard{},
		Getenv:       testEnv,
		Theme:        "dark",
		ReloadEvery:  time.Hour,
	}
	next, _ := New(o).Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	next, _ = next.Update(openedMsg{err: vault.ErrNoVault})
	m := press(t, next.(Model), "a", "l")
	link := "otpauth://totp/Waiting:me?secret=" + helloSecret + "&issuer=Waiting"
	m = paste(t, m, link)

	// enter: the add screen asks the root to save, which starts the save.
	next, cmd := m.Update(keyMsg("enter"))
	next, saveCmd := next.Update(cmd())
	m = next.(Model)
	if !strings.Contains(m.text(), "Saving… (esc cancels)") {
		t.Fatalf("no saving line while the keyring waits:\n%s", m.text())
	}
	saved := make(chan tea.Msg, 1)
	go func() { saved <- saveCmd() }()

	m = press(t, m, "esc")
	s, ok := m.overlay.(*addScreen)
	if !ok || s.busy != "" || s.link.Value() != link || !strings.Contains(m.text(), "cancelled: nothing was saved") {
		t.Fatalf("after esc: screen %T, busy %q, link %q\n%s", m.overlay, s.busy, s.link.Value(), m.text())
	}

	close(kr.release) // the keyring answers at last
	var msg tea.Msg
	select {
	case msg = <-saved:
	case <-time.After(10 * time.Second):
		t.Fatal("the cancelled save did not end 10s after the keyring answered")
	}
	if sm, ok := msg.(savedMsg); !ok || !errors.Is(sm.err, errSaveCancelled) {
		t.Fatalf("the cancelled save ended with %T (error %v, %d accounts added), want errSaveCancelled", msg, sm.err, len(sm.added))
	}
	next, _ = m.Update(msg)
	m = next.(Model)
	if s, ok := m.overlay.(*addScreen); !ok || s.link.Value() != link {
		t.Fatalf("the late answer of the cancelled save closed the form:\n%s", m.text())
	}
	w, err := vault.Open(vault.Options{Dir: dir, Keyring: kr.Keyring})
	if err != nil || len(w.Data().Accounts) != 0 {
		t.Fatalf("after the cancelled save: %v, accounts %v; want an empty vault", err, w.Data().Accounts)
	}

	m = press(t, m, "enter")
	if _, _, err := w.Reload(); err != nil {
		t.Fatal(err)
	}
	if d := w.Data(); len(d.Accounts) != 1 || d.Accounts[0].Issuer != "Waiting" {
		t.Fatalf("saving again: accounts %v\n%s", d.Accounts, m.text())
	}
}
