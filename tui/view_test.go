package tui

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/sesame-auth/sesame/tui/clipboard"
	"github.com/sesame-auth/sesame/vault"
	"github.com/sesame-auth/sesame/vault/vaulttest"
)

// Golden View tests: every screen at fixed sizes with the ASCII profile and a
// fixed clock. Refresh with: go test ./tui -run TestGolden -update
func TestGolden(t *testing.T) {
	type scene struct {
		name  string
		w, h  int
		at    time.Time
		setup func(t *testing.T, m Model) Model
	}
	nothing := func(_ *testing.T, m Model) Model { return m }
	keys := func(k ...string) func(*testing.T, Model) Model {
		return func(t *testing.T, m Model) Model { return press(t, m, k...) }
	}
	scenes := []scene{
		{"list_80x24", 80, 24, t0, nothing},
		{"list_200x60", 200, 60, t0, nothing},
		{"list_40x12", 40, 12, t0, nothing},
		{"list_expiring", 80, 24, t0.Add(17 * time.Second), nothing},
		{"list_privacy", 80, 24, t0, keys("j", "m")},
		{"list_filter", 80, 24, t0, keys("/", "g", "o")},
		{"list_filter_none", 80, 24, t0, keys("/", "z", "z", "z")},
		{"list_hotp_shown", 80, 24, t0, keys("G", "k", "enter")},
		{"list_full_help", 80, 24, t0, keys("?")},
		{"list_history_no_pairings", 80, 24, t0, keys("H")},
		{"list_pause_no_pairings", 80, 24, t0, keys("P")},
		{"delete_confirm", 80, 24, t0, keys("j", "d")},
		{"add_menu", 80, 24, t0, keys("a")},
		{"add_link_ok", 80, 24, t0, func(t *testing.T, m Model) Model {
			m = press(t, m, "a", "l")
			return paste(t, m, "otpauth://totp/Example:demo@example.com?secret="+helloSecret+"&issuer=Example")
		}},
		{"add_link_bad", 80, 24, t0, func(t *testing.T, m Model) Model {
			m = press(t, m, "a", "l")
			m = paste(t, m, "otpauth://totp/Example:demo?secret=not-base32!")
			return press(t, m, "enter")
		}},
		{"add_manual_errors", 80, 24, t0, keys("a", "m", "A", "c", "m", "e", "tab", "tab", "1", "8", "9", "enter")},
		{"add_file", 80, 24, t0, keys("a", "f")},
		{"edit", 80, 24, t0, keys("e")},
		{"qr_80x24", 80, 24, t0, keys("x")},
		{"qr_too_small", 40, 16, t0, keys("x")},
		{"export_menu", 80, 24, t0, exportKeys("E")},
		{"export_backup_form", 80, 24, t0, exportKeys("E", "b")},
		{"export_backup_mismatch", 80, 24, t0, exportKeys("E", "b", "enter", fakePass, "enter", fakePass+"X", "enter")},
		{"export_uri_confirm", 80, 24, t0, exportKeys("E", "u", "enter")},
		{"export_overwrite", 80, 24, t0, func(t *testing.T, m Model) Model {
			home := t.TempDir()
			t.Setenv("HOME", home)
			if err := os.WriteFile(filepath.Join(home, "sesame-otpauth.txt"), []byte("old\n"), 0o600); err != nil {
				t.Fatal(err)
			}
			return press(t, m, "E", "u", "enter", "y")
		}},
		{"export_google_intro", 80, 24, t0, exportKeys("E", "g")},
		{"export_google_too_small", 80, 24, t0, exportKeys("E", "g", "enter")},
	}
	for _, sc := range scenes {
		t.Run(sc.name, func(t *testing.T) {
			clock := newClock(sc.at)
			m, _, _ := readyModel(t, sc.w, sc.h, clock, sampleAccounts()...)
			m = sc.setup(t, m)
			golden.RequireEqual(t, []byte(m.text()))
		})
	}

	states := []struct {
		name string
		msg  tea.Msg
	}{
		{"welcome_no_vault", openedMsg{err: vault.ErrNoVault}},
		{"unlock_passphrase", openedMsg{err: vault.ErrPassphraseRequired}},
		{"unlock_wrong_from_env", openedMsg{err: vault.ErrWrongPassphrase}},
		{"unlock_recovery", openedMsg{err: vault.ErrKeyMissing}},
		{"keyring_locked", openedMsg{err: fmt.Errorf("%w (dbus: no such service)", vault.ErrKeyringUnavailable)}},
		{"corrupt", openedMsg{err: &vault.CorruptError{Path: "/home/u/.config/sesame/vault.sesame", Backup: "/nonexistent", Err: errors.New("unexpected end of JSON input")}}},
	}
	for _, st := range states {
		t.Run(st.name, func(t *testing.T) {
			m := New(Options{Clock: newClock(t0).now, Clipboard: &fakeClipboard{}, Getenv: testEnv, Theme: "dark"})
			next, _ := m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
			next, _ = next.Update(st.msg)
			golden.RequireEqual(t, []byte(next.(Model).text()))
		})
	}
	t.Run("empty_vault", func(t *testing.T) {
		m, _, _ := readyModel(t, 80, 24, newClock(t0))
		golden.RequireEqual(t, []byte(m.text()))
	})
}

// paste delivers text the way a terminal's bracketed paste does.
func paste(t testing.TB, m Model, text string) Model {
	t.Helper()
	next, cmd := m.Update(tea.PasteMsg{Content: text})
	return drain(t, next.(Model), cmd, 4)
}

// TestGoldenHasNoSecrets makes sure no golden file holds a real-looking
// secret: only the obviously fake test keys may appear, and only in QR art
// (which is not text).
func TestGoldenHasNoSecrets(t *testing.T) {
	for _, a := range sampleAccounts() {
		b32 := a.Secret.Base32()
		for _, name := range []string{"list_80x24", "list_200x60", "add_manual_errors", "add_link_bad", "edit"} {
			b := readGolden(t, name)
			if strings.Contains(b, b32) {
				t.Errorf("%s.golden contains the secret of %s", name, a.Label())
			}
		}
	}
	if strings.Contains(readGolden(t, "add_manual_errors"), "189") {
		t.Error("the secret typed in the manual form is echoed in clear")
	}
}

// Every code says how long it lives: with four periods, each has a bar in
// the header when there is room, and otherwise each row of a period without
// a bar shows its own seconds left.
func TestEveryPeriodHasACountdown(t *testing.T) {
	var accts []vault.Account
	for _, p := range []int{30, 30, 20, 15, 60} {
		accts = append(accts, acct(vault.TOTP, fmt.Sprintf("P%d-%d", p, len(accts)), "x", helloSecret, 6, p))
	}
	at := t0.Add(3 * time.Second)
	for _, size := range [][2]int{{200, 60}, {80, 24}, {60, 20}, {45, 12}, {30, 12}} {
		t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) {
			m, _, _ := readyModel(t, size[0], size[1], newClock(at), accts...)
			lines := strings.Split(m.text(), "\n")
			header := lines[0]
			for _, a := range accts {
				left := fmt.Sprintf("%ds", remaining(at, a.Period))
				inHeader := strings.Contains(header, fmt.Sprintf("%ds ", a.Period)) && strings.Contains(header, left)
				if a.Period == 30 && size[0] < 60 {
					// Below 60 columns the header's one unlabelled bar times the most common period.
					inHeader = strings.Contains(header, " "+left)
				}
				var row string
				for _, l := range lines {
					if strings.Contains(l, a.Issuer) {
						row = l
					}
				}
				if row == "" {
					t.Fatalf("no row for %s:\n%s", a.Issuer, m.text())
				}
				onRow := strings.HasSuffix(strings.TrimRight(row, " "), left)
				if inHeader == onRow {
					t.Errorf("%s (%d s, %s left): in the header %v, on its row %v; want exactly one:\n%s",
						a.Issuer, a.Period, left, inHeader, onRow, m.text())
				}
				if size[0] >= 200 && !inHeader {
					t.Errorf("at %d columns the %d s period has no bar in the header:\n%s", size[0], a.Period, header)
				}
			}
		})
	}
}

// In the last seconds of a period every column keeps a space from the next:
// the next code never runs into the period tag, whatever the digits.
func TestRowColumnsNeverTouch(t *testing.T) {
	var accts []vault.Account
	for _, d := range []int{6, 7, 8} {
		for _, p := range []int{30, 60} {
			accts = append(accts, acct(vault.TOTP, fmt.Sprintf("D%dP%d", d, p), "x", helloSecret, d, p))
		}
	}
	accts = append(accts, acct(vault.Steam, "Steam", "gamer", "ONSWG4TFOQ", 5, 30), acct(vault.Steam, "Steam2", "gamer", "ONSWG4TFOQ", 5, 30))
	accts = append(accts, acct(vault.TOTP, "Three", "x", helloSecret, 8, 120))
	at := t0.Add(47 * time.Second) // 3 s left in the 30, 60 and 120 s periods
	for _, w := range []int{80, 120, 59, 45} {
		m, _, _ := readyModel(t, w, 24, newClock(at), accts...)
		view := m.text()
		for _, r := range m.list.rows {
			var line string
			for _, l := range strings.Split(view, "\n") {
				if strings.Contains(l, " "+r.acct.Issuer+" ") {
					line = strings.TrimRight(l, " ")
				}
			}
			if line == "" {
				t.Fatalf("%d columns: no row for %s:\n%s", w, r.acct.Issuer, view)
			}
			for _, shown := range []string{r.code, "→ " + r.next} {
				i := strings.Index(line, shown)
				if i < 0 {
					if w >= 60 || !strings.HasPrefix(shown, "→") {
						t.Errorf("%d columns: %q missing from %q", w, shown, line)
					}
					continue
				}
				if end := i + len(shown); end < len(line) && line[end] != ' ' {
					t.Errorf("%d columns: %q runs into what follows: %q", w, shown, line)
				}
			}
		}
	}
}

// Long toasts, errors and key lists wrap instead of being cut at 80 columns.
func TestLongTextsWrap(t *testing.T) {
	m, _, _ := readyModel(t, 80, 24, newClock(t0), sampleAccounts()...)
	next, _ := m.Update(copiedMsg{seq: 1, label: "GitHub", where: clipboard.TmuxTerminal, next: true, clearsAfter: DefaultClearAfter})
	view := next.(Model).text()
	if lines := strings.Split(view, "\n"); len(lines) != 24 {
		t.Fatalf("the view has %d lines", len(lines))
	}
	flat := strings.Join(strings.Fields(view), " ")
	want := "copied the NEXT GitHub code to terminal clipboard via tmux · not cleared: the terminal clipboard can't be read back"
	if !strings.Contains(flat, want) || strings.Contains(view, "…") {
		t.Errorf("the copy toast is cut or reworded; want %q in\n%s", want, view)
	}
	if strings.Contains(view, "ends in") {
		t.Errorf("the toast describes a time that passes before it goes:\n%s", view)
	}

	// The manual form's keys, including ctrl+r, all show.
	m2 := press(t, m, "a", "m")
	if v := m2.text(); !strings.Contains(v, "ctrl+r show secret") || !strings.Contains(v, "esc back") {
		t.Errorf("the form's footer hides keys:\n%s", v)
	}

	// An error about a file wraps at word boundaries.
	dir := filepath.Join(t.TempDir(), "a-rather-long-folder-name-for-the-screenshots-of-qr-codes")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "notes-from-the-meeting.txt")
	if err := os.WriteFile(bad, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	m3 := press(t, m, "a", "f")
	for _, r := range bad {
		m3 = press(t, m3, string(r))
	}
	m3 = press(t, m3, "enter")
	errText := m3.overlay.(*addScreen).path.err
	if ansi.StringWidth(errText) < 80 {
		t.Fatalf("test setup: the error %q fits one line", errText)
	}
	v3 := m3.text()
	for _, word := range strings.Fields(errText) {
		if len(word) > 60 {
			continue // a path longer than a line breaks at a hyphen or slash
		}
		if !strings.Contains(v3, word) {
			t.Errorf("%q of the error is cut from the screen:\n%s", word, v3)
		}
	}
}

// Text wraps at spaces only, and wrapped paragraphs keep their indent.
func TestWrapKeepsWordsWholeAndIndented(t *testing.T) {
	got := wrap("Type it to open the vault. Set SESAME_PASSPHRASE or use --passphrase-file to skip this screen in scripts.", 56)
	if !strings.Contains(got, "--passphrase-file") {
		t.Errorf("a flag is split across lines:\n%s", got)
	}
	for _, l := range strings.Split(got, "\n") {
		if ansi.StringWidth(l) > 56 {
			t.Errorf("line wider than 56 cells: %q", l)
		}
	}
	if got := wrap(strings.Repeat("x", 25), 10); got != "xxxxxxxxxx\nxxxxxxxxxx\nxxxxx" {
		t.Errorf("a word longer than the line: %q", got)
	}

	// The first-run passphrase step: every line of its paragraph is indented.
	o := Options{VaultOptions: vault.Options{Dir: t.TempDir(), Keyring: &vaulttest.Keyring{Err: vaulttest.ErrNoKeyring}, ScryptWorkFactor: 10},
		Clock: newClock(t0).now, Clipboard: &fakeClipboard{}, Getenv: testEnv, Theme: "dark"}
	next, _ := New(o).Update(tea.WindowSizeMsg{Width: 60, Height: 24})
	next, _ = next.Update(openedMsg{err: vault.ErrNoVault})
	m := press(t, next.(Model), "a", "l")
	m = paste(t, m, "otpauth://totp/First:me?secret="+helloSecret)
	m = press(t, m, "enter")
	view := m.text()
	if !strings.Contains(view, "no working OS keyring") {
		t.Fatalf("no passphrase step:\n%s", view)
	}
	in := false
	for _, l := range strings.Split(view, "\n") {
		if strings.Contains(l, "There is no working OS keyring") {
			in = true
		}
		if in {
			if !strings.HasPrefix(l, "  ") {
				t.Errorf("a line of the paragraph starts at column 0: %q\n%s", l, view)
			}
			if strings.Contains(l, "SESAME_PASSPHRASE") {
				break
			}
		}
	}
}
