package tui

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/vault"
	"github.com/sesame-auth/sesame/vault/qrcode"
	"github.com/sesame-auth/sesame/vault/transfer"
)

// fakePass is the obviously fake passphrase of the export tests.
const fakePass = "fake export passphrase"

// exportKeys presses keys with HOME in a temporary folder, so that no
// export can ever land in the real home folder.
func exportKeys(k ...string) func(*testing.T, Model) Model {
	return func(t *testing.T, m Model) Model {
		t.Setenv("HOME", t.TempDir())
		return press(t, m, k...)
	}
}

// setPath replaces the export screen's path the way a user does: ctrl+u
// clears the field, then the path is typed.
func setPath(t *testing.T, m Model, path string) Model {
	t.Helper()
	next, cmd := m.Update(keyMsg("ctrl+u"))
	m = drain(t, next.(Model), cmd, 4)
	return press(t, m, path)
}

func exportScreenOf(t *testing.T, m Model) *exportScreen {
	t.Helper()
	s, ok := m.overlay.(*exportScreen)
	if !ok {
		t.Fatalf("the export screen is not open; view:\n%s", m.text())
	}
	return s
}

// requireSameAccounts checks that got holds exactly want, with every code
// parameter and secret.
func requireSameAccounts(t *testing.T, got, want []vault.Account) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d accounts, want %d", len(got), len(want))
	}
	for _, w := range want {
		found := false
		for _, g := range got {
			if g.SameAs(&w) {
				found = true
				if g.Algorithm != w.Algorithm || g.Digits != w.Digits || g.Period != w.Period || g.Counter != w.Counter {
					t.Errorf("%s came back as %s %d digits %d s counter %d, want %s %d %d %d", w.Label(),
						g.Algorithm, g.Digits, g.Period, g.Counter, w.Algorithm, w.Digits, w.Period, w.Counter)
				}
			}
		}
		if !found {
			t.Errorf("%s is missing", w.Label())
		}
	}
}

func requirePrivateFile(t *testing.T, path string) []byte {
	t.Helper()
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatalf("the export was not written: %v", err)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm() != 0o600 {
		t.Errorf("%s has mode %v, want 0600", path, fi.Mode().Perm())
	}
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// An encrypted backup and an Aegis vault written from the TUI decrypt, with
// transfer.Import and the passphrase, to every account of the vault.
func TestFlowExportEncryptedImportsBack(t *testing.T) {
	for _, tc := range []struct{ name, key, label string }{
		{"backup", "b", "Sesame backup, encrypted"},
		{"aegis", "a", "Aegis vault, encrypted"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Setenv("HOME", t.TempDir())
			o, v, _ := testOptions(t, newClock(t0), sampleAccounts()...)
			tm := startUI(t, o, 160, 40)
			waitFor(t, tm, "5 accounts")
			tm.Send(keyMsg("E"))
			waitFor(t, tm, "Encrypted Sesame backup", "Encrypted Aegis vault")
			tm.Send(keyMsg(tc.key))
			waitFor(t, tm, "Passphrase")
			out := filepath.Join(t.TempDir(), "export-"+tc.name)
			tm.Send(keyMsg("ctrl+u"))
			tm.Type(out)
			tm.Send(keyMsg("enter")) // on to the empty passphrase field
			tm.Type(fakePass)
			tm.Send(keyMsg("enter"))
			tm.Type(fakePass)
			waitFor(t, tm, strings.Repeat("•", len(fakePass)))
			if view := currentView(t, tm); strings.Contains(view, fakePass) {
				t.Fatalf("the passphrase is shown:\n%s", view)
			}
			tm.Send(keyMsg("enter"))
			// scrypt under the race detector on a shared machine is slow.
			waitForUpTo(t, tm, 2*time.Minute, "exported 5 accounts to "+out+" ("+tc.label+")")

			data := requirePrivateFile(t, out)
			res, err := transfer.Import(transfer.ImportOptions{
				Password: func(string, transfer.Format) ([]byte, error) { return []byte(fakePass), nil },
			}, transfer.Input{Name: out, Data: data})
			if err != nil {
				t.Fatalf("the export does not import back: %v", err)
			}
			requireSameAccounts(t, res.Accounts, v.Data().Accounts)
			if _, err := transfer.Import(transfer.ImportOptions{
				Password: func(string, transfer.Format) ([]byte, error) { return []byte("not the passphrase"), nil },
			}, transfer.Input{Name: out, Data: data}); err == nil {
				t.Fatal("the export opens with a wrong passphrase: it is not encrypted")
			}
		})
	}
}

// The plain URI list is written only after an explicit yes, and holds every
// account.
func TestExportURIListNeedsConfirmation(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	m, v, _ := readyModel(t, 160, 40, newClock(t0), sampleAccounts()...)
	out := filepath.Join(t.TempDir(), "uris.txt")
	m = press(t, m, "E", "u")
	m = setPath(t, m, out)
	m = press(t, m, "enter")
	if !strings.Contains(m.text(), "UNENCRYPTED export") {
		t.Fatalf("no confirmation before writing secrets in clear:\n%s", m.text())
	}
	m = press(t, m, "enter") // enter is not a yes
	if _, err := os.Stat(out); err == nil {
		t.Fatal("the unencrypted list was written without a yes")
	}
	m = press(t, m, "n")
	if s := exportScreenOf(t, m); s.mode != exportForm || s.path().Value() != out {
		t.Fatalf("n did not go back to the form with the path kept (mode %d, path %q)", s.mode, s.path().Value())
	}
	if _, err := os.Stat(out); err == nil {
		t.Fatal("the unencrypted list was written after a no")
	}
	m = press(t, m, "enter", "y")
	if m.overlay != nil {
		t.Fatalf("the export screen stayed open:\n%s", m.text())
	}
	lines := strings.Split(strings.TrimSpace(string(requirePrivateFile(t, out))), "\n")
	var got []vault.Account
	for _, l := range lines {
		a, err := vault.ParseURI(l)
		if err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		got = append(got, a)
	}
	requireSameAccounts(t, got, v.Data().Accounts)
	if view := m.text(); !strings.Contains(view, "exported 5 accounts to "+out) || !strings.Contains(view, "UNENCRYPTED") {
		t.Errorf("the toast does not say where the list went and that it is unencrypted:\n%s", view)
	}
}

// An existing file is replaced only after a yes; a folder gets the default
// file name.
func TestExportOverwriteNeedsConfirmation(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	m, v, _ := readyModel(t, 160, 40, newClock(t0), sampleAccounts()...)
	dir := t.TempDir()
	out := filepath.Join(dir, exportURIs.fileName())
	if err := os.WriteFile(out, []byte("old content\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	m = press(t, m, "E", "u")
	m = setPath(t, m, dir) // the folder: the file goes in it under its default name
	m = press(t, m, "enter", "y")
	if s := exportScreenOf(t, m); s.mode != exportOverwrite || s.target != out {
		t.Fatalf("no overwrite question for %s:\n%s", out, m.text())
	}
	if !strings.Contains(m.text(), "Replace it with this export?") {
		t.Fatalf("view:\n%s", m.text())
	}
	m = press(t, m, "n")
	if b, _ := os.ReadFile(out); string(b) != "old content\n" {
		t.Fatalf("the file was replaced after a no: %q", b)
	}
	if s := exportScreenOf(t, m); s.mode != exportForm || s.path().Value() != dir {
		t.Fatalf("n lost the form (mode %d, path %q)", s.mode, s.path().Value())
	}
	m = press(t, m, "enter", "y", "y")
	b := requirePrivateFile(t, out)
	if !strings.HasPrefix(string(b), "otpauth://") || strings.Count(string(b), "\n") != len(v.Data().Accounts) {
		t.Fatalf("the file was not replaced by the export: %q", b)
	}
	if m.overlay != nil {
		t.Fatalf("the export screen stayed open:\n%s", m.text())
	}
}

// Mismatched passphrases and a write error show inline, and nothing typed
// is lost; the passphrase never shows, not even with the form's reveal key.
func TestExportFormKeepsInput(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	m, _, _ := readyModel(t, 160, 40, newClock(t0), sampleAccounts()...)
	missing := filepath.Join(t.TempDir(), "no-such-folder", "backup.age")
	m = press(t, m, "E", "b")
	m = setPath(t, m, missing)
	m = press(t, m, "enter", fakePass, "enter", fakePass+"X", "ctrl+r", "enter")
	s := exportScreenOf(t, m)
	view := m.text()
	if !strings.Contains(view, "Again       •") || !strings.Contains(view, "does not match the first one") {
		t.Fatalf("no inline mismatch error:\n%s", view)
	}
	if strings.Contains(view, fakePass) {
		t.Fatalf("the passphrase is shown:\n%s", view)
	}
	if s.focus != fieldAgain || s.pass[0].Value() != fakePass || s.pass[1].Value() != fakePass+"X" || s.path().Value() != missing {
		t.Fatalf("the mismatch lost input: focus %d, path %q", s.focus, s.path().Value())
	}

	m = press(t, m, "backspace", "enter")
	s = exportScreenOf(t, m)
	if !strings.Contains(s.path().err, "does not exist") || s.busy {
		t.Fatalf("no inline error for the missing folder (%q):\n%s", s.path().err, m.text())
	}
	if s.pass[0].Value() != fakePass || s.pass[1].Value() != fakePass || s.path().Value() != missing {
		t.Fatal("the write error lost what was typed")
	}
	m = press(t, m, "esc", "b") // back to the menu and in again
	s = exportScreenOf(t, m)
	if s.pass[0].Value() != fakePass || s.path().Value() != missing {
		t.Fatal("going back to the menu lost what was typed")
	}
	if _, err := os.Stat(filepath.Dir(missing)); err == nil {
		t.Fatal("the export created a folder")
	}
}

// Tab completes the export path with the add screen's completion.
func TestExportPathCompletes(t *testing.T) {
	t.Setenv("HOME", t.TempDir())
	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "backups-2024"), 0o700); err != nil {
		t.Fatal(err)
	}
	m, _, _ := readyModel(t, 160, 40, newClock(t0), sampleAccounts()...)
	m = press(t, m, "E", "a")
	m = setPath(t, m, filepath.Join(dir, "back"))
	m = press(t, m, "tab")
	if got, want := exportScreenOf(t, m).path().Value(), filepath.Join(dir, "backups-2024")+"/"; got != want {
		t.Fatalf("tab completed to %q, want %q", got, want)
	}
}

// fakeTOTPAccounts makes n TOTP accounts with distinct fake secrets, enough for
// several Google Authenticator QR codes.
func fakeTOTPAccounts(n int) []vault.Account {
	var out []vault.Account
	for i := range n {
		out = append(out, vault.Account{Type: vault.TOTP, Issuer: fmt.Sprintf("Service %02d", i), Name: fmt.Sprintf("user%02d@example.com", i),
			Secret: vault.Secret(fmt.Sprintf("fake-secret-%02d-not-real", i)), Digits: 6, Period: 30})
	}
	return out
}

// The Google Authenticator QR codes on screen decode, page by page, to
// migration payloads holding every account that fits the format; the
// others are listed.
func TestExportGoogleQRCodesDecode(t *testing.T) {
	accts := append(sampleAccounts(), fakeTOTPAccounts(14)...)
	accts = append(accts, acct(vault.TOTP, "Seven", "digits", helloSecret, 7, 30))
	m, v, _ := readyModel(t, 200, 90, newClock(t0), accts...)
	m = press(t, m, "E", "g")
	intro := m.text()
	for _, want := range []string{"UNENCRYPTED", "Left out (3)", "AWS (root)", "Steam (gamer)", "Seven (digits)", "17 of the 20 accounts"} {
		if !strings.Contains(intro, want) {
			t.Errorf("the warning page does not say %q:\n%s", want, intro)
		}
	}
	m = press(t, m, "enter")
	q, ok := m.overlay.(*googleQRScreen)
	if !ok {
		t.Fatalf("no QR code after enter:\n%s", m.text())
	}
	if len(q.pages) < 2 {
		t.Fatalf("%d QR codes for 17 accounts, want several", len(q.pages))
	}
	// esc hides the codes at once (on a copy of the model).
	if closed := press(t, m, "esc"); closed.overlay != nil || strings.ContainsAny(closed.text(), "▀▄") {
		t.Fatalf("esc did not hide the QR code:\n%s", closed.text())
	}
	var links []string
	for i := range q.pages {
		view := m.text()
		if !strings.Contains(view, fmt.Sprintf("QR code %d of %d holds secrets UNENCRYPTED", i+1, len(q.pages))) {
			t.Fatalf("page %d: no warning:\n%s", i+1, view)
		}
		texts, err := qrcode.Decode(bytes.NewReader(artToPNG(t, q.pages[q.page].art)))
		if err != nil {
			t.Fatalf("QR code %d does not decode: %v", i+1, err)
		}
		if !strings.HasPrefix(texts[0], "otpauth-migration://") {
			t.Fatalf("QR code %d holds %.30q…, not a migration link", i+1, texts[0])
		}
		links = append(links, texts[0])
		m = press(t, m, "n")
	}
	if m.overlay != nil || !strings.Contains(m.text(), fmt.Sprintf("showed 17 accounts in %d QR codes", len(q.pages))) {
		t.Fatalf("the last n did not close the QR codes:\n%s", m.text())
	}
	res, err := transfer.Import(transfer.ImportOptions{}, transfer.Input{Name: "screen", Data: []byte(strings.Join(links, "\n"))})
	if err != nil {
		t.Fatal(err)
	}
	var want []vault.Account
	for _, a := range v.Data().Accounts {
		if a.Issuer != "AWS" && a.Issuer != "Steam" && a.Issuer != "Seven" {
			want = append(want, a)
		}
	}
	requireSameAccounts(t, res.Accounts, want)
}

// In a real program, esc takes the QR code off the screen at once.
func TestFlowExportGoogleEscHides(t *testing.T) {
	o, _, _ := testOptions(t, newClock(t0), sampleAccounts()...)
	tm := startUI(t, o, 120, 60)
	waitFor(t, tm, "5 accounts")
	tm.Send(keyMsg("E"))
	waitFor(t, tm, "Google Authenticator QR codes")
	tm.Send(keyMsg("g"))
	waitFor(t, tm, "Left out (2)")
	tm.Send(keyMsg("enter"))
	waitFor(t, tm, "QR code 1 of 1 holds secrets UNENCRYPTED", "▀")
	tm.Send(keyMsg("esc"))
	waitFor(t, tm, "5 accounts", "GitHub")
	if view := currentView(t, tm); strings.ContainsAny(view, "▀▄") || strings.Contains(view, "QR code 1") {
		t.Fatalf("the QR code is still on screen after esc:\n%s", view)
	}
}

// The export screens' golden files hold no secret and no passphrase.
func TestExportGoldensHaveNoSecrets(t *testing.T) {
	names, err := filepath.Glob(filepath.Join("testdata", "TestGolden", "export_*.golden"))
	if err != nil || len(names) < 5 {
		t.Fatalf("export golden files: %v %v (run go test -run TestGolden -update first)", names, err)
	}
	for _, name := range names {
		b, err := os.ReadFile(name)
		if err != nil {
			t.Fatal(err)
		}
		for _, a := range sampleAccounts() {
			if strings.Contains(string(b), a.Secret.Base32()) {
				t.Errorf("%s contains the secret of %s", name, a.Label())
			}
		}
		if strings.Contains(string(b), fakePass[:8]) || strings.Contains(string(b), "otpauth-migration:") || strings.Contains(string(b), "secret=") {
			t.Errorf("%s contains a passphrase or a link", name)
		}
	}
}
