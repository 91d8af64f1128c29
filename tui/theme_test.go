package tui

import (
	"image/color"
	"testing"

	tea "charm.land/bubbletea/v2"
)

func TestBackgroundFromOptions(t *testing.T) {
	env := func(kv ...string) func(string) string {
		return func(k string) string {
			for i := 0; i < len(kv); i += 2 {
				if kv[i] == k {
					return kv[i+1]
				}
			}
			return ""
		}
	}
	for _, tc := range []struct {
		name        string
		o           Options
		dark, known bool
	}{
		{"nothing: ask, dark until told", Options{Getenv: env()}, true, false},
		{"--theme light", Options{Theme: "light", Getenv: env("COLORFGBG", "15;0")}, false, true},
		{"--theme dark", Options{Theme: "dark", Getenv: env("COLORFGBG", "0;15")}, true, true},
		{"NO_COLOR", Options{Getenv: env("NO_COLOR", "1")}, true, true},
		{"COLORFGBG dark", Options{Getenv: env("COLORFGBG", "15;0")}, true, true},
		{"COLORFGBG light", Options{Getenv: env("COLORFGBG", "0;15")}, false, true},
		{"COLORFGBG with default", Options{Getenv: env("COLORFGBG", "7;default;0")}, true, true},
		{"COLORFGBG unreadable", Options{Getenv: env("COLORFGBG", "default")}, true, false},
	} {
		dark, known := tc.o.background()
		if dark != tc.dark || known != tc.known {
			t.Errorf("%s: dark %v known %v, want %v %v", tc.name, dark, known, tc.dark, tc.known)
		}
	}
}

// The terminal's answer sets the palette once; after the wait is over a
// late answer changes nothing.
func TestBackgroundAnswer(t *testing.T) {
	p := DefaultPalette()
	code := func(m Model) color.Color { return m.c.styles.Code.GetForeground() }
	white := tea.BackgroundColorMsg{Color: color.White}

	m := New(Options{Getenv: func(string) string { return "" }})
	if m.themeKnown || code(m) != p.Fresh.Dark {
		t.Fatalf("before the answer: known %v, code colour %v", m.themeKnown, code(m))
	}
	next, _ := m.Update(white)
	if m = next.(Model); code(m) != p.Fresh.Light || m.help.Styles.ShortKey.GetForeground() != p.Accent.Light {
		t.Fatalf("a light background did not bring the light palette: %v", code(m))
	}

	m = New(Options{Getenv: func(string) string { return "" }})
	next, _ = m.Update(backgroundTimeoutMsg{})
	next, _ = next.Update(white)
	if m = next.(Model); code(m) != p.Fresh.Dark {
		t.Fatalf("an answer after the wait changed the palette")
	}
}
