package tui

import (
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"fmt"
	"hash"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/teatest/v2"

	"github.com/sesame-auth/sesame/vault"
	"github.com/sesame-auth/sesame/vault/vaulttest"
)

// t0 is a fixed instant 10 s into a 30 s period and 10 s into a 60 s one.
var t0 = time.Unix(1699999990, 0)

// fakeClock is a settable clock shared by the test and the UI.
type fakeClock struct{ ns atomic.Int64 }

func newClock(t time.Time) *fakeClock { c := &fakeClock{}; c.set(t); return c }
func (c *fakeClock) set(t time.Time)  { c.ns.Store(t.UnixNano()) }
func (c *fakeClock) now() time.Time   { return time.Unix(0, c.ns.Load()) }

// fakeClipboard records what is copied and can be cleared, like a system clipboard.
type fakeClipboard struct {
	mu      sync.Mutex
	content string
	copies  []string
	cleared int
}

func (f *fakeClipboard) Copy(_ context.Context, text string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.content = text
	f.copies = append(f.copies, text)
	return "fakeclip", nil
}

func (f *fakeClipboard) ClearIf(_ context.Context, text string) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.content != text {
		return false, nil
	}
	f.content = ""
	f.cleared++
	return true, nil
}

func (f *fakeClipboard) get() (string, []string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.content, append([]string(nil), f.copies...)
}

// Obviously fake secrets: the RFC test key and base32 of "Hello!\xde\xad\xbe\xef".
const (
	rfcSecret   = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" // "12345678901234567890"
	helloSecret = "JBSWY3DPEHPK3PXP"
)

func acct(typ vault.Type, issuer, name, secret string, digits, period int) vault.Account {
	s, err := vault.ParseSecret(secret)
	if err != nil {
		panic(err)
	}
	return vault.Account{Type: typ, Issuer: issuer, Name: name, Secret: s, Digits: digits, Period: period}
}

// sampleAccounts is a small vault with every kind of row.
func sampleAccounts() []vault.Account {
	return []vault.Account{
		acct(vault.TOTP, "GitHub", "alice@example.com", helloSecret, 6, 30),
		acct(vault.TOTP, "Google", "alice@gmail.com", rfcSecret, 6, 30),
		acct(vault.TOTP, "AWS", "root", "MFRGGZDFMZTWQ2LK", 8, 60),
		{Type: vault.HOTP, Issuer: "Bank", Name: "card", Secret: mustSecret("KRSXG5CTMVRXEZLU"), Counter: 3},
		acct(vault.Steam, "Steam", "gamer", "ONSWG4TFOQ", 5, 30),
	}
}

func mustSecret(s string) vault.Secret {
	b, err := vault.ParseSecret(s)
	if err != nil {
		panic(err)
	}
	return b
}

// newVault creates a keyring vault (in-memory keyring) holding accounts and
// returns the options that open it.
func newVault(t testing.TB, accounts ...vault.Account) (vault.Options, *vault.Vault) {
	t.Helper()
	o := vaulttest.Options(t)
	v, err := vault.Create(o, vault.StoreKeyring)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Update(func(d *vault.Data) error {
		for _, a := range accounts {
			if _, err := d.Add(a, t0); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return o, v
}

// testOptions are UI options for a vault holding accounts, a fake clipboard
// and the ASCII colour profile.
func testOptions(t testing.TB, clock *fakeClock, accounts ...vault.Account) (Options, *vault.Vault, *fakeClipboard) {
	t.Helper()
	vo, v := newVault(t, accounts...)
	clip := &fakeClipboard{}
	return Options{
		VaultOptions: vo,
		Clock:        clock.now,
		Clipboard:    clip,
		ClearAfter:   DefaultClearAfter,
		Getenv:       testEnv,
		Theme:        "dark",
		ReloadEvery:  50 * time.Millisecond,
	}, v, clip
}

func testEnv(k string) string {
	if k == "NO_COLOR" {
		return "1"
	}
	return ""
}

// readyModel returns a model with the vault already opened and the given size.
func readyModel(t testing.TB, w, h int, clock *fakeClock, accounts ...vault.Account) (Model, *vault.Vault, *fakeClipboard) {
	t.Helper()
	o, v, clip := testOptions(t, clock, accounts...)
	m := New(o)
	next, _ := m.Update(tea.WindowSizeMsg{Width: w, Height: h})
	next, _ = next.Update(openedMsg{v: v})
	return next.(Model), v, clip
}

// press sends keys to a model directly (no program), running the commands
// that produce messages the root handles synchronously, up to a depth.
func press(t testing.TB, m Model, keys ...string) Model {
	t.Helper()
	for _, k := range keys {
		for _, km := range keyMsgs(k) {
			next, cmd := m.Update(km)
			m = drain(t, next.(Model), cmd, 4)
		}
	}
	return m
}

// drain runs cmd and feeds its messages back, up to depth rounds. Commands
// that wait for time or for an event (timers, the approval stream) are not
// run: a step does not include them, and tests send those messages
// themselves. Every other command must finish; the test fails if one takes
// longer than cmdDeadline.
func drain(t testing.TB, m Model, cmd tea.Cmd, depth int) Model {
	t.Helper()
	if cmd == nil || depth == 0 || waits(cmd) {
		return m
	}
	msg := run(t, cmd)
	if b, ok := msg.(tea.BatchMsg); ok {
		for _, c := range b {
			m = drain(t, m, c, depth)
		}
		return m
	}
	if rv := reflect.ValueOf(msg); rv.Kind() == reflect.Slice && rv.Type().Elem() == reflect.TypeOf(tea.Cmd(nil)) {
		for i := range rv.Len() {
			m = drain(t, m, rv.Index(i).Interface().(tea.Cmd), depth)
		}
		return m
	}
	if msg == nil {
		return m
	}
	next, cmd2 := m.Update(msg)
	return drain(t, next.(Model), cmd2, depth-1)
}

// cmdDeadline is how long a command doing work (vault I/O with scrypt,
// a fake clipboard) may take under the race detector on a busy machine.
const cmdDeadline = 60 * time.Second

// run runs a command that does work and returns its message.
func run(t testing.TB, cmd tea.Cmd) tea.Msg {
	t.Helper()
	done := make(chan tea.Msg, 1)
	go func() { done <- cmd() }()
	select {
	case msg := <-done:
		return msg
	case <-time.After(cmdDeadline):
		t.Fatalf("the command %s did not finish within %v", cmdName(cmd), cmdDeadline)
		return nil
	}
}

// waits reports whether cmd waits for time or for an event instead of
// doing work: Bubble Tea's timers, a text cursor's blink, the approval
// stream (waitApproval) and the vault file check (watchVault).
func waits(cmd tea.Cmd) bool {
	name := cmdName(cmd)
	for _, p := range []string{"charm.land/bubbletea/v2.Tick.", "charm.land/bubbletea/v2.Every.", "charm.land/bubbles/v2/cursor."} {
		if strings.HasPrefix(name, p) {
			return true
		}
	}
	// Their closures, wherever the compiler inlined them.
	return strings.HasPrefix(name, "github.com/sesame-auth/sesame/tui.") &&
		(strings.Contains(name, "waitApproval.") || strings.Contains(name, "watchVault."))
}

func cmdName(cmd tea.Cmd) string { return runtime.FuncForPC(reflect.ValueOf(cmd).Pointer()).Name() }

// quits reports whether cmd, or a command it batches or sequences, quits
// the program. Commands that wait (see waits) are not run.
func quits(t testing.TB, cmd tea.Cmd) bool {
	t.Helper()
	if cmd == nil || waits(cmd) {
		return false
	}
	msg := run(t, cmd)
	if _, ok := msg.(tea.QuitMsg); ok {
		return true
	}
	if rv := reflect.ValueOf(msg); rv.Kind() == reflect.Slice && rv.Type().Elem() == reflect.TypeOf(tea.Cmd(nil)) {
		for i := range rv.Len() {
			if quits(t, rv.Index(i).Interface().(tea.Cmd)) {
				return true
			}
		}
	}
	return false
}

// keyMsg is the key press a terminal reports for k, written as
// key.Binding names it ("enter", "shift+tab", "ctrl+r", "alt+q", "G").
func keyMsg(k string) tea.KeyPressMsg {
	named := map[string]rune{
		"enter": tea.KeyEnter, "esc": tea.KeyEscape, "tab": tea.KeyTab, "backspace": tea.KeyBackspace,
		"up": tea.KeyUp, "down": tea.KeyDown, "left": tea.KeyLeft, "right": tea.KeyRight,
		"home": tea.KeyHome, "end": tea.KeyEnd, "pgup": tea.KeyPgUp, "pgdown": tea.KeyPgDown,
		"delete": tea.KeyDelete, "space": tea.KeySpace, " ": tea.KeySpace,
	}
	var mod tea.KeyMod
	for _, m := range []struct {
		prefix string
		mod    tea.KeyMod
	}{{"ctrl+", tea.ModCtrl}, {"alt+", tea.ModAlt}, {"shift+", tea.ModShift}} {
		if rest, ok := strings.CutPrefix(k, m.prefix); ok && rest != "" {
			k, mod = rest, mod|m.mod
		}
	}
	if code, ok := named[k]; ok {
		km := tea.KeyPressMsg{Code: code, Mod: mod}
		if code == tea.KeySpace && mod == 0 {
			km.Text = " "
		}
		return km
	}
	r := []rune(k)
	if len(r) != 1 {
		panic(fmt.Sprintf("keyMsg(%q): not one key; type text with typeText or press", k))
	}
	km := tea.KeyPressMsg{Code: r[0], Mod: mod}
	if mod&^tea.ModShift == 0 {
		km.Text = k
	}
	if unicode.IsUpper(r[0]) {
		km.Code, km.ShiftedCode, km.Mod = unicode.ToLower(r[0]), r[0], km.Mod|tea.ModShift
	}
	return km
}

// keyMsgs is the key presses of k: one key by name, or text typed a
// character at a time, as a terminal reports it.
func keyMsgs(k string) []tea.KeyPressMsg {
	if isKey(k) {
		return []tea.KeyPressMsg{keyMsg(k)}
	}
	var out []tea.KeyPressMsg
	for _, r := range k {
		out = append(out, keyMsg(string(r)))
	}
	return out
}

func isKey(k string) bool {
	for _, p := range []string{"ctrl+", "alt+", "shift+"} {
		if rest, ok := strings.CutPrefix(k, p); ok && rest != "" {
			k = rest
		}
	}
	switch k {
	case "enter", "esc", "tab", "backspace", "up", "down", "left", "right", "home", "end", "pgup", "pgdown", "delete", "space":
		return true
	}
	return len([]rune(k)) == 1
}

// totp is an independent RFC 6238 implementation for checking what the UI
// shows; it shares no code with vault or pquerna/otp.
func totp(secret []byte, t time.Time, digits, period int, alg string) string {
	var h func() hash.Hash
	switch alg {
	case "SHA256":
		h = sha256.New
	case "SHA512":
		h = sha512.New
	default:
		h = sha1.New
	}
	return hotpCode(secret, uint64(t.Unix()/int64(period)), digits, h)
}

func hotpCode(secret []byte, counter uint64, digits int, h func() hash.Hash) string {
	var msg [8]byte
	binary.BigEndian.PutUint64(msg[:], counter)
	mac := hmac.New(h, secret)
	mac.Write(msg[:])
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0x0f
	v := binary.BigEndian.Uint32(sum[off:off+4]) & 0x7fffffff
	mod := uint32(1)
	for range digits {
		mod *= 10
	}
	return fmt.Sprintf("%0*d", digits, v%mod)
}

// probe wraps the root model in teatest programs so that tests can read the
// current View (the output stream only carries the lines that changed).
type probe struct{ Model }

type viewProbe chan string

func (p probe) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	if ch, ok := msg.(viewProbe); ok {
		ch <- p.Model.text()
		return p, nil
	}
	next, cmd := p.Model.Update(msg)
	return probe{next.(Model)}, cmd
}

// currentView asks the running program for its View.
func currentView(t testing.TB, tm *teatest.TestModel) string {
	t.Helper()
	ch := make(viewProbe, 1)
	tm.Send(ch)
	select {
	case v := <-ch:
		return v
	case <-time.After(5 * time.Second):
		t.Fatal("the program did not answer a view probe")
	}
	return ""
}

// waitFor polls the program's View until it contains every string, or fails
// after 5 s.
func waitFor(t testing.TB, tm *teatest.TestModel, want ...string) {
	t.Helper()
	waitForUpTo(t, tm, 5*time.Second, want...)
}

// waitForUpTo is waitFor with a longer deadline, for slow work such as
// scrypt under the race detector.
func waitForUpTo(t testing.TB, tm *teatest.TestModel, limit time.Duration, want ...string) {
	t.Helper()
	deadline := time.Now().Add(limit)
	var v string
	for time.Now().Before(deadline) {
		v = currentView(t, tm)
		ok := true
		for _, w := range want {
			ok = ok && strings.Contains(v, w)
		}
		if ok {
			return
		}
		time.Sleep(10 * time.Millisecond) // polling interval, not synchronisation
	}
	t.Fatalf("the screen never showed %q; last view:\n%s", want, v)
}

func readGolden(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "TestGolden", name+".golden"))
	if err != nil {
		t.Fatalf("read golden file: %v (run go test -run TestGolden -update first)", err)
	}
	return string(b)
}

// text is the frame as plain text, as a terminal without colours shows it:
// what the golden files hold and what the tests look for.
func (m Model) text() string { return ansi.Strip(m.frame()) }
