//go:build unix

package gate

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/approve/rp"
)

// fakeServer answers like the relying-party API: Start gives "47", Wait
// returns the statuses queued in waits (blocking on block when empty).
type fakeServer struct {
	mu        sync.Mutex
	startErr  error
	waits     []waitAnswer
	started   []rp.SignIn
	cancelled []string
	block     chan struct{}
	waiting   chan struct{} // closed when Wait first blocks, if not nil
}

type waitAnswer struct {
	status, reason string
	err            error
}

func (f *fakeServer) Start(_ context.Context, s rp.SignIn) (rp.Started, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.started = append(f.started, s)
	if f.startErr != nil {
		return rp.Started{}, f.startErr
	}
	return rp.Started{ID: "id1", Number: "47", Mode: s.Mode, Status: rp.StatusPending}, nil
}

func (f *fakeServer) Wait(ctx context.Context, id string, _ time.Duration) (rp.Status, error) {
	f.mu.Lock()
	if len(f.waits) > 0 {
		w := f.waits[0]
		f.waits = f.waits[1:]
		f.mu.Unlock()
		return rp.Status{ID: id, Status: w.status, Reason: w.reason}, w.err
	}
	if f.waiting != nil {
		close(f.waiting)
		f.waiting = nil
	}
	f.mu.Unlock()
	select {
	case <-ctx.Done():
		return rp.Status{}, ctx.Err()
	case <-f.block:
		return rp.Status{ID: id, Status: rp.StatusPending}, nil
	}
}

func (f *fakeServer) Cancel(_ context.Context, id string) (rp.Status, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cancelled = append(f.cancelled, id)
	return rp.Status{ID: id, Status: rp.StatusExpired, Reason: "cancelled"}, nil
}

func testConfig() Config {
	c, err := ParseConfig([]byte(`server_url = "http://127.0.0.1:1"
api_key_file = "/k"`), "test")
	if err != nil {
		panic(err)
	}
	return c
}

var alice = Login{User: "alice", Host: "box", IP: "192.0.2.7", Service: "ssh", Command: "git-upload-pack 'repo.git'"}

// noTime leaves the time out of test logs: the tests look for the number in
// them, and a timestamp's digits could hold it by chance.
var noTime = &slog.HandlerOptions{ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
	if a.Key == slog.TimeKey && len(groups) == 0 {
		return slog.Attr{}
	}
	return a
}}

func newGate(f *fakeServer, mod func(*Config)) (*Gate, *bytes.Buffer, *bytes.Buffer) {
	cfg := testConfig()
	if mod != nil {
		mod(&cfg)
	}
	var out, log bytes.Buffer
	return &Gate{Config: cfg, Server: f, Out: &out, Log: slog.New(slog.NewTextHandler(&log, noTime)), RetryEvery: time.Millisecond}, &out, &log
}

func TestVerdicts(t *testing.T) {
	cases := []struct {
		status, reason string
		kind           Kind
		says           string
	}{
		{rp.StatusApproved, "", Approved, "Approved"},
		{rp.StatusDenied, "cancelled", Denied, "Denied in Sesame"},
		{rp.StatusDenied, "wrong_number", WrongNumber, "number typed in Sesame was not"},
		{rp.StatusNotMe, "", NotMe, "this wasn't me"},
		{rp.StatusExpired, "", Expired, "no answer"},
		{rp.StatusExpired, "replaced", Expired, "newer sign-in"},
		{rp.StatusExpired, "cancelled", Cancelled, "cancelled"},
		{"weird", "", Refused, "unknown sign-in status"},
	}
	for _, c := range cases {
		f := &fakeServer{waits: []waitAnswer{{status: rp.StatusPending}, {status: c.status, reason: c.reason}}}
		g, out, log := newGate(f, nil)
		res := g.Check(context.Background(), alice)
		if res.Kind != c.kind || res.Allowed() != (c.kind == Approved) {
			t.Errorf("%s/%s: got %v allowed=%v", c.status, c.reason, res.Kind, res.Allowed())
		}
		lines := strings.Split(strings.TrimSpace(out.String()), "\n")
		if len(lines) != 2 || lines[0] != "Sign-in to box as alice from 192.0.2.7: type 47 in Sesame" || !strings.Contains(lines[1], c.says) {
			t.Errorf("%s/%s: the user saw %q", c.status, c.reason, out.String())
		}
		if strings.Contains(log.String(), "47") || !strings.Contains(log.String(), "result="+c.kind.String()) || !strings.Contains(log.String(), "user=alice") {
			t.Errorf("%s/%s: log %q", c.status, c.reason, log.String())
		}
	}
}

func TestTheRequestDescribesTheLogin(t *testing.T) {
	f := &fakeServer{waits: []waitAnswer{{status: rp.StatusApproved}}}
	g, out, _ := newGate(f, func(c *Config) {
		c.Mode, c.PushInfo, c.Timeout, c.UsersMap = ModeChoose, true, 30, map[string]string{"alice": "alice@example.com"}
	})
	g.Check(context.Background(), alice)
	want := rp.SignIn{User: "alice@example.com", Application: "SSH to box", IP: "192.0.2.7", UserAgent: "command: git-upload-pack 'repo.git'", Mode: "choose", TTLSeconds: 30}
	if len(f.started) != 1 || f.started[0] != want {
		t.Fatalf("started %+v\nwant %+v", f.started, want)
	}
	if !strings.HasPrefix(out.String(), "Sign-in to box as alice from 192.0.2.7: choose 47 in Sesame\n") {
		t.Fatalf("the user saw %q", out.String())
	}
	// Without pushinfo the command stays on the server; sudo names its service.
	f = &fakeServer{waits: []waitAnswer{{status: rp.StatusApproved}}}
	g, out, _ = newGate(f, nil)
	g.Check(context.Background(), Login{User: "bob", Host: "box", Service: "sudo", Command: "secret"})
	want = rp.SignIn{User: "bob", Application: "sudo on box", Mode: "type", TTLSeconds: DefaultTimeout}
	if f.started[0] != want {
		t.Fatalf("started %+v\nwant %+v", f.started[0], want)
	}
	if !strings.HasPrefix(out.String(), "Sign-in to box as bob: type 47 in Sesame\n") {
		t.Fatalf("the user saw %q", out.String())
	}
}

func TestCancellingWithdrawsTheSignIn(t *testing.T) {
	waiting := make(chan struct{})
	f := &fakeServer{block: make(chan struct{}), waiting: waiting}
	g, out, _ := newGate(f, nil)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan Result)
	go func() { done <- g.Check(ctx, alice) }()
	<-waiting
	cancel()
	res := <-done
	if res.Kind != Cancelled || res.Allowed() {
		t.Fatalf("got %v", res.Kind)
	}
	if len(f.cancelled) != 1 || f.cancelled[0] != "id1" {
		t.Fatalf("cancelled on the server: %v", f.cancelled)
	}
	if !strings.HasSuffix(out.String(), "Sign-in cancelled.\n") {
		t.Fatalf("the user saw %q", out.String())
	}
}

func TestNoAnswerInTimeIsWithdrawn(t *testing.T) {
	f := &fakeServer{block: make(chan struct{})}
	close(f.block) // every wait says pending at once
	clock := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	g, _, _ := newGate(f, nil)
	g.Now = func() time.Time { clock = clock.Add(10 * time.Second); return clock }
	if res := g.Check(context.Background(), alice); res.Kind != Expired {
		t.Fatalf("got %v", res.Kind)
	}
	if len(f.cancelled) != 1 {
		t.Fatalf("the expired sign-in was not withdrawn: %v", f.cancelled)
	}
}

func TestFailmode(t *testing.T) {
	down := fmt.Errorf("%w: connection refused", rp.ErrUnavailable)
	for _, mode := range []string{FailSecure, FailSafe} {
		f := &fakeServer{startErr: down}
		g, out, log := newGate(f, func(c *Config) { c.FailMode = mode })
		res := g.Check(context.Background(), alice)
		if res.Allowed() != (mode == FailSafe) {
			t.Errorf("%s: allowed = %v (%v)", mode, res.Allowed(), res.Kind)
		}
		if !strings.Contains(out.String(), "unreachable") || !strings.Contains(log.String(), "failmode "+mode) {
			t.Errorf("%s: user saw %q, log %q", mode, out.String(), log.String())
		}
	}
	// The server going away while the user decides: retried until the
	// deadline, then the failmode.
	clock := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	waits := []waitAnswer{{status: rp.StatusPending}}
	for range 100 {
		waits = append(waits, waitAnswer{err: down})
	}
	f := &fakeServer{waits: waits}
	g, _, _ := newGate(f, nil)
	g.Now = func() time.Time { clock = clock.Add(time.Second); return clock }
	if res := g.Check(context.Background(), alice); res.Kind != Unreachable {
		t.Fatalf("server gone while waiting: %v", res.Kind)
	}
	// A brief outage is ridden out.
	f = &fakeServer{waits: []waitAnswer{{err: down}, {err: down}, {status: rp.StatusApproved}}}
	g, _, _ = newGate(f, nil)
	if res := g.Check(context.Background(), alice); res.Kind != Approved {
		t.Fatalf("after a brief outage: %v", res.Kind)
	}
}

func TestRefusals(t *testing.T) {
	cases := map[string]string{
		"no_devices":   "no Sesame paired",
		"blocked":      "sesame devices unblock",
		"rate_limited": "too many sign-in attempts",
		"unauthorized": "API key",
		"bad_request":  "bad_request",
	}
	for code, says := range cases {
		f := &fakeServer{startErr: &rp.APIError{Status: 400, Code: code, Message: "m"}}
		g, out, _ := newGate(f, func(c *Config) { c.FailMode = FailSafe })
		res := g.Check(context.Background(), alice)
		if res.Kind != Refused || res.Allowed() || !strings.Contains(out.String(), says) || strings.Count(out.String(), "\n") != 1 {
			t.Errorf("%s: %v, the user saw %q", code, res.Kind, out.String())
		}
	}
}

func TestGroups(t *testing.T) {
	groups := map[string][]string{"alice": {"alice", "admins"}, "bob": {"bob"}}
	f := &fakeServer{waits: []waitAnswer{{status: rp.StatusDenied}}}
	g, out, _ := newGate(f, func(c *Config) { c.Groups = []string{"admins", "ops"} })
	g.Groups = func(u string) ([]string, error) {
		if gs, ok := groups[u]; ok {
			return gs, nil
		}
		return nil, errors.New("unknown user")
	}
	if res := g.Check(context.Background(), Login{User: "bob", Host: "box"}); res.Kind != NotGated || !res.Allowed() || out.Len() != 0 || len(f.started) != 0 {
		t.Fatalf("bob (not in a gated group): %v, %q, %d started", res.Kind, out.String(), len(f.started))
	}
	if res := g.Check(context.Background(), Login{User: "alice", Host: "box"}); res.Kind != Denied {
		t.Fatalf("alice (in admins): %v", res.Kind)
	}
	if res := g.Check(context.Background(), Login{User: "carol", Host: "box"}); res.Allowed() {
		t.Fatalf("a failed group look-up let carol in: %v", res.Kind)
	}
}

func TestClipKeepsUTF8Whole(t *testing.T) {
	if got := clip("aé", 2); got != "a" {
		t.Fatalf("clip = %q", got)
	}
	if got := clip("abc", 2); got != "ab" {
		t.Fatalf("clip = %q", got)
	}
}
