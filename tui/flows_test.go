package tui

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha1"
	"encoding/binary"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/sesame-auth/sesame/vault"
	"github.com/sesame-auth/sesame/vault/qrcode"
	"github.com/sesame-auth/sesame/vault/transfer"
	"github.com/sesame-auth/sesame/vault/vaulttest"
)

// steamCode is an independent Steam Guard implementation.
func steamCode(secret []byte, t time.Time) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], uint64(t.Unix()/30))
	mac := hmac.New(sha1.New, secret)
	mac.Write(msg[:])
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	v := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	const alphabet = "23456789BCDFGHJKMNPQRTVWXY"
	var b strings.Builder
	for range 5 {
		b.WriteByte(alphabet[v%uint32(len(alphabet))])
		v /= uint32(len(alphabet))
	}
	return b.String()
}

func startUI(t *testing.T, o Options, w, h int) *teatest.TestModel {
	t.Helper()
	tm := teatest.NewTestModel(t, probe{New(o)}, teatest.WithInitialTermSize(w, h))
	t.Cleanup(func() { _ = tm.Quit() })
	return tm
}

func finalView(t *testing.T, tm *teatest.TestModel) (Model, string) {
	t.Helper()
	if err := tm.Quit(); err != nil {
		t.Fatal(err)
	}
	m := tm.FinalModel(t, teatest.WithFinalTimeout(5*time.Second)).(probe).Model
	return m, m.text()
}

// The code on screen comes from the tick's clock, and changes as soon as
// the period turns over: no stale code after the boundary.
func TestFlowCodesAcrossBoundary(t *testing.T) {
	boundary := t0.Add(20 * time.Second)
	clock := newClock(boundary.Add(-2 * time.Second))
	o, _, _ := testOptions(t, clock, sampleAccounts()[:2]...)
	tm := startUI(t, o, 80, 24)

	gh := mustSecret(helloSecret)
	before := totp(gh, boundary.Add(-time.Second), 6, 30, "SHA1")
	after := totp(gh, boundary, 6, 30, "SHA1")
	if before == after {
		t.Fatal("test vector: the code does not change at the boundary")
	}
	// In the last seconds the next code is shown beside the current one.
	waitFor(t, tm, group(before), "→ "+group(after))

	clock.set(boundary)
	waitFor(t, tm, " 30s") // the next tick has the new time
	m, view := finalView(t, tm)
	if !strings.Contains(view, group(after)) || strings.Contains(view, group(before)) {
		t.Fatalf("after the boundary the screen shows:\n%s\nwant %s and not %s", view, group(after), group(before))
	}
	if !m.c.now.Equal(boundary) {
		t.Errorf("model time = %v, want the tick's clock %v", m.c.now, boundary)
	}
	google := totp(mustSecret(rfcSecret), boundary, 6, 30, "SHA1")
	if !strings.Contains(view, group(google)) {
		t.Errorf("Google code %s missing from\n%s", google, view)
	}
}

func TestRowCodesMatchIndependentTOTP(t *testing.T) {
	accts := sampleAccounts()
	accts = append(accts, acct(vault.TOTP, "Sha256", "x", rfcSecret, 8, 30), acct(vault.TOTP, "Sha512", "y", rfcSecret, 7, 45))
	accts[5].Algorithm, accts[6].Algorithm = vault.SHA256, vault.SHA512
	for i := range accts {
		accts[i].Normalize()
	}
	rows := newRows(accts)
	for step := range 100 {
		now := t0.Add(time.Duration(step*7) * time.Second)
		for i := range rows {
			r := &rows[i]
			r.refresh(now)
			a := r.acct
			if a.Type == vault.HOTP {
				continue
			}
			a.Normalize()
			want := totp(a.Secret, now, a.Digits, a.Period, string(a.Algorithm))
			if a.Type == vault.Steam {
				want = steamCode(a.Secret, now)
			}
			if ungroup(r.code) != want {
				t.Fatalf("%s at %v: row shows %s, want %s", a.Label(), now.Unix(), r.code, want)
			}
			if ungroup(r.next) != nextOf(a, now) {
				t.Fatalf("%s at %v: next %s, want %s", a.Label(), now.Unix(), r.next, nextOf(a, now))
			}
		}
	}
}

func nextOf(a vault.Account, now time.Time) string {
	t := now.Add(time.Duration(a.Period) * time.Second)
	if a.Type == vault.Steam {
		return steamCode(a.Secret, t)
	}
	return totp(a.Secret, t, a.Digits, a.Period, string(a.Algorithm))
}

func TestFlowCopyAndClear(t *testing.T) {
	clock := newClock(t0)
	o, _, clip := testOptions(t, clock, sampleAccounts()...)
	o.ClearAfter = 100 * time.Millisecond
	tm := startUI(t, o, 80, 24)
	want := totp(mustSecret(helloSecret), t0, 6, 30, "SHA1")
	waitFor(t, tm, group(want))
	tm.Send(keyMsg("enter"))
	waitFor(t, tm, "copied GitHub code to fakeclip")
	if _, copies := clip.get(); len(copies) != 1 || copies[0] != want {
		t.Fatalf("copied %q, want [%s]", copies, want)
	}
	waitFor(t, tm, "clipboard cleared")
	if got, _ := clip.get(); got != "" {
		t.Fatalf("clipboard still holds %q", got)
	}
}

// A copy in the last 2 seconds takes the next code, and says so.
func TestCopyNearExpiryTakesNextCode(t *testing.T) {
	clock := newClock(t0.Add(18 * time.Second)) // 2 s left
	m, _, clip := readyModel(t, 80, 24, clock, sampleAccounts()...)
	m = press(t, m, "c")
	next := totp(mustSecret(helloSecret), t0.Add(20*time.Second), 6, 30, "SHA1")
	if got, _ := clip.get(); got != next {
		t.Fatalf("copied %q, want the next code %s", got, next)
	}
	if !strings.Contains(m.text(), "NEXT GitHub code") {
		t.Errorf("the toast does not say the next code was copied:\n%s", m.text())
	}
	// With 3 s left the current code is still copied.
	clock.set(t0.Add(17 * time.Second))
	m2, _, clip2 := readyModel(t, 80, 24, clock, sampleAccounts()...)
	press(t, m2, "c")
	if got, _ := clip2.get(); got != totp(mustSecret(helloSecret), t0, 6, 30, "SHA1") {
		t.Fatalf("with 3 s left copied %q, want the current code", got)
	}
}

// The clipboard is cleared only if it still holds the code Sesame put there.
func TestClearOnlyOwnCode(t *testing.T) {
	m, _, clip := readyModel(t, 80, 24, newClock(t0), sampleAccounts()...)
	m = press(t, m, "c")
	code, _ := clip.get()
	clip.Copy(t.Context(), "the user's own text")
	next, cmd := m.Update(clearDueMsg{seq: m.copySeq, text: code})
	drain(t, next.(Model), cmd, 2)
	if got, _ := clip.get(); got != "the user's own text" {
		t.Fatalf("clipboard = %q: Sesame cleared text it did not put there", got)
	}
	// A timer from an older copy does nothing once a newer code was copied.
	clip.Copy(t.Context(), code)
	next, cmd = m.Update(clearDueMsg{seq: m.copySeq - 1, text: code})
	if cmd != nil {
		t.Fatal("a stale clear timer started a clear")
	}
	_ = next
}

func TestFlowFilter(t *testing.T) {
	clock := newClock(t0)
	o, _, clip := testOptions(t, clock, sampleAccounts()...)
	tm := startUI(t, o, 80, 24)
	waitFor(t, tm, "Steam")
	tm.Type("/stm") // fuzzy: s-t-m in "steam gamer"
	waitFor(t, tm, "/ stm")
	tm.Send(keyMsg("enter")) // copies the best match
	want := steamCode(mustSecret("ONSWG4TFOQ"), t0)
	waitFor(t, tm, "copied Steam code")
	if got, _ := clip.get(); got != want {
		t.Fatalf("copied %q, want the Steam code %s", got, want)
	}
	_, view := finalView(t, tm)
	if strings.Contains(view, "GitHub") || !strings.Contains(view, "filter: stm") {
		t.Errorf("the filter is not kept after enter:\n%s", view)
	}
}

func TestFuzzyScore(t *testing.T) {
	rows := newRows(sampleAccounts())
	names := func(q string) []string {
		var out []string
		for _, i := range filterRows(rows, q) {
			out = append(out, rows[i].acct.Issuer)
		}
		return out
	}
	tests := map[string]string{
		"":      "GitHub Google AWS Bank Steam",
		"go":    "Google GitHub",
		"gh":    "GitHub",
		"ALICE": "GitHub Google",
		"card":  "Bank",
		"zz":    "",
		"root":  "AWS",
	}
	for q, want := range tests {
		if got := strings.Join(names(q), " "); got != want {
			t.Errorf("filter %q = %q, want %q", q, got, want)
		}
	}
}

func TestFlowAddLink(t *testing.T) {
	clock := newClock(t0)
	o, v, _ := testOptions(t, clock, sampleAccounts()[:1]...)
	tm := startUI(t, o, 80, 24)
	waitFor(t, tm, "GitHub")
	tm.Send(keyMsg("a"))
	waitFor(t, tm, "Paste an otpauth:// link")

	// A bad link: the error names the field, and the link stays.
	bad := "otpauth://totp/Demo:me?secret=NOT-BASE32-1"
	tm.Send(tea.PasteMsg{Content: bad})
	waitFor(t, tm, "secret is not valid base32")
	tm.Send(keyMsg("enter"))
	for range len("NOT-BASE32-1") {
		tm.Send(keyMsg("backspace"))
	}
	tm.Type(rfcSecret + "&digits=8&algorithm=SHA256")
	waitFor(t, tm, "Demo (me) · TOTP · SHA256 · 8 digits")
	tm.Send(keyMsg("enter"))
	want := totp(mustSecret(rfcSecret), t0, 8, 30, "SHA256")
	waitFor(t, tm, "added Demo (me)", group(want))

	other, err := vault.Open(o.VaultOptions)
	if err != nil {
		t.Fatal(err)
	}
	d := other.Data()
	a, err := d.Find("Demo")
	if err != nil {
		t.Fatalf("the new account is not in the vault file: %v", err)
	}
	if a.Algorithm != vault.SHA256 || a.Digits != 8 || a.Secret.Base32() != rfcSecret {
		t.Errorf("saved %+v", a)
	}
	_ = v
}

func TestAddLinkDuplicateKeepsInput(t *testing.T) {
	m, _, _ := readyModel(t, 80, 24, newClock(t0), sampleAccounts()...)
	link := "otpauth://totp/GitHub:alice@example.com?secret=" + helloSecret + "&issuer=GitHub"
	m = press(t, m, "a", "l")
	m = paste(t, m, link)
	m = press(t, m, "enter")
	view := m.text()
	if !strings.Contains(view, "already has this account") {
		t.Fatalf("no duplicate error:\n%s", view)
	}
	if s, ok := m.overlay.(*addScreen); !ok || s.link.Value() != link {
		t.Fatalf("the typed link was lost after the error")
	}
}

func TestAddManual(t *testing.T) {
	m, v, _ := readyModel(t, 80, 24, newClock(t0))
	m = press(t, m, "a", "m")
	// Submitting with no secret names the secret field.
	m = press(t, m, "enter")
	if !strings.Contains(m.text(), "Secret is empty") {
		t.Fatalf("no inline error for the missing secret:\n%s", m.text())
	}
	form := &m.overlay.(*addScreen).manual
	if form.fields[form.focus].name != "secret" {
		t.Fatalf("focus on %q, want the secret field", form.fields[form.focus].name)
	}
	m = press(t, m, "shift+tab", "shift+tab")
	for _, r := range "Acme" {
		m = press(t, m, string(r))
	}
	m = press(t, m, "tab")
	for _, r := range "ops" {
		m = press(t, m, string(r))
	}
	m = press(t, m, "tab")
	for _, r := range strings.ToLower(rfcSecret[:16]) + " " + rfcSecret[16:] {
		m = press(t, m, string(r))
	}
	if strings.Contains(m.text(), rfcSecret[:16]) {
		t.Fatal("the secret is echoed in clear")
	}
	m = press(t, m, "tab", "tab", "right", "tab", "right", "right", "tab") // SHA256, 8 digits
	for range 2 {
		m = press(t, m, "backspace")
	}
	m = press(t, m, "0")
	if !strings.Contains(m.text(), "Period must be a whole number of seconds from 1") {
		t.Fatalf("no inline error for period 0:\n%s", m.text())
	}
	m = press(t, m, "backspace", "6", "0", "enter")
	d := v.Data()
	a, err := d.Find("Acme")
	if err != nil {
		t.Fatalf("not saved: %v\n%s", err, m.text())
	}
	if a.Name != "ops" || a.Algorithm != vault.SHA256 || a.Digits != 8 || a.Period != 60 || a.Secret.Base32() != rfcSecret {
		t.Errorf("saved %s %s %d %d", a.Name, a.Algorithm, a.Digits, a.Period)
	}
}

func TestFlowDeleteUndo(t *testing.T) {
	clock := newClock(t0)
	o, _, _ := testOptions(t, clock, sampleAccounts()...)
	tm := startUI(t, o, 80, 24)
	waitFor(t, tm, "Google")
	tm.Send(keyMsg("j"))
	tm.Send(keyMsg("d"))
	waitFor(t, tm, "Delete Google (alice@gmail.com)?")
	tm.Send(keyMsg("enter")) // Keep is the default
	waitFor(t, tm, "5 accounts")
	if v := currentView(t, tm); strings.Contains(v, "Delete Google") {
		t.Fatalf("the dialog stayed open:\n%s", v)
	}
	tm.Send(keyMsg("d"))
	waitFor(t, tm, "Delete Google")
	tm.Send(keyMsg("y"))
	waitFor(t, tm, "deleted Google", "4 accounts")
	disk := func() []string {
		v, err := vault.Open(o.VaultOptions)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, a := range v.Data().Accounts {
			out = append(out, a.Issuer)
		}
		return out
	}
	if got := strings.Join(disk(), " "); got != "GitHub AWS Bank Steam" {
		t.Fatalf("after delete the vault holds %s", got)
	}
	tm.Send(keyMsg("u"))
	waitFor(t, tm, "restored Google", "5 accounts")
	if got := strings.Join(disk(), " "); got != "GitHub Google AWS Bank Steam" {
		t.Fatalf("after undo the vault holds %s (want Google back in its place)", got)
	}
}

// The status line's "5 accounts" must not come from before the keep: check
// that Keep really kept it.
func TestDeleteDefaultIsKeep(t *testing.T) {
	m, v, _ := readyModel(t, 80, 24, newClock(t0), sampleAccounts()...)
	m = press(t, m, "d", "enter")
	if n := len(v.Data().Accounts); n != 5 {
		t.Fatalf("enter on the delete dialog deleted: %d accounts left", n)
	}
	m = press(t, m, "d", "esc")
	if m.overlay != nil || len(v.Data().Accounts) != 5 {
		t.Fatal("esc did not just close the dialog")
	}
}

func TestFlowQR(t *testing.T) {
	clock := newClock(t0)
	o, _, _ := testOptions(t, clock, sampleAccounts()...)
	tm := startUI(t, o, 80, 24)
	waitFor(t, tm, "GitHub")
	tm.Send(keyMsg("x"))
	waitFor(t, tm, "Anyone who sees this QR code can copy GitHub")
	if v := currentView(t, tm); !strings.HasPrefix(v, " Sesame") {
		t.Errorf("the QR screen has room for the title bar but no title:\n%s", v)
	}
	tm.Send(keyMsg("esc"))
	waitFor(t, tm, "5 accounts")
	m, view := finalView(t, tm)
	if m.overlay != nil || strings.Contains(view, "Anyone who sees this QR code") {
		t.Fatalf("esc did not hide the QR code:\n%s", view)
	}
}

// The QR code on screen decodes (with the vault's own decoder) to the account.
func TestQRDecodes(t *testing.T) {
	m, _, _ := readyModel(t, 80, 24, newClock(t0), sampleAccounts()...)
	for _, down := range []int{0, 2} { // GitHub (SHA1, 6) and AWS (8 digits, 60 s)
		mm := m
		for range down {
			mm = press(t, mm, "j")
		}
		mm = press(t, mm, "x")
		q := mm.overlay.(*qrScreen)
		texts, err := qrcode.Decode(bytes.NewReader(artToPNG(t, q.art)))
		if err != nil {
			t.Fatalf("%s: the QR code does not decode: %v", q.acct.Label(), err)
		}
		got, err := vault.ParseURI(texts[0])
		if err != nil {
			t.Fatal(err)
		}
		if !got.SameAs(&q.acct) || got.Digits != q.acct.Digits || got.Period != q.acct.Period || got.Algorithm != q.acct.Algorithm {
			t.Errorf("QR holds %s, want %s", texts[0], q.acct.URI())
		}
		mm = press(t, mm, "esc")
		if mm.overlay != nil {
			t.Fatal("esc did not close the QR view")
		}
	}
}

// artToPNG turns half-block QR art back into pixels: a drawn half is light.
// Around it is a wide white margin.
func artToPNG(t *testing.T, art string) []byte { t.Helper(); return artToPNGOn(t, art, 255) }

// artToPNGOn is artToPNG on a background of the given grey: 0 is a dark
// terminal, where the art's own quiet zone is all the light border there is.
func artToPNGOn(t *testing.T, art string, background uint8) []byte {
	t.Helper()
	lines := strings.Split(art, "\n")
	const px, margin = 4, 16
	w := 0
	for _, l := range lines {
		w = max(w, len([]rune(l)))
	}
	img := image.NewGray(image.Rect(0, 0, w*px+2*margin, len(lines)*2*px+2*margin))
	for i := range img.Pix {
		img.Pix[i] = background
	}
	set := func(x, y int, light bool) {
		c := color.Gray{0}
		if light {
			c.Y = 255
		}
		for dy := range px {
			for dx := range px {
				img.SetGray(margin+x*px+dx, margin+y*px+dy, c)
			}
		}
	}
	for row, l := range lines {
		for col, r := range []rune(l) {
			top, bottom := false, false
			switch r {
			case '█':
				top, bottom = true, true
			case '▀':
				top = true
			case '▄':
				bottom = true
			}
			set(col, 2*row, top)
			set(col, 2*row+1, bottom)
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// A vault changed by another process shows up, and a change made in the UI
// on top of it keeps both.
func TestFlowVaultChangedBehindTheUI(t *testing.T) {
	clock := newClock(t0)
	o, _, _ := testOptions(t, clock, sampleAccounts()[:2]...)
	tm := startUI(t, o, 80, 24)
	waitFor(t, tm, "2 accounts")

	other, err := vault.Open(o.VaultOptions) // like `sesame add` in another terminal
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Update(func(d *vault.Data) error {
		_, err := d.Add(acct(vault.TOTP, "Outside", "cli", "MFRGGZDFMZTWQ2LK", 6, 30), t0)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	waitFor(t, tm, "Outside", "3 accounts", "the vault changed on disk")

	// Pin GitHub from the UI, then check the file has both changes.
	tm.Send(keyMsg("p"))
	waitFor(t, tm, "pinned GitHub")
	d, _, err := other.Reload()
	if err != nil {
		t.Fatal(err)
	}
	gh, err := d.Find("GitHub")
	if err != nil || !gh.Pinned {
		t.Fatalf("the pin was lost: %v %+v", err, gh)
	}
	if _, err := d.Find("Outside"); err != nil {
		t.Fatalf("the other process's account was lost: %v", err)
	}
}

func TestHOTPEnterAdvancesCounter(t *testing.T) {
	m, v, clip := readyModel(t, 80, 24, newClock(t0), sampleAccounts()...)
	bank := func() *vault.Account {
		d := v.Data()
		a, err := d.Find("Bank")
		if err != nil {
			t.Fatal(err)
		}
		return a
	}
	secret := bank().Secret
	if strings.Contains(m.text(), group(hotpCode(secret, 3, 6, sha1.New))) {
		t.Fatal("the HOTP code is shown before it was asked for")
	}
	m = press(t, m, "G", "k", "enter")
	want := hotpCode(secret, 3, 6, sha1.New)
	if got, _ := clip.get(); got != want || !strings.Contains(m.text(), group(want)) {
		t.Fatalf("copied %q, want %s; view:\n%s", got, want, m.text())
	}
	if c := bank().Counter; c != 4 {
		t.Fatalf("counter = %d after one code, want 4", c)
	}
	m = press(t, m, "c") // c re-copies the shown code, without advancing
	if c := bank().Counter; c != 4 {
		t.Fatalf("c advanced the counter to %d", c)
	}
	press(t, m, "enter")
	if got, _ := clip.get(); got != hotpCode(secret, 4, 6, sha1.New) || bank().Counter != 5 {
		t.Fatalf("second enter copied %q with counter %d", got, bank().Counter)
	}
}

func TestPassphraseScreen(t *testing.T) {
	clock := newClock(t0)
	v := vaulttest.NewPassphrase(t, sampleAccounts()[:1]...)
	o := Options{VaultOptions: vault.Options{Dir: v.Dir(), Keyring: vaulttest.NewKeyring(), ScryptWorkFactor: 10},
		Clock: clock.now, Clipboard: &fakeClipboard{}, Getenv: testEnv, Theme: "dark", ReloadEvery: time.Second}
	tm := startUI(t, o, 80, 24)
	waitFor(t, tm, "protected by a passphrase")
	tm.Type("wrong horse")
	tm.Send(keyMsg("enter"))
	waitFor(t, tm, "wrong passphrase: try again")
	tm.Type(vaulttest.Passphrase)
	tm.Send(keyMsg("enter"))
	waitFor(t, tm, "passphrase vault", "1 account")
}

func TestFirstRunCreatesVault(t *testing.T) {
	for _, tc := range []struct {
		name    string
		keyring vault.Keyring
		store   vault.StoreKind
	}{
		{"keyring", vaulttest.NewKeyring(), vault.StoreKeyring},
		{"no keyring", &vaulttest.Keyring{Err: vaulttest.ErrNoKeyring}, vault.StorePassphrase},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := Options{VaultOptions: vault.Options{Dir: t.TempDir(), Keyring: tc.keyring, ScryptWorkFactor: 10},
				Clock: newClock(t0).now, Clipboard: &fakeClipboard{}, Getenv: testEnv, Theme: "dark"}
			m := New(o)
			next, _ := m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
			next, _ = next.Update(openedMsg{err: vault.ErrNoVault})
			m = press(t, next.(Model), "a", "l")
			m = paste(t, m, "otpauth://totp/First:me?secret="+helloSecret)
			m = press(t, m, "enter")
			if tc.store == vault.StorePassphrase {
				if !strings.Contains(m.text(), "no working OS keyring") {
					t.Fatalf("no passphrase step:\n%s", m.text())
				}
				for _, r := range "long enough" {
					m = press(t, m, string(r))
				}
				m = press(t, m, "tab")
				for _, r := range "long enougX" {
					m = press(t, m, string(r))
				}
				m = press(t, m, "enter")
				if !strings.Contains(m.text(), "does not match") {
					t.Fatalf("mismatch not reported:\n%s", m.text())
				}
				for _, r := range "long enough" {
					m = press(t, m, string(r))
				}
				m = press(t, m, "enter")
			}
			if m.v == nil || m.v.Store() != tc.store {
				t.Fatalf("vault not created with %s:\n%s", tc.store, m.text())
			}
			vo := o.VaultOptions
			vo.Passphrase = []byte("long enough")
			v, err := vault.Open(vo)
			if err != nil {
				t.Fatal(err)
			}
			d := v.Data()
			if _, err := d.Find("First"); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(m.text(), "1 account") {
				t.Errorf("view:\n%s", m.text())
			}
		})
	}
}

func TestStaleTickIgnored(t *testing.T) {
	m, _, _ := readyModel(t, 80, 24, newClock(t0), sampleAccounts()...)
	next, cmd := m.Update(tickMsg{id: m.tickID + 1, t: t0.Add(time.Hour)})
	if cmd != nil || !next.(Model).c.now.Equal(t0) {
		t.Fatal("a tick from a stale loop was obeyed")
	}
}

// A QR image read through the add screen's file field, with tab completion.
func TestAddFromQRImage(t *testing.T) {
	dir := t.TempDir()
	png, err := qrcode.EncodePNG("otpauth://totp/Imaged:me?secret="+rfcSecret+"&issuer=Imaged", 256)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "screenshot-qr.png"), png, 0o600); err != nil {
		t.Fatal(err)
	}
	m, v, _ := readyModel(t, 80, 24, newClock(t0), sampleAccounts()[:1]...)
	m = press(t, m, "a", "f")
	for _, r := range dir + "/scr" {
		m = press(t, m, string(r))
	}
	m = press(t, m, "tab")
	if s := m.overlay.(*addScreen); s.path.Value() != filepath.Join(dir, "screenshot-qr.png") {
		t.Fatalf("tab completed to %q", s.path.Value())
	}
	m = press(t, m, "enter")
	d := v.Data()
	if _, err := d.Find("Imaged"); err != nil {
		t.Fatalf("the account in the QR image was not added: %v\n%s", err, m.text())
	}
	if !strings.Contains(m.text(), "added Imaged (me)") {
		t.Errorf("view:\n%s", m.text())
	}

	// A file that is not an image or export: the error shows, the path stays.
	bad := filepath.Join(dir, "notes.txt")
	os.WriteFile(bad, []byte("hello"), 0o600)
	m = press(t, m, "a", "f")
	for _, r := range bad {
		m = press(t, m, string(r))
	}
	m = press(t, m, "enter")
	s := m.overlay.(*addScreen)
	if s.path.err == "" || s.path.Value() != bad {
		t.Fatalf("bad file: error %q, path %q", s.path.err, s.path.Value())
	}
}

// A copied code whose clear is still pending when the UI quits is handed to
// ClearLater; once its timer has fired there is nothing to hand over.
func TestPendingClearHandedOverOnQuit(t *testing.T) {
	m, _, clip := readyModel(t, 80, 24, newClock(t0), sampleAccounts()...)
	m = press(t, m, "c")
	code, _ := clip.get()
	if p := m.pendingClear; p.text != code || !p.due.Equal(t0.Add(m.o.ClearAfter)) {
		t.Fatalf("pending clear = %+v, want %s due %s", p, code, t0.Add(m.o.ClearAfter))
	}
	next, _ := m.Update(clearDueMsg{seq: m.copySeq, text: code})
	if p := next.(Model).pendingClear; p.text != "" {
		t.Fatalf("pending clear after the timer fired: %+v", p)
	}
}

// A notice (the demo's page address) stays on screen above the status line,
// and the screen keeps its height.
func TestNoticeLine(t *testing.T) {
	o, v, _ := testOptions(t, newClock(t0), sampleAccounts()...)
	o.Notice = "demo: open http://127.0.0.1:1/demo"
	next, _ := New(o).Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	next, _ = next.Update(openedMsg{v: v})
	view := next.(Model).text()
	lines := strings.Split(view, "\n")
	if len(lines) != 24 {
		t.Fatalf("the view has %d lines, want 24", len(lines))
	}
	if !strings.Contains(lines[len(lines)-3], o.Notice) {
		t.Fatalf("the notice is not above the status line:\n%s", view)
	}
}

// A passphrase changed by another Sesame sends the UI back to the unlock
// screen with a word on why; a folder holding only the backup gets a
// problem screen instead of the first-run screen (creating would overwrite it).
func TestPassphraseChangedAndBackupOnly(t *testing.T) {
	m, _, _ := readyModel(t, 80, 24, newClock(t0), sampleAccounts()...)
	next, _ := m.Update(reloadMsg{err: fmt.Errorf("re-read: %w", vault.ErrPassphraseChanged)})
	got := next.(Model)
	if _, ok := got.base.(*unlockScreen); !ok || got.v != nil {
		t.Fatalf("after ErrPassphraseChanged: base %T, vault %v", got.base, got.v)
	}
	if !strings.Contains(got.text(), "changed by another Sesame") {
		t.Fatalf("the unlock screen does not say why:\n%s", got.text())
	}

	o, v, _ := testOptions(t, newClock(t0), sampleAccounts()...)
	if err := os.Remove(v.Path()); err != nil { // what is left is vault.sesame.bak
		t.Fatal(err)
	}
	_, err := vault.Open(o.VaultOptions)
	if !errors.Is(err, vault.ErrBackupOnly) {
		t.Fatalf("open a folder with only the backup: %v", err)
	}
	m2, _ := New(o).Update(tea.WindowSizeMsg{Width: 120, Height: 24})
	m2, _ = m2.Update(openedMsg{err: err})
	if view := m2.(Model).text(); strings.Contains(view, "Welcome to Sesame") || !strings.Contains(view, "vault.sesame.bak") {
		t.Fatalf("backup-only folder:\n%s", view)
	}
}

// typeText presses each rune of text as its own key.
func typeText(t testing.TB, m Model, text string) Model {
	t.Helper()
	for _, r := range text {
		m = press(t, m, string(r))
	}
	return m
}

// An error from a submit is judged again on the next one: giving the
// missing issuer after "Account is empty" adds the account, and leaving the
// form and coming back does not bring back an error that no longer holds.
func TestAddManualErrorsAreNeverStale(t *testing.T) {
	m, v, _ := readyModel(t, 80, 24, newClock(t0))
	m = press(t, m, "a", "m", "tab", "tab")
	m = typeText(t, m, helloSecret)
	m = press(t, m, "enter")
	if !strings.Contains(m.text(), "Account is empty (give an issuer or a name)") {
		t.Fatalf("no error for an account with neither issuer nor name:\n%s", m.text())
	}
	// Leave and come back: the form keeps what was typed.
	m = press(t, m, "esc", "m")
	m = press(t, m, "shift+tab") // the error put the focus on the name
	if f := m.overlay.(*addScreen).manual; f.fields[f.focus].name != "issuer" {
		t.Fatalf("focus on %q, want issuer", f.fields[f.focus].name)
	}
	m = typeText(t, m, "Acme")
	if strings.Contains(m.text(), "is empty") {
		t.Errorf("the error stays after the issuer was typed:\n%s", m.text())
	}
	m = press(t, m, "enter")
	d := v.Data()
	if _, err := d.Find("Acme"); err != nil {
		t.Fatalf("the account was not added once it had an issuer: %v\n%s", err, m.text())
	}
	if m.overlay != nil {
		t.Fatalf("the form stayed open:\n%s", m.text())
	}

	// A submit error on one field clears when another field changes, and
	// a check error is recomputed from the current value.
	m = press(t, m, "a", "m")
	m = typeText(t, m, "Beta")
	m = press(t, m, "enter") // no secret
	if !strings.Contains(m.text(), "Secret is empty") {
		t.Fatalf("no error for the missing secret:\n%s", m.text())
	}
	m = typeText(t, m, helloSecret+"!")
	if !strings.Contains(m.text(), "Secret is not valid base32") {
		t.Fatalf("no live error for a bad secret:\n%s", m.text())
	}
	m = press(t, m, "backspace", "enter")
	d = v.Data()
	if _, err := d.Find("Beta"); err != nil {
		t.Fatalf("not added after fixing the secret: %v\n%s", err, m.text())
	}
}

// renameOutside renames the account called issuer from another process,
// like `sesame rename` in another terminal, and returns the vault as it
// left it.
func renameOutside(t *testing.T, o vault.Options, issuer, newIssuer, newName string) vault.Data {
	t.Helper()
	other, err := vault.Open(o)
	if err != nil {
		t.Fatal(err)
	}
	d, err := other.Update(func(d *vault.Data) error {
		a, err := d.Find(issuer)
		if err != nil {
			return err
		}
		if newIssuer != "" {
			a.Issuer = newIssuer
		}
		if newName != "" {
			a.Name = newName
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func onDisk(t *testing.T, o vault.Options, id string) vault.Account {
	t.Helper()
	v, err := vault.Open(o)
	if err != nil {
		t.Fatal(err)
	}
	d := v.Data()
	a, err := d.Account(id)
	if err != nil {
		t.Fatal(err)
	}
	return *a
}

// Editing an account that another process renamed meanwhile never undoes
// that rename: the save writes only the fields the user changed.
func TestEditKeepsRenameFromAnotherWindow(t *testing.T) {
	o, v, _ := testOptions(t, newClock(t0), sampleAccounts()[:2]...)
	m := New(o)
	next, _ := m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	next, _ = next.Update(openedMsg{v: v})
	m = next.(Model)
	id := m.list.selectedID()

	m = press(t, m, "e") // the form opens with GitHub / alice@example.com
	renameOutside(t, o.VaultOptions, "GitHub", "GitHub Enterprise", "")
	// The reload has not arrived: the user changes only the account name.
	m = press(t, m, "tab")
	for range len("alice@example.com") {
		m = press(t, m, "backspace")
	}
	m = typeText(t, m, "bob")
	m = press(t, m, "enter")
	got := onDisk(t, o.VaultOptions, id)
	if got.Issuer != "GitHub Enterprise" || got.Name != "bob" {
		t.Fatalf("after the edit the vault holds %q / %q, want the other window's issuer and the new name", got.Issuer, got.Name)
	}
	if m.overlay != nil || !strings.Contains(m.text(), "renamed in another window") {
		t.Errorf("the save does not say the account had changed:\n%s", m.text())
	}
}

// When the reload arrives while the form is open, untouched fields take
// the new values, an edited field keeps the user's text, and a note says so.
func TestEditFormFollowsReload(t *testing.T) {
	o, v, _ := testOptions(t, newClock(t0), sampleAccounts()[:2]...)
	m := New(o)
	next, _ := m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	next, _ = next.Update(openedMsg{v: v})
	m = next.(Model)
	id := m.list.selectedID()

	m = press(t, m, "e")
	d := renameOutside(t, o.VaultOptions, "GitHub", "", "carol@example.com")
	next, _ = m.Update(reloadMsg{data: d, changed: true})
	m = next.(Model)
	e := m.overlay.(*editScreen)
	if got := e.form.fields[1].input.Value(); got != "carol@example.com" {
		t.Fatalf("the untouched name field shows %q after the reload, want the new name", got)
	}
	if view := m.text(); !strings.Contains(view, "was changed in another window") || !strings.Contains(view, "carol@example.com") {
		t.Fatalf("no note about the change:\n%s", view)
	}

	// Now the user edits the issuer while the other window renames it too.
	m = press(t, m, "backspace", "backspace")
	d = renameOutside(t, o.VaultOptions, "GitHub", "Octo", "")
	next, _ = m.Update(reloadMsg{data: d, changed: true})
	m = next.(Model)
	if got := e.form.fields[0].input.Value(); got != "GitH" {
		t.Fatalf("the edited issuer became %q after the reload; the user's text was lost", got)
	}
	if !strings.Contains(e.note, "Saving replaces its issuer with yours; esc keeps theirs") || !strings.Contains(m.text(), "Saving replaces") {
		t.Fatalf("the note does not say what saving does:\n%s", m.text())
	}
	m = press(t, m, "enter")
	got := onDisk(t, o.VaultOptions, id)
	if got.Issuer != "GitH" || got.Name != "carol@example.com" {
		t.Fatalf("saved %q / %q, want GitH / carol@example.com", got.Issuer, got.Name)
	}

	// An account removed in another window: saving says so and writes nothing.
	m = press(t, m, "e")
	other, err := vault.Open(o.VaultOptions)
	if err != nil {
		t.Fatal(err)
	}
	d, err = other.Update(func(d *vault.Data) error { _, err := d.Remove(id); return err })
	if err != nil {
		t.Fatal(err)
	}
	next, _ = m.Update(reloadMsg{data: d, changed: true})
	m = press(t, next.(Model), "x", "enter")
	if !strings.Contains(m.text(), "was removed in another window") {
		t.Fatalf("no word about the removed account:\n%s", m.text())
	}
}

// An ordinary account with every parameter away from the defaults (SHA512,
// 8 digits, 60 s, a 32-character secret) fits an 80x24 terminal whole, and
// the code still reads on a dark screen with only its own 1-module quiet
// zone: with the vault's decoder, and with zbarimg when it is installed.
func TestQRFits80x24(t *testing.T) {
	a := acct(vault.TOTP, "GitHub", "alice@example.com", rfcSecret, 8, 60)
	a.Algorithm = vault.SHA512
	m, _, _ := readyModel(t, 80, 24, newClock(t0), a)
	m = press(t, m, "x")
	q, ok := m.overlay.(*qrScreen)
	if !ok {
		t.Fatalf("no QR screen:\n%s", m.text())
	}
	view := m.text()
	if strings.Contains(view, "too small") || !strings.Contains(view, "█") {
		t.Fatalf("the QR code does not fit 80x24 (it is %dx%d cells):\n%s", q.w, q.h, view)
	}
	if n := len(strings.Split(view, "\n")); n != 24 {
		t.Fatalf("the view has %d lines", n)
	}
	img := artToPNGOn(t, q.art, 0)
	texts, err := qrcode.Decode(bytes.NewReader(img))
	if err != nil {
		t.Fatalf("the QR code does not decode on a dark screen: %v", err)
	}
	got, err := vault.ParseURI(texts[0])
	if err != nil {
		t.Fatal(err)
	}
	if !got.SameAs(&a) || got.Digits != 8 || got.Period != 60 || got.Algorithm != vault.SHA512 {
		t.Errorf("QR holds %s", texts[0])
	}
	zbar, err := exec.LookPath("zbarimg")
	if err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("zbarimg is not installed (apt-get install -y zbar-tools)")
		}
		t.Log("zbarimg is not installed: only the vault's decoder read the code")
		return
	}
	p := filepath.Join(t.TempDir(), "qr.png")
	if err := os.WriteFile(p, img, 0o600); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(zbar, "--quiet", "--raw", p).Output()
	if err != nil {
		t.Fatalf("zbarimg cannot read the QR code: %v", err)
	}
	if strings.TrimSpace(string(out)) != texts[0] {
		t.Errorf("zbarimg reads %q, the vault's decoder %q", out, texts[0])
	}
}

// In privacy mode x asks before it shows a secret on screen.
func TestQRAsksInPrivacyMode(t *testing.T) {
	m, _, _ := readyModel(t, 80, 24, newClock(t0), sampleAccounts()...)
	m = press(t, m, "m", "x")
	q, ok := m.overlay.(*qrScreen)
	if !ok {
		t.Fatalf("x did not open the QR screen:\n%s", m.text())
	}
	if view := m.text(); strings.Contains(view, "▀") || strings.Contains(view, "█") || !strings.Contains(view, "Press x or enter to show it") {
		t.Fatalf("in privacy mode the QR code shows at once:\n%s", view)
	}
	m = press(t, m, "esc")
	if m.overlay != nil {
		t.Fatal("esc did not cancel")
	}
	m = press(t, m, "x", "x")
	if view := m.text(); !strings.Contains(view, ansi.Strip(q.art)[:20]) {
		t.Fatalf("the second x did not show the QR code:\n%s", view)
	}
	m = press(t, m, "x")
	if m.overlay != nil {
		t.Fatal("x did not hide the QR code")
	}
}

// A folder given as the file says so in plain words; an encrypted export
// asks for its password as a question, not as an error.
func TestAddFileWording(t *testing.T) {
	dir := t.TempDir()
	m, _, _ := readyModel(t, 100, 24, newClock(t0), sampleAccounts()[:1]...)
	m = press(t, m, "a", "f")
	m = typeText(t, m, dir)
	m = press(t, m, "enter")
	if got := m.overlay.(*addScreen).path.err; got != dir+" is a folder: give a file in it (tab completes the names)" {
		t.Fatalf("a folder gives the error %q", got)
	}

	backup, err := transfer.ExportBackup([]vault.Account{acct(vault.TOTP, "Locked", "me", rfcSecret, 6, 30)}, []byte(fakePass), transfer.WithWorkFactor(10))
	if err != nil {
		t.Fatal(err)
	}
	p := filepath.Join(dir, "backup.sesame")
	if err := os.WriteFile(p, backup, 0o600); err != nil {
		t.Fatal(err)
	}
	o, _, _ := testOptions(t, newClock(t0), sampleAccounts()[:1]...)
	tm := startUI(t, o, 100, 24)
	waitFor(t, tm, "1 account")
	tm.Send(keyMsg("a"))
	waitFor(t, tm, "Read a QR image or import a file")
	tm.Send(keyMsg("f"))
	waitFor(t, tm, "File:")
	tm.Type(p)
	tm.Send(keyMsg("enter"))
	waitForUpTo(t, tm, time.Minute, "This file is encrypted: type its password")
	if view := currentView(t, tm); strings.Contains(view, "✗") {
		t.Fatalf("the password request is shown as an error:\n%s", view)
	}
	tm.Type(fakePass)
	tm.Send(keyMsg("enter"))
	waitForUpTo(t, tm, time.Minute, "added Locked (me)", "2 accounts")
}

// d, y on an account another process removed meanwhile says it was already
// removed; K and J at the edge between pinned and unpinned say why nothing moves.
func TestDeleteGoneAndMoveAcrossPins(t *testing.T) {
	o, v, _ := testOptions(t, newClock(t0), sampleAccounts()[:3]...)
	m := New(o)
	next, _ := m.Update(tea.WindowSizeMsg{Width: 120, Height: 24})
	next, _ = next.Update(openedMsg{v: v})
	m = next.(Model)
	other, err := vault.Open(o.VaultOptions)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := other.Update(func(d *vault.Data) error {
		a, err := d.Find("GitHub")
		if err != nil {
			return err
		}
		_, err = d.Remove(a.ID)
		return err
	}); err != nil {
		t.Fatal(err)
	}
	m = press(t, m, "d", "y")
	view := m.text()
	if !strings.Contains(view, "GitHub (alice@example.com) was already removed (in another window)") || strings.Contains(view, "no account matches") {
		t.Fatalf("deleting an account removed elsewhere:\n%s", view)
	}
	if strings.Contains(view, "alice@example.com ") || !strings.Contains(view, "2 accounts") {
		t.Errorf("the list still shows the removed account:\n%s", view)
	}

	m = press(t, m, "p") // pin Google, the first row now
	if !strings.Contains(m.text(), "pinned Google") {
		t.Fatalf("no pin:\n%s", m.text())
	}
	m = press(t, m, "J")
	if !strings.Contains(m.text(), "Google (alice@gmail.com) is the last pinned account: unpin it (p) to move it below") {
		t.Errorf("J on the last pinned row says nothing:\n%s", m.text())
	}
	m = press(t, m, "j", "K")
	if !strings.Contains(m.text(), "AWS (root) is the first unpinned account: pin it (p) to move it among the pinned ones") {
		t.Errorf("K on the first unpinned row says nothing:\n%s", m.text())
	}
}

// A successful action clears the error an earlier one left in the status
// line, even when the success says nothing itself (moving an account).
func TestSuccessClearsError(t *testing.T) {
	m, _, _ := readyModel(t, 80, 24, newClock(t0), sampleAccounts()...)
	m = press(t, m, "u")
	if !strings.Contains(m.text(), "nothing to undo") {
		t.Fatalf("u with nothing deleted shows no error:\n%s", m.text())
	}
	m = press(t, m, "j", "J")
	if strings.Contains(m.text(), "nothing to undo") {
		t.Errorf("the error is still shown after a successful move:\n%s", m.text())
	}
	if m.toast.text != "" {
		t.Errorf("toast %q after a successful move, want none", m.toast.text)
	}
}

// The filter's help line says that enter copies the best match.
func TestFilterHelpSaysEnterCopies(t *testing.T) {
	m, _, _ := readyModel(t, 80, 24, newClock(t0), sampleAccounts()...)
	m = press(t, m, "/", "g")
	if !strings.Contains(m.text(), "enter copy best match") {
		t.Errorf("the filter's help line does not say what enter does:\n%s", m.text())
	}
}

// An import that lets a doubtful account through says so with its result,
// as `sesame import` does: here a secret of 40 bits, shorter than any real
// site uses.
func TestImportFileShowsWarnings(t *testing.T) {
	m, v, _ := readyModel(t, 160, 40, newClock(t0), sampleAccounts()[:1]...)
	list := filepath.Join(t.TempDir(), "accounts.txt")
	short := "otpauth://totp/Tiny:bob?secret=JBSWY3DP&issuer=Tiny\n"
	if err := os.WriteFile(list, []byte(short), 0o600); err != nil {
		t.Fatal(err)
	}
	m = press(t, m, "a", "f")
	m = setPath(t, m, list)
	m = press(t, m, "enter")
	d := v.Data()
	if _, err := d.Find("Tiny"); err != nil {
		t.Fatalf("the account was not added: %v\n%s", err, m.text())
	}
	if view := m.text(); !strings.Contains(view, "added Tiny (bob); the secret of Tiny (bob) is only 40 bits: check it") {
		t.Fatalf("no warning with the result:\n%s", view)
	}
}
