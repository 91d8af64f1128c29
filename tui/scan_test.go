package tui

import (
	"bytes"
	"context"
	"image"
	"image/draw"
	"image/png"
	"strings"
	"testing"

	tea "charm.land/bubbletea/v2"

	"github.com/sesame-auth/sesame/tui/clipboard"
	screencap "github.com/sesame-auth/sesame/tui/screen"
	"github.com/sesame-auth/sesame/vault"
	"github.com/sesame-auth/sesame/vault/qrcode"
)

type fakeScreen []image.Image

func (f fakeScreen) Capture(context.Context) ([]image.Image, error) { return f, nil }
func (fakeScreen) String() string                                  { return "fake" }

type fakeSource clipboard.Content

func (f fakeSource) Paste(context.Context) (clipboard.Content, error) {
	return clipboard.Content(f), nil
}
func (fakeSource) String() string { return "fake" }

// screenOf draws the QR codes of texts side by side, as a capture.
func screenOf(t *testing.T, texts ...string) image.Image {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 400*len(texts)+100, 480))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	for i, text := range texts {
		p, err := qrcode.EncodePNG(text, 330)
		if err != nil {
			t.Fatal(err)
		}
		q, _ := png.Decode(bytes.NewReader(p))
		draw.Draw(img, q.Bounds().Add(image.Pt(50+400*i, 70)), q, image.Point{}, draw.Src)
	}
	return img
}

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
	m, v := scanModel(t, screenOf(t, a, g, b), clipboard.Content{}, have)
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
