package tui

import (
	"bytes"
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"
	"github.com/charmbracelet/x/exp/golden"

	"github.com/sesame-auth/sesame/approve"
	"github.com/sesame-auth/sesame/vault"
)

// fakeApprovals stands in for approve.Watcher.
type fakeApprovals struct {
	events   chan approve.Event
	mu       sync.Mutex
	answers  []approve.Answer
	pairings [][]vault.Pairing
	reply    error  // what Respond returns, as the server would
	code     string // what DisplayCode returns after an approval
}

func newFakeApprovals() *fakeApprovals { return &fakeApprovals{events: make(chan approve.Event, 16)} }

func (f *fakeApprovals) Run(ctx context.Context)      { <-ctx.Done() }
func (f *fakeApprovals) Events() <-chan approve.Event { return f.events }
func (f *fakeApprovals) Respond(_ context.Context, r approve.Request, a approve.Answer) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.answers = append(f.answers, a)
	return f.reply
}
func (f *fakeApprovals) DisplayCode(approve.Request) (string, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.code, f.code != ""
}
func (f *fakeApprovals) SetPairings(p []vault.Pairing) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.pairings = append(f.pairings, p)
}

func (f *fakeApprovals) got() []approve.Answer {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]approve.Answer(nil), f.answers...)
}

var testPairing = vault.Pairing{ID: "p1", Provider: "sesame", Server: "https://login.example.com", User: "alice",
	Label: "Example SSO", DeviceKey: vault.Secret("fake-device-key")}

func signIn(id string, mode approve.Mode, expires time.Time) approve.Request {
	r := approve.Request{PairingID: "p1", ID: id, User: "alice", Application: "Example Portal", IP: "203.0.113.7",
		Location: "Berlin, DE", Mode: mode, Created: t0.Add(-2 * time.Second), Expires: expires}
	if mode == approve.ModeChoose {
		r.Choices = []string{"12", "47", "85"}
	}
	return r
}

// approvalsModel is a ready model with a paired vault and a fake watcher.
func approvalsModel(t *testing.T, clock *fakeClock) (Model, *vault.Vault, *fakeApprovals, *bytes.Buffer) {
	t.Helper()
	o, v, _ := testOptions(t, clock, sampleAccounts()[:2]...)
	if _, err := v.Update(func(d *vault.Data) error { d.Pairings = append(d.Pairings, testPairing); return nil }); err != nil {
		t.Fatal(err)
	}
	fake := newFakeApprovals()
	o.NewApprovals = func([]vault.Pairing) Approvals { return fake }
	var bell bytes.Buffer
	o.bellTo = &bell
	m := New(o)
	next, _ := m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
	next, _ = next.Update(openedMsg{v: v})
	return next.(Model), v, fake, &bell
}

func deliver(t *testing.T, m Model, ev approve.Event) Model {
	t.Helper()
	next, cmd := m.Update(approvalEventMsg{ev})
	return drain(t, next.(Model), cmd, 3)
}

func history(v *vault.Vault) []string {
	var out []string
	for _, e := range v.Data().History {
		out = append(out, e.Decision)
	}
	return out
}

func TestApprovalChooseDenyNotMe(t *testing.T) {
	clock := newClock(t0)
	m, v, fake, bell := approvalsModel(t, clock)
	r := signIn("r1", approve.ModeChoose, t0.Add(60*time.Second))
	m = deliver(t, m, approve.Event{Request: &r})
	view := m.text()
	for _, want := range []string{"Example Portal", "alice", "203.0.113.7 · Berlin, DE", "Expires in  60 s", "12", "47", "85", "[ Deny ]"} {
		if !strings.Contains(view, want) {
			t.Errorf("the prompt lacks %q:\n%s", want, view)
		}
	}
	// The bell, then OSC 9 and OSC 777 with the application and user, never a choice.
	if want := "\a\x1b]9;Sesame: Sign-in to Example Portal?: user: alice\a\x1b]777;notify;Sesame: Sign-in to Example Portal?;user: alice\a"; bell.String() != want {
		t.Errorf("the terminal got %q, want %q", bell.String(), want)
	}
	golden.RequireEqual(t, []byte(view))

	m = press(t, m, "enter") // Deny has the focus
	if !strings.Contains(m.text(), "Was this you?") {
		t.Fatalf("no 'was this you' step:\n%s", m.text())
	}
	m = press(t, m, "enter") // nothing is picked yet: nothing is sent
	if a := fake.got(); len(a) != 0 || m.prompt == nil {
		t.Fatalf("a second Enter answered %+v: \"Was this you?\" must have no answer picked", a)
	}
	m = press(t, m, "right", "enter") // "No, it wasn't me"
	if a := fake.got(); len(a) != 1 || a[0].Approve || a[0].Reason != approve.NotMe {
		t.Fatalf("answers = %+v, want one not_me denial", a)
	}
	if m.prompt != nil {
		t.Fatal("the prompt stayed open")
	}
	if h := history(v); strings.Join(h, ",") != "not_me" {
		t.Fatalf("history = %v", h)
	}
}

func TestApprovalChooseApproveAndCancelled(t *testing.T) {
	clock := newClock(t0)
	m, v, fake, _ := approvalsModel(t, clock)
	r1 := signIn("r1", approve.ModeChoose, t0.Add(60*time.Second))
	r2 := signIn("r2", approve.ModeApprove, t0.Add(60*time.Second))
	m = deliver(t, m, approve.Event{Request: &r1})
	m = deliver(t, m, approve.Event{Request: &r2})
	if !strings.Contains(m.text(), "(1 more waiting)") {
		t.Fatalf("the queue is not shown:\n%s", m.text())
	}
	m = press(t, m, "right", "right", "enter") // 47
	if a := fake.got(); len(a) != 1 || !a[0].Approve || a[0].Number != "47" {
		t.Fatalf("answers = %+v, want approve 47", a)
	}
	if p, ok := m.prompt.(*approvalScreen); !ok || p.req.ID != "r2" {
		t.Fatalf("the second request is not shown next")
	}
	m = press(t, m, "esc", "left", "enter") // deny: "yes, I cancelled it"
	if a := fake.got(); len(a) != 2 || a[1].Approve || a[1].Reason != approve.Cancelled {
		t.Fatalf("answers = %+v, want a cancelled denial", a)
	}
	if h := history(v); strings.Join(h, ",") != "approved,denied" {
		t.Fatalf("history = %v", h)
	}
	m = press(t, m, "H")
	if view := m.text(); !strings.Contains(view, "Approved") || !strings.Contains(view, "Example Portal") || strings.Contains(view, "not_me") {
		t.Fatalf("history view:\n%s", view)
	}
}

// TestHistoryEscThenKey: esc and q typed faster than they are read arrive
// as alt+q; on a screen without text fields that is esc, then q.
func TestHistoryEscThenKey(t *testing.T) {
	m, _, _, _ := approvalsModel(t, newClock(t0))
	m = press(t, m, "H")
	if _, ok := m.overlay.(*historyScreen); !ok {
		t.Fatalf("H did not open the history:\n%s", m.text())
	}
	next, cmd := m.Update(keyMsg("alt+q"))
	m = next.(Model)
	if m.overlay != nil {
		t.Fatalf("alt+q left the history open:\n%s", m.text())
	}
	if !quits(t, cmd) {
		t.Fatal("the q after esc did not quit")
	}

	// In a text field alt+key stays what it is (alt+b moves back a word).
	m = press(t, m, "/", "x", "y")
	next, _ = m.Update(keyMsg("alt+q"))
	if m = next.(Model); !m.list.filtering {
		t.Fatal("alt+q in the filter was taken as esc")
	}
}

func TestApprovalTypeNumber(t *testing.T) {
	clock := newClock(t0)
	m, _, fake, _ := approvalsModel(t, clock)
	r := signIn("r1", approve.ModeType, t0.Add(60*time.Second))
	m = deliver(t, m, approve.Event{Request: &r})
	// Two stray Enters on the empty number field answer nothing.
	m = press(t, m, "enter", "enter")
	if m.prompt == nil || len(fake.got()) != 0 {
		t.Fatalf("two Enters answered the request: %+v", fake.got())
	}
	m = press(t, m, "4", "7", "enter")
	if m.prompt != nil {
		t.Fatal("the prompt stayed open after the answer")
	}
	if a := fake.got(); len(a) != 1 || !a[0].Approve || a[0].Number != "47" {
		t.Fatalf("answers = %+v, want approve with 47", a)
	}
}

// A number pasted into the prompt (copied from the sign-in screen) is typed
// into the number field; pasted text that is not a number is not.
func TestApprovalPasteNumber(t *testing.T) {
	m, _, fake, _ := approvalsModel(t, newClock(t0))
	r := signIn("r1", approve.ModeType, t0.Add(60*time.Second))
	m = deliver(t, m, approve.Event{Request: &r})
	paste := func(text string) {
		t.Helper()
		next, cmd := m.Update(tea.PasteMsg{Content: text})
		m = drain(t, next.(Model), cmd, 4)
	}
	paste("hello 12")
	m = press(t, m, "enter")
	if m.prompt == nil || len(fake.got()) != 0 {
		t.Fatalf("pasted words answered the request: %+v", fake.got())
	}
	paste(" 47\n")
	m = press(t, m, "enter")
	if a := fake.got(); len(a) != 1 || !a[0].Approve || a[0].Number != "47" {
		t.Fatalf("answers = %+v, want approve with the pasted 47", a)
	}
}

// A server that answers an approval with a code to type on the sign-in
// screen (privacyIDEA's code_to_phone) gets it shown, for longer than a toast.
func TestApprovalShowsDisplayCode(t *testing.T) {
	clock := newClock(t0)
	m, _, fake, _ := approvalsModel(t, clock)
	fake.code = "5173"
	r := signIn("r1", approve.ModeApprove, t0.Add(60*time.Second))
	m = deliver(t, m, approve.Event{Request: &r})
	m = press(t, m, "right", "enter")
	if a := fake.got(); len(a) != 1 || !a[0].Approve {
		t.Fatalf("answers = %+v, want one approval", a)
	}
	want := "now type 5173 on the sign-in screen of Example Portal"
	if view := m.text(); !strings.Contains(view, want) {
		t.Fatalf("the code is not shown:\n%s", view)
	}
	if m.toast.until.Sub(clock.now()) < 30*time.Second {
		t.Fatalf("the code is shown only until %v", m.toast.until)
	}
}

// A number the server says is wrong denies the sign-in, with no second try.
func TestApprovalWrongNumber(t *testing.T) {
	m, v, fake, _ := approvalsModel(t, newClock(t0))
	fake.reply = approve.ErrWrongNumber
	r := signIn("r1", approve.ModeType, t0.Add(60*time.Second))
	m = deliver(t, m, approve.Event{Request: &r})
	m = press(t, m, "1", "0", "enter")
	if a := fake.got(); len(a) != 1 || !a[0].Approve || a[0].Number != "10" {
		t.Fatalf("answers = %+v, want one approval with 10", a)
	}
	if m.prompt != nil {
		t.Fatal("the prompt stayed open for a second try")
	}
	if view := m.text(); !strings.Contains(view, "did not match") {
		t.Fatalf("no word about the number:\n%s", view)
	}
	if h := history(v); strings.Join(h, ",") != "denied" {
		t.Fatalf("history = %v", h)
	}
}

func TestApprovalExpires(t *testing.T) {
	clock := newClock(t0)
	m, v, fake, _ := approvalsModel(t, clock)
	r := signIn("r1", approve.ModeApprove, t0.Add(5*time.Second))
	m = deliver(t, m, approve.Event{Request: &r})
	next, cmd := m.Update(tickMsg{id: m.tickID, t: t0.Add(6 * time.Second)})
	m = drain(t, next.(Model), cmd, 3)
	if m.prompt != nil {
		t.Fatal("an expired request is still on screen")
	}
	if !strings.Contains(m.text(), "expired") {
		t.Errorf("no message about the expiry:\n%s", m.text())
	}
	if len(fake.got()) != 0 {
		t.Error("an expired request was answered")
	}
	if h := history(v); strings.Join(h, ",") != "expired" {
		t.Fatalf("history = %v", h)
	}
}

func TestApprovalStatusAndPause(t *testing.T) {
	clock := newClock(t0)
	m, v, fake, _ := approvalsModel(t, clock)
	st := approve.Status{PairingID: "p1", Label: "Example SSO", State: approve.StateDown, At: t0, Until: t0.Add(8 * time.Second)}
	m = deliver(t, m, approve.Event{Status: &st})
	if !strings.Contains(m.text(), "Example SSO: server down, retrying in 8s") {
		t.Fatalf("status line:\n%s", m.text())
	}
	m = press(t, m, "P", " ")
	if p := v.Data().Pairings; !p[0].Paused {
		t.Fatal("the pairing was not paused")
	}
	fake.mu.Lock()
	last := fake.pairings[len(fake.pairings)-1]
	fake.mu.Unlock()
	if !last[0].Paused {
		t.Fatal("the watcher was not told about the pause")
	}
	if !strings.Contains(m.text(), "paused") {
		t.Errorf("pairings screen:\n%s", m.text())
	}
}

// With NoNotify a new request neither rings nor sends a terminal notification.
func TestApprovalNoNotify(t *testing.T) {
	clock := newClock(t0)
	m, _, _, bell := approvalsModel(t, clock)
	m.o.NoNotify = true
	r := signIn("r1", approve.ModeType, t0.Add(60*time.Second))
	m = deliver(t, m, approve.Event{Request: &r})
	if !strings.Contains(m.text(), "Example Portal") {
		t.Fatalf("no prompt:\n%s", m.text())
	}
	if bell.Len() != 0 {
		t.Errorf("the terminal got %q with NoNotify", bell.String())
	}
}

// longUserAgent is a 300-character User-Agent, as a real browser sends.
var longUserAgent = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.6778.85 Safari/537.36 " +
	strings.Repeat("ExtensionToken/1.2.3 ", 9) + "the-end"

func TestApprovalPromptFitsEverySize(t *testing.T) {
	if len(longUserAgent) < 300 {
		t.Fatalf("the User-Agent is %d characters, want 300", len(longUserAgent))
	}
	for _, mode := range []approve.Mode{approve.ModeType, approve.ModeChoose, approve.ModeApprove} {
		for _, size := range [][2]int{{60, 20}, {80, 24}, {100, 30}, {61, 21}, {200, 50}} {
			clock := newClock(t0)
			m, _, _, _ := approvalsModel(t, clock)
			next, _ := m.Update(tea.WindowSizeMsg{Width: size[0], Height: size[1]})
			m = next.(Model)
			r := signIn("r1", mode, t0.Add(60*time.Second))
			r.Question = "Type the 2-digit number shown on the sign-in screen"
			r.UserAgent = longUserAgent
			r.Location = "Saint-Rémy-de-Provence, Provence-Alpes-Côte d'Azur, France"
			m = deliver(t, m, approve.Event{Request: &r})
			for _, details := range []bool{false, true} {
				if details {
					m = press(t, m, "i")
				}
				view := m.text()
				lines := strings.Split(view, "\n")
				if len(lines) > size[1] {
					t.Errorf("%s at %dx%d: %d lines", mode, size[0], size[1], len(lines))
				}
				for _, l := range lines {
					if w := ansi.StringWidth(l); w > size[0] {
						t.Errorf("%s at %dx%d: a line of %d columns: %q", mode, size[0], size[1], w, l)
					}
				}
				// The whole box is on screen: both corners of each side.
				for _, corner := range []string{"╭", "╮", "╰", "╯"} {
					if !strings.Contains(view, corner) {
						t.Errorf("%s at %dx%d (details %v): the box lost its %s corner:\n%s", mode, size[0], size[1], details, corner, view)
					}
				}
				if !details && !strings.Contains(view, "Chrome on Linux") {
					t.Errorf("%s at %dx%d: the User-Agent is not summarised:\n%s", mode, size[0], size[1], view)
				}
				if details && !strings.Contains(view, "ExtensionToken") {
					t.Errorf("%s at %dx%d: i does not show the full User-Agent:\n%s", mode, size[0], size[1], view)
				}
				if n := strings.Count(view, "number shown on the sign-in screen"); n > 1 {
					t.Errorf("%s at %dx%d: the instruction is shown %d times", mode, size[0], size[1], n)
				}
			}
		}
	}
}

func TestApprovalPromptLongUserAgentAt80x24(t *testing.T) {
	m, _, _, _ := approvalsModel(t, newClock(t0))
	r := signIn("r1", approve.ModeType, t0.Add(60*time.Second))
	r.Question = "Type the 2-digit number shown on the sign-in screen"
	r.UserAgent = longUserAgent
	m = deliver(t, m, approve.Event{Request: &r})
	golden.RequireEqual(t, []byte(m.text()))
}

func TestUnblockFromThePairingsScreenAsksFirst(t *testing.T) {
	m, _, _, _ := approvalsModel(t, newClock(t0))
	m = press(t, m, "P", "u")
	if !strings.Contains(m.text(), "Let sign-in requests for alice at Example SSO through again?") {
		t.Fatalf("u does not ask first:\n%s", m.text())
	}
	m = press(t, m, "n")
	if strings.Contains(m.text(), "through again?") || strings.Contains(m.text(), "blocked") {
		t.Fatalf("n did not cancel:\n%s", m.text())
	}
	// y asks the pairing's server; this test pairing's key is damaged, so
	// the attempt fails and says so (the real server is in the tmux test).
	m = press(t, m, "u", "y")
	if !strings.Contains(m.text(), "stay blocked") {
		t.Fatalf("y did not try to unblock:\n%s", m.text())
	}
}
