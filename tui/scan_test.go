package tui

import (
	"context"
	"image"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/sesame-auth/sesame/tui/clipboard"
	screencap "github.com/sesame-auth/sesame/tui/screen"
	"github.com/sesame-auth/sesame/tui/tuitest"
	"github.com/sesame-auth/sesame/vault"
)

type fakeScreen []image.Image

func (f fakeScreen) Capture(context.Context) ([]image.Image, error) { return f, nil }
func (fakeScreen) String() string                                   { return "fake" }

type fakeSource clipboard.Content

func (f fakeSource) Paste(context.Context) (clipboard.Content, error) {
	return clipboard.Content(f), nil
}
func (fakeSource) String() string { return "fake" }

func scanModel(t *testing.T, shot image.Image, clip clipboard.Content, accounts ...vault.Account) (Model, *vault.Vault) {
	t.Helper()
	o, v, _ := testOptions(t, newClock(t0), accounts...)
	o.Screen = func() (screencap.Capturer, error) { return fakeScreen{shot}, nil }
	o.Paste = func() (clipboard.Source, error) { return fakeSource(clip), nil }
	m := New(o)
	next, _ := m.Update(tea.WindowSizeMsg{Width: 90, Height: 30})
	next, _ = next.Update(openedMsg{v: v})
	return next.(Model), v
}

func TestAddScanPicksAmongSeveral(t *testing.T) {
	g := "otpauth://totp/Gamma:gus?secret=MFRGGZDFMZTWQ2LK&issuer=Gamma"
	have, err := vault.ParseURI(g)
	if err != nil {
		t.Fatal(err)
	}
	a := "otpauth://totp/Alpha:ann?secret=JBSWY3DPEHPK3PXP&issuer=Alpha"
	b := "otpauth://totp/Beta:bob?secret=KRSXG5CTMVRXEZLU&issuer=Beta"
	m, v := scanModel(t, tuitest.QRScreen(t, a, g, b), clipboard.Content{}, have)
	m = press(t, m, "a")
	if !strings.Contains(m.text(), "s  Scan the screen") || !strings.Contains(m.text(), "v  From the clipboard") {
		t.Fatalf("add menu:\n%s", m.text())
	}
	m = press(t, m, "s")
	view := m.text()
	if !strings.Contains(view, "3 accounts found on the screen") || !strings.Contains(view, "[x] Alpha (ann)") ||
		!strings.Contains(view, "[ ] "+have.Label()+"  already in the vault") {
		t.Fatalf("pick list:\n%s", view)
	}
	// Untick Alpha, keep Beta, add.
	m = press(t, m, "space", "enter")
	d := v.Data()
	if _, err := d.Find("Beta"); err != nil {
		t.Fatalf("Beta not added: %v\n%s", err, m.text())
	}
	if _, err := d.Find("Alpha"); err == nil {
		t.Fatalf("Alpha was added though unticked")
	}
	if len(d.Accounts) != 2 {
		t.Fatalf("%d accounts, want 2 (Gamma and Beta)", len(d.Accounts))
	}
}

func TestAddFromClipboardAndEmptyScreen(t *testing.T) {
	blank := image.NewGray(image.Rect(0, 0, 300, 200))
	m, v := scanModel(t, blank, clipboard.Content{Text: "otpauth://totp/Clip:cy?secret=JBSWY3DPEHPK3PXP&issuer=Clip\n"})
	m = press(t, m, "a", "s")
	if !strings.Contains(m.text(), "no QR code found on the screen") {
		t.Fatalf("empty screen:\n%s", m.text())
	}
	m = press(t, m, "v")
	d := v.Data()
	if _, err := d.Find("Clip"); err != nil {
		t.Fatalf("clipboard link not added: %v\n%s", err, m.text())
	}
}

// Letters typed into the add menu that are not menu keys start a link: the
// "l" of "alice" is not taken for the link form's key.
func TestAddMenuTypedLinkIsNotMenuKeys(t *testing.T) {
	m, _ := scanModel(t, image.NewGray(image.Rect(0, 0, 10, 10)), clipboard.Content{})
	m = press(t, m, "a")
	for _, r := range "alice" {
		m = press(t, m, string(r))
	}
	s, ok := m.overlay.(*addScreen)
	if !ok || s.mode != addLink || s.link.Value() != "alice" {
		t.Fatalf("after typing alice: mode %v, link %q\n%s", s.mode, s.link.Value(), m.text())
	}
}
