package agent

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/approve"
	"github.com/sesame-auth/sesame/approve/notify"
	"github.com/sesame-auth/sesame/approve/notify/notifytest"
	"github.com/sesame-auth/sesame/vault"
)

var t0 = time.Date(2026, 12, 1, 22, 0, 0, 0, time.UTC)

type clock struct{ t time.Time }

func (c *clock) now() time.Time      { return c.t }
func (c *clock) add(d time.Duration) { c.t = c.t.Add(d) }

// fakeWatcher is a Watcher fed by the test.
type fakeWatcher struct {
	events   chan approve.Event
	mu       sync.Mutex
	statuses []approve.Status
	set      [][]vault.Pairing
}

func newFakeWatcher() *fakeWatcher { return &fakeWatcher{events: make(chan approve.Event)} }

func (w *fakeWatcher) Run(ctx context.Context)      { <-ctx.Done(); close(w.events) }
func (w *fakeWatcher) Events() <-chan approve.Event { return w.events }
func (w *fakeWatcher) Statuses() []approve.Status {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.statuses
}
func (w *fakeWatcher) SetPairings(p []vault.Pairing) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.set = append(w.set, p)
}

func request(i int, c *clock) approve.Request {
	return approve.Request{PairingID: "p1", ID: fmt.Sprintf("r%d", i), User: "alice", Application: "Wiki",
		IP: "192.0.2.7", Location: "Lyon, FR", Mode: approve.ModeChoose, Choices: []string{"17", "42", "93"},
		Created: c.t, Expires: c.t.Add(2 * time.Minute)}
}

func newAgent(c *clock, n notify.Notifier, log *bytes.Buffer) *Agent {
	return New(Options{Notifier: n, Log: log, Now: c.now})
}

// TestNotifiesAndWithdraws: a request makes one notification with the
// application, user and place and none of the choices; its withdrawal
// closes exactly that notification.
func TestNotifiesAndWithdraws(t *testing.T) {
	c := &clock{t0}
	f := notifytest.New()
	var log bytes.Buffer
	a := newAgent(c, f, &log)
	ctx := context.Background()
	r := request(1, c)
	a.Handle(ctx, approve.Event{Request: &r})
	a.Handle(ctx, approve.Event{Request: &r}) // reported twice: still one notification
	shown := f.Shown()
	if len(shown) != 1 {
		t.Fatalf("%d notifications, want 1", len(shown))
	}
	n := shown[0]
	text := n.Title + "\n" + n.Body
	for _, want := range []string{"Wiki", "alice", "192.0.2.7, Lyon, FR", "expires"} {
		if !strings.Contains(text, want) {
			t.Errorf("the notification lacks %q:\n%s", want, text)
		}
	}
	for _, c := range r.Choices {
		if regexp.MustCompile(`\b` + c + `\b`).MatchString(text + log.String()) {
			t.Errorf("the choice %s is in the notification or the log:\n%s\n%s", c, text, log.String())
		}
	}
	if n.Action != "Answer" {
		t.Errorf("action %q, want Answer", n.Action)
	}
	c.add(5 * time.Second)
	a.Handle(ctx, approve.Event{Withdrawn: &r})
	if closed := f.Closed(); len(closed) != 1 || len(f.Open()) != 0 {
		t.Fatalf("closed %v, still open %v", closed, f.Open())
	}
	if !strings.Contains(log.String(), "request r1 was answered elsewhere") {
		t.Errorf("log:\n%s", log.String())
	}
}

// TestStorm: 50 requests in a minute make 3 notifications and one summary,
// updated at most every 20 s; the summary goes when they all went.
func TestStorm(t *testing.T) {
	c := &clock{t0}
	f := notifytest.New()
	var log bytes.Buffer
	a := newAgent(c, f, &log)
	ctx := context.Background()
	w := newFakeWatcher()
	var reqs []approve.Request
	for i := range 50 {
		r := request(i, c)
		reqs = append(reqs, r)
		a.Handle(ctx, approve.Event{Request: &r})
		c.add(time.Second)
		if err := a.Tick(ctx, w); err != nil {
			t.Fatal(err)
		}
	}
	shown := f.Shown()
	if len(shown) > 6 {
		t.Fatalf("%d Show calls for 50 requests in 50 s, want at most 6", len(shown))
	}
	var single, summaries int
	for _, n := range shown {
		if n.Action == "Answer" {
			single++
		} else {
			summaries++
		}
	}
	if single != 3 || summaries < 1 {
		t.Fatalf("%d single notifications and %d summary updates, want 3 and some", single, summaries)
	}
	if open := f.Open(); len(open) != 4 {
		t.Fatalf("%d notifications open, want 4 (3 + the summary)", len(open))
	}
	c.add(time.Minute)
	a.Tick(ctx, w)
	last := f.Shown()[len(f.Shown())-1]
	if last.Title != "47 more sign-in requests" {
		t.Fatalf("the summary says %q, want 47", last.Title)
	}
	for _, r := range reqs {
		a.Handle(ctx, approve.Event{Withdrawn: &r})
	}
	if open := f.Open(); len(open) != 0 {
		t.Fatalf("still open after every request went: %v", open)
	}
	// A minute later, requests are shown one by one again.
	c.add(time.Minute)
	r := request(99, c)
	a.Handle(ctx, approve.Event{Request: &r})
	if n := f.Shown()[len(f.Shown())-1]; n.Action != "Answer" {
		t.Fatalf("after the storm: %+v", n)
	}
}

// TestNoNotificationServer: failures are logged once, and again when it works.
func TestNoNotificationServer(t *testing.T) {
	c := &clock{t0}
	f := notifytest.New()
	f.Err = fmt.Errorf("%w: no D-Bus session bus", notify.ErrUnavailable)
	var log bytes.Buffer
	var states []State
	a := New(Options{Notifier: f, Log: &log, Now: c.now, State: func(s State) error { states = append(states, s); return nil }})
	ctx := context.Background()
	for i := range 3 {
		r := request(i, c)
		a.Handle(ctx, approve.Event{Request: &r})
		c.add(time.Minute)
	}
	if n := strings.Count(log.String(), "desktop notifications do not work"); n != 1 {
		t.Fatalf("logged the failure %d times, want 1:\n%s", n, log.String())
	}
	if n := strings.Count(log.String(), "sign-in request to Wiki for alice"); n != 3 {
		t.Fatalf("logged %d requests, want 3:\n%s", n, log.String())
	}
	if len(states) == 0 || !strings.Contains(states[len(states)-1].Desktop, "no D-Bus session bus") {
		t.Fatalf("the state does not say desktop notifications fail: %+v", states)
	}
	f.Err = nil
	r := request(9, c)
	a.Handle(ctx, approve.Event{Request: &r})
	if !strings.Contains(log.String(), "desktop notifications work again") || len(f.Shown()) != 1 {
		t.Fatalf("after recovery: %d shown\n%s", len(f.Shown()), log.String())
	}
}

// TestRunActionAndReload: pressing Answer runs Answer with the request; a
// changed vault reaches the watcher; an unreadable vault stops Run with an
// error; notifications still open are withdrawn when Run returns.
func TestRunActionAndReload(t *testing.T) {
	f := notifytest.New()
	var log syncBuffer
	answered := make(chan approve.Request, 1)
	reloads := make(chan error, 1)
	changed := []vault.Pairing{{ID: "p2"}}
	a := New(Options{Notifier: f, Log: &log,
		Answer: func(r approve.Request) error { answered <- r; return nil },
		Reload: func() ([]vault.Pairing, bool, error) {
			select {
			case err := <-reloads:
				return nil, false, err
			default:
			}
			return changed, changed != nil, nil
		},
	})
	w := newFakeWatcher()
	done := make(chan error, 1)
	go func() { done <- a.Run(context.Background(), w) }()
	c := &clock{time.Now()}
	r := request(1, c)
	w.events <- approve.Event{Request: &r}
	w.events <- approve.Event{Status: &approve.Status{PairingID: "p1", State: approve.StateOK, At: c.t}} // in order after the request
	ids := f.Open()
	if len(ids) != 1 {
		t.Fatalf("open: %v", ids)
	}
	for id := range ids {
		f.Press(id)
	}
	select {
	case got := <-answered:
		if got.ID != "r1" {
			t.Fatalf("answered %+v", got)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("pressing Answer ran nothing within 10 s")
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		w.mu.Lock()
		n := len(w.set)
		w.mu.Unlock()
		if n > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the changed pairings did not reach the watcher within 10 s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	reloads <- errors.New("the OS keyring is locked")
	select {
	case err := <-done:
		if err == nil || !strings.Contains(err.Error(), "the vault cannot be read any more") {
			t.Fatalf("Run returned %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Run went on with an unreadable vault")
	}
	if open := f.Open(); len(open) != 0 {
		t.Fatalf("left open after Run returned: %v", open)
	}
}

type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// TestServerDown: a server that is down is logged as its status changes,
// and never makes a notification.
func TestServerDown(t *testing.T) {
	c := &clock{t0}
	f := notifytest.New()
	var log bytes.Buffer
	a := newAgent(c, f, &log)
	for i := range 10 {
		c.add(time.Duration(i+1) * time.Second)
		a.Handle(context.Background(), approve.Event{Status: &approve.Status{PairingID: "p1", Label: "alice@example.com",
			State: approve.StateDown, Err: errors.New("connection refused"), At: c.t, Until: c.t.Add(time.Duration(1<<i) * time.Second)}})
	}
	if n := len(f.Shown()); n != 0 {
		t.Fatalf("%d notifications for a server that is down", n)
	}
	if !strings.Contains(log.String(), "alice@example.com: server down (connection refused), retrying in") {
		t.Fatalf("log:\n%s", log.String())
	}
}
