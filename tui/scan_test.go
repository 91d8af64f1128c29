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
	// The fake cannot say where the terminal is: with nothing found, the UI
	// steps aside and captures again once the terminal has answered twice.
	m = answer(t, m, 2)
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

// answer feeds n cursor position reports, as the terminal sends them.
func answer(t *testing.T, m Model, n int) Model {
	t.Helper()
	for range n {
		next, cmd := m.Update(tea.CursorPositionMsg{X: 1, Y: 1})
		m = drain(t, next.(Model), cmd, 4)
	}
	return m
}

// placedScreen is a capturer that knows where the terminal is; its
// captures are shots in turn (the last one repeats), counted in *calls.
type placedScreen struct {
	place screencap.Place
	shots []image.Image
	calls *int
}

func (p placedScreen) Capture(context.Context) ([]image.Image, error) {
	i := min(*p.calls, len(p.shots)-1)
	*p.calls++
	return []image.Image{p.shots[i]}, nil
}
func (placedScreen) String() string                                    { return "fake" }
func (p placedScreen) Locate(context.Context) (screencap.Place, error) { return p.place, nil }

// The UI steps aside (alternate screen off, nothing drawn) only when the
// capture would otherwise show it and nothing else: before capturing when
// the terminal covers the screen, after a capture that found nothing when
// it may be in the picture, never when it is away or drawn inline. It
// captures aside only after two answers from the terminal, and comes back.
func TestScanStepsAside(t *testing.T) {
	qr := tuitest.QRScreen(t, "otpauth://totp/Aside:ann?secret=JBSWY3DPEHPK3PXP&issuer=Aside")
	blank := image.NewGray(image.Rect(0, 0, 300, 200))
	for _, tc := range []struct {
		name     string
		place    screencap.Place
		inline   bool
		shots    []image.Image
		aside    bool
		captures int // before stepping aside, and in all
		want     string
	}{
		{"beside, code found at once", screencap.PlaceBeside, false, []image.Image{qr}, false, 1, "Aside (ann)"},
		{"beside, code on the terminal's own screen", screencap.PlaceBeside, false, []image.Image{blank, qr}, true, 2, "Aside (ann)"},
		{"unknown place, nothing anywhere", screencap.PlaceUnknown, false, []image.Image{blank}, true, 2, "no QR code found on the screen: show"},
		{"away", screencap.PlaceAway, false, []image.Image{blank}, false, 1, "no QR code found on the screen: show"},
		{"covers", screencap.PlaceCovers, false, []image.Image{qr}, true, 1, "Aside (ann)"},
		{"covers, nothing on the terminal's screen", screencap.PlaceCovers, false, []image.Image{blank}, true, 1, "your terminal covers the whole screen"},
		{"inline", screencap.PlaceCovers, true, []image.Image{blank}, false, 1, "your terminal covers the whole screen"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o, v, _ := testOptions(t, newClock(t0))
			calls := 0
			o.Screen = func() (screencap.Capturer, error) { return placedScreen{tc.place, tc.shots, &calls}, nil }
			o.NoAltScreen = tc.inline
			m := New(o)
			next, _ := m.Update(tea.WindowSizeMsg{Width: 90, Height: 30})
			next, _ = next.Update(openedMsg{v: v})
			m = press(t, next.(Model), "a", "s")
			if got := m.aside.hidden(); got != tc.aside {
				t.Fatalf("stepped aside = %v, want %v\n%s", got, tc.aside, m.text())
			}
			if tc.aside {
				before := calls
				if v := m.View(); v.AltScreen || v.Content != "" {
					t.Fatalf("aside: alternate screen %v, content %q", v.AltScreen, v.Content)
				}
				if m = answer(t, m, 1); !m.aside.hidden() || calls != before {
					t.Fatalf("after one answer: aside %v, %d captures (was %d): the frame may not be drawn yet", m.aside.hidden(), calls, before)
				}
				m = answer(t, m, 1)
			}
			if calls != tc.captures {
				t.Errorf("%d captures, want %d", calls, tc.captures)
			}
			if m.aside.hidden() || m.View().AltScreen == tc.inline {
				t.Fatalf("not back: aside %v, alternate screen %v", m.aside.hidden(), m.View().AltScreen)
			}
			d := v.Data()
			if _, err := d.Find("Aside"); (err == nil) != (tc.want == "Aside (ann)") {
				t.Fatalf("account added: %v\n%s", err == nil, m.text())
			}
			if tc.want != "Aside (ann)" && !strings.Contains(m.text(), tc.want) {
				t.Fatalf("want %q:\n%s", tc.want, m.text())
			}
		})
	}
}

// A terminal that never answers gets an error, and the UI comes back.
func TestScanAsideTerminalSilent(t *testing.T) {
	calls := 0
	m, _ := scanModel(t, nil, clipboard.Content{})
	m.c.capture = func() (screencap.Capturer, error) {
		return placedScreen{screencap.PlaceCovers, []image.Image{image.NewGray(image.Rect(0, 0, 30, 20))}, &calls}, nil
	}
	m = press(t, m, "a", "s")
	if !m.aside.hidden() {
		t.Fatalf("did not step aside:\n%s", m.text())
	}
	next, cmd := m.Update(asideTimeoutMsg{id: m.aside.id - 1})
	if m = drain(t, next.(Model), cmd, 4); !m.aside.hidden() {
		t.Fatal("a stale deadline brought the UI back")
	}
	next, cmd = m.Update(asideTimeoutMsg{id: m.aside.id})
	m = drain(t, next.(Model), cmd, 4)
	if m.aside.hidden() || calls != 0 || !strings.Contains(m.text(), "the terminal did not answer") {
		t.Fatalf("after the deadline: aside %v, %d captures\n%s", m.aside.hidden(), calls, m.text())
	}
	// A late answer changes nothing.
	if m = answer(t, m, 2); calls != 0 || m.aside.hidden() {
		t.Fatalf("a late answer captured: %d captures", calls)
	}
}

// While the screen or the clipboard is read, the dialog says which.
func TestAddScanSaysWhatItDoes(t *testing.T) {
	for key, want := range map[string]string{"s": "Scanning the screen…", "v": "Reading the clipboard…"} {
		m, _ := scanModel(t, tuitest.QRScreen(t), clipboard.Content{})
		m = press(t, m, "a")
		next, cmd := m.Update(keyMsg(key)) // the read itself (cmd) is not run yet
		if cmd == nil || !strings.Contains(next.(Model).text(), want) {
			t.Errorf("%s: the dialog does not say %q:\n%s", key, want, next.(Model).text())
		}
	}
}
