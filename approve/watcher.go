package approve

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/sesame-auth/sesame/vault"
	"github.com/sesame-auth/sesame/vault/safetext"
)

// State is the health of one pairing's connection, for the status line.
type State string

// The states of a pairing.
const (
	StateConnecting   State = "connecting"    // the first poll is under way
	StateOK           State = "ok"            // polling works
	StateDown         State = "down"          // the server cannot be reached or answers 5xx
	StateBadSignature State = "bad_signature" // the server's responses do not verify
	StateClockSkew    State = "clock_skew"    // this device's clock differs from the server's by Skew
	StateBlocked      State = "blocked"       // requests are blocked after "this wasn't me"
	StateUnpaired     State = "unpaired"      // the server no longer knows this device
	StateFailed       State = "failed"        // another error; see Err
	StatePaused       State = "paused"        // the user paused this pairing
	StateStopped      State = "stopped"       // removed from the watched pairings
)

// Status is one pairing's state as of At.
type Status struct {
	PairingID string
	Label     string
	State     State
	Err       error         // the last error, in the failing states
	Until     time.Time     // while failing: when the next attempt is made
	Skew      time.Duration // the server's clock minus this device's, when known
	At        time.Time
}

// String is a short text for a status line, e.g.
// "example.com: server down (connection refused), retrying in 8s".
func (s Status) String() string {
	var t string
	switch s.State {
	case StateConnecting:
		t = "connecting"
	case StateOK:
		t = "ok"
	case StateDown:
		t = "server down"
	case StateBadSignature:
		t = "bad signature from the server: responses ignored"
	case StateClockSkew:
		t = fmt.Sprintf("this clock is %s the server's: fix the clock (codes are wrong too)", fmtSkew(s.Skew))
	case StateBlocked:
		t = "blocked after \"this wasn't me\": if that was a mistake, clear it (sesame devices unblock, or u in the pairings screen)"
	case StateUnpaired:
		t = "the server no longer knows this device: pair again"
	case StatePaused:
		t = "paused"
	case StateStopped:
		t = "stopped"
	default:
		t = "error"
	}
	if s.Err != nil && (s.State == StateDown || s.State == StateFailed) {
		msg := s.Err.Error()
		if len(msg) > 120 {
			msg = msg[:120] + "…"
		}
		t += " (" + msg + ")"
	}
	if !s.Until.IsZero() && s.Until.After(s.At) {
		t += fmt.Sprintf(", retrying in %s", s.Until.Sub(s.At).Round(time.Second))
	}
	if s.Label != "" {
		return s.Label + ": " + t
	}
	return t
}

// fmtSkew says how this clock differs, given the server's clock minus this one.
func fmtSkew(d time.Duration) string {
	s := int64(math.Round(math.Abs(d.Seconds())))
	if d < 0 {
		return fmt.Sprintf("%ds ahead of", s)
	}
	return fmt.Sprintf("%ds behind", s)
}

// Event is what the Watcher reports: a new request, a request that went away
// without an answer from this device (expired, replaced, answered elsewhere),
// or a pairing's new status. Exactly one field is set. A poll's requests are
// reported before the status it led to, so once a pairing's status has left
// StateConnecting, every request that was pending at its first poll is out.
type Event struct {
	Request   *Request
	Withdrawn *Request
	Status    *Status
}

type reqKey struct{ pairing, id string }

// closedReq is a request that is not reported again: answered here, or
// withdrawn by its server.
type closedReq struct {
	expires  time.Time
	answered bool
}

// Watcher polls every non-paused pairing in its own goroutine, backing off
// with jitter on errors, and reports new requests once each (by pairing and
// request ID), requests that went away, and status changes. Respond sends a
// decision at most once per request.
type Watcher struct {
	opts   Options
	events chan Event
	change chan struct{}

	mu        sync.Mutex
	pairings  []vault.Pairing
	workers   map[string]*worker
	seen      map[reqKey]Request   // reported and still pending
	closed    map[reqKey]closedReq // answered here or withdrawn: never reported again; kept until after expiry
	providers map[string]Provider
	statuses  map[string]Status
	done      chan struct{}
}

type worker struct {
	p      vault.Pairing
	cancel context.CancelFunc
	done   chan struct{}
}

// Timing of the Watcher.
const (
	backoffBase     = time.Second
	backoffMax      = time.Minute
	minPollGap      = 2 * time.Second // between polls that returned fast with nothing new
	minPollInterval = time.Second     // between the starts of two polls, whatever they returned
)

// NewWatcher returns a watcher for the pairings; Run starts it.
func NewWatcher(pairings []vault.Pairing, opts Options) *Watcher {
	return &Watcher{
		opts: opts, events: make(chan Event, 64), change: make(chan struct{}, 1),
		pairings: clonePairings(pairings), workers: map[string]*worker{}, seen: map[reqKey]Request{},
		closed: map[reqKey]closedReq{}, providers: map[string]Provider{}, statuses: map[string]Status{},
		done: make(chan struct{}),
	}
}

func clonePairings(ps []vault.Pairing) []vault.Pairing {
	d := vault.Data{Pairings: ps}
	return d.Clone().Pairings
}

// Events delivers new requests and status changes. It is closed when Run returns.
func (w *Watcher) Events() <-chan Event { return w.events }

// SetPairings replaces the watched pairings (one was added, removed, paused
// or resumed). Pollers of unchanged pairings keep running.
func (w *Watcher) SetPairings(p []vault.Pairing) {
	w.mu.Lock()
	w.pairings = clonePairings(p)
	w.mu.Unlock()
	select {
	case w.change <- struct{}{}:
	default:
	}
}

// Statuses returns the current status of every watched pairing.
func (w *Watcher) Statuses() []Status {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make([]Status, 0, len(w.statuses))
	for _, p := range w.pairings {
		if s, ok := w.statuses[p.ID]; ok {
			out = append(out, s)
		}
	}
	return out
}

// Run polls until ctx is done, then stops every poller and closes Events.
func (w *Watcher) Run(ctx context.Context) {
	defer close(w.events)
	defer close(w.done)
	sweep := time.NewTicker(time.Second)
	defer sweep.Stop()
	w.reconcile(ctx)
	for {
		select {
		case <-ctx.Done():
			w.mu.Lock()
			ws := make([]*worker, 0, len(w.workers))
			for _, wk := range w.workers {
				wk.cancel()
				ws = append(ws, wk)
			}
			w.mu.Unlock()
			for _, wk := range ws {
				<-wk.done
			}
			return
		case <-w.change:
			w.reconcile(ctx)
		case <-sweep.C:
			w.emit(ctx, w.expire())
		}
	}
}

func samePairing(a, b vault.Pairing) bool {
	return a.Provider == b.Provider && a.Server == b.Server && a.User == b.User && a.Paused == b.Paused &&
		bytes.Equal(a.DeviceKey, b.DeviceKey) && bytes.Equal(a.ServerKey, b.ServerKey) && maps(a.Params, b.Params)
}

func maps(a, b map[string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if bv, ok := b[k]; !ok || bv != v {
			return false
		}
	}
	return true
}

// reconcile starts and stops pollers to match w.pairings.
func (w *Watcher) reconcile(ctx context.Context) {
	w.mu.Lock()
	want := map[string]vault.Pairing{}
	for _, p := range w.pairings {
		want[p.ID] = p
	}
	var stop []*worker
	var evs []Event
	for id, wk := range w.workers {
		if p, ok := want[id]; !ok || !samePairing(p, wk.p) {
			wk.cancel()
			stop = append(stop, wk)
			delete(w.workers, id)
			delete(w.providers, id)
			evs = append(evs, w.withdrawPairing(id)...)
			st := StateStopped
			if ok && p.Paused {
				st = StatePaused
			}
			if !ok {
				delete(w.statuses, id)
			}
			evs = append(evs, w.setStatus(Status{PairingID: id, Label: label(wk.p), State: st, At: w.opts.now()})...)
		}
	}
	for id, p := range want {
		if _, running := w.workers[id]; running {
			continue
		}
		if p.Paused {
			if s, ok := w.statuses[id]; !ok || s.State != StatePaused {
				evs = append(evs, w.setStatus(Status{PairingID: id, Label: label(p), State: StatePaused, At: w.opts.now()})...)
			}
			continue
		}
		wctx, cancel := context.WithCancel(ctx)
		wk := &worker{p: p, cancel: cancel, done: make(chan struct{})}
		w.workers[id] = wk
		evs = append(evs, w.setStatus(Status{PairingID: id, Label: label(p), State: StateConnecting, At: w.opts.now()})...)
		go w.poll(wctx, wk)
	}
	w.mu.Unlock()
	for _, wk := range stop {
		<-wk.done
	}
	w.emit(ctx, evs)
}

func label(p vault.Pairing) string {
	l := p.Label
	if l == "" {
		l = p.Server
	}
	if p.User != "" {
		l = p.User + "@" + l
	}
	return l
}

// setStatus records s and returns its event if it differs from the last one. Caller holds mu.
func (w *Watcher) setStatus(s Status) []Event {
	old, ok := w.statuses[s.PairingID]
	w.statuses[s.PairingID] = s
	if ok && old.State == s.State && old.Until.Equal(s.Until) && old.Skew == s.Skew && errors.Is(old.Err, s.Err) && errors.Is(s.Err, old.Err) {
		return nil
	}
	return []Event{{Status: &s}}
}

// withdrawPairing forgets the reported requests of a pairing. Caller holds mu.
func (w *Watcher) withdrawPairing(id string) []Event {
	var evs []Event
	for k, r := range w.seen {
		if k.pairing == id {
			delete(w.seen, k)
			evs = append(evs, Event{Withdrawn: &r})
		}
	}
	return evs
}

// expire drops reported requests past their expiry and old answered marks.
func (w *Watcher) expire() []Event {
	now := w.opts.now()
	w.mu.Lock()
	defer w.mu.Unlock()
	var evs []Event
	for k, r := range w.seen {
		if !now.Before(r.Expires) {
			delete(w.seen, k)
			evs = append(evs, Event{Withdrawn: &r})
		}
	}
	for k, c := range w.closed {
		if now.Sub(c.expires) > 10*time.Minute {
			delete(w.closed, k)
		}
	}
	return evs
}

func (w *Watcher) emit(ctx context.Context, evs []Event) {
	for _, e := range evs {
		select {
		case w.events <- e:
		case <-ctx.Done():
			return
		}
	}
}

func (w *Watcher) current(wk *worker) bool { return w.workers[wk.p.ID] == wk }

// poll is one pairing's poller.
func (w *Watcher) poll(ctx context.Context, wk *worker) {
	defer close(wk.done)
	p := wk.p
	prov, err := NewProvider(p, w.opts)
	if err != nil {
		w.mu.Lock()
		evs := w.setStatus(Status{PairingID: p.ID, Label: label(p), State: StateFailed, Err: err, At: w.opts.now()})
		w.mu.Unlock()
		w.emit(ctx, evs)
		return
	}
	w.mu.Lock()
	if w.current(wk) {
		w.providers[p.ID] = prov
	}
	w.mu.Unlock()
	attempt := 0
	var last []string
	for ctx.Err() == nil {
		started := w.opts.now()
		reqs, err := prov.Poll(ctx)
		if ctx.Err() != nil {
			return
		}
		now := w.opts.now()
		st := Status{PairingID: p.ID, Label: label(p), At: now}
		if sk, ok := prov.(interface{ Skew() time.Duration }); ok {
			st.Skew = sk.Skew()
		}
		var wait time.Duration
		if err != nil {
			st.Err = err
			switch {
			case errors.Is(err, ErrBadSig):
				st.State = StateBadSignature
			case errors.Is(err, ErrClockSkew):
				st.State = StateClockSkew
			case errors.Is(err, ErrUnpaired):
				st.State = StateUnpaired
			case errors.Is(err, ErrBlocked):
				st.State = StateBlocked
			case errors.Is(err, ErrServer):
				st.State = StateDown
			default:
				st.State = StateFailed
			}
			wait = Backoff(attempt, backoffBase, backoffMax, w.opts.Rand)
			attempt++
			st.Until = now.Add(wait)
		} else {
			attempt = 0
			st.State = StateOK
			if st.Skew > WarnClockSkew || st.Skew < -WarnClockSkew {
				st.State = StateClockSkew
			}
			ids := make([]string, len(reqs))
			for i, r := range reqs {
				ids[i] = r.ID
			}
			slices.Sort(ids)
			if slices.Equal(ids, last) && now.Sub(started) < time.Second {
				// The provider answered at once with nothing new: do not spin.
				wait = Backoff(0, minPollGap, minPollGap, w.opts.Rand)
			}
			last = ids
			// However fast the server answers, and whatever it says, polls
			// start at most once per minPollInterval: a server that flaps
			// between a request and none cannot make this device spin.
			wait = max(wait, minPollInterval-now.Sub(started))
		}
		w.mu.Lock()
		if !w.current(wk) {
			w.mu.Unlock()
			return
		}
		// The poll's requests go before its status, so that a pairing's
		// first status after connecting means its pending requests are out.
		var evs []Event
		if err == nil {
			evs = w.deliver(p.ID, reqs, now)
		}
		evs = append(evs, w.setStatus(st)...)
		w.mu.Unlock()
		w.emit(ctx, evs)
		if wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			}
		}
	}
}

// deliver reports new requests of a pairing and withdraws the ones gone
// from the server's list. Caller holds mu.
func (w *Watcher) deliver(pid string, reqs []Request, now time.Time) []Event {
	var evs []Event
	present := map[string]bool{}
	for _, r := range reqs {
		r = cleanRequest(r)
		r.PairingID = pid
		k := reqKey{pid, r.ID}
		present[r.ID] = true
		if _, done := w.closed[k]; done {
			continue
		}
		if _, dup := w.seen[k]; dup || !now.Before(r.Expires) {
			continue
		}
		w.seen[k] = r
		evs = append(evs, Event{Request: &r})
	}
	for k, r := range w.seen {
		if k.pairing == pid && !present[k.id] {
			delete(w.seen, k)
			// Gone from the server: a request that comes back is not shown again.
			w.closed[k] = closedReq{expires: r.Expires}
			evs = append(evs, Event{Withdrawn: &r})
		}
	}
	return evs
}

// cleanRequest removes from a request's text what could reorder, hide or
// restyle what the user reads (bidirectional and invisible characters, ANSI
// escapes): the device does not trust a server to have done it.
func cleanRequest(r Request) Request {
	for _, f := range []*string{&r.User, &r.Application, &r.IP, &r.Location, &r.UserAgent, &r.Title, &r.Question} {
		*f = safetext.Clean(*f)
	}
	r.Choices = slices.Clone(r.Choices)
	for i := range r.Choices {
		r.Choices[i] = safetext.Clean(r.Choices[i])
	}
	return r
}

// DisplayCode returns the code to type on the sign-in screen that r's
// server sent with the approval Respond delivered, when its provider has
// such codes (approve.CodeDisplayer) and the server sent one.
func (w *Watcher) DisplayCode(r Request) (string, bool) {
	w.mu.Lock()
	prov := w.providers[r.PairingID]
	w.mu.Unlock()
	if cd, ok := prov.(CodeDisplayer); ok {
		return cd.DisplayCode(r.ID)
	}
	return "", false
}

// Respond sends the user's decision on r through its pairing's provider, at
// most once per request: a second call returns ErrAnswered without
// sending anything, also when the first one failed. A request past its
// expiry returns ErrExpired without sending.
func (w *Watcher) Respond(ctx context.Context, r Request, a Answer) error {
	k := reqKey{r.PairingID, r.ID}
	w.mu.Lock()
	if c := w.closed[k]; c.answered {
		w.mu.Unlock()
		return ErrAnswered
	}
	prov := w.providers[r.PairingID]
	if prov == nil {
		w.mu.Unlock()
		return fmt.Errorf("%w: the request's pairing is not being watched (paused or removed)", ErrBadRequest)
	}
	w.closed[k] = closedReq{expires: r.Expires, answered: true}
	delete(w.seen, k)
	w.mu.Unlock()
	if !w.opts.now().Before(r.Expires) {
		return ErrExpired
	}
	return prov.Respond(ctx, r, a)
}
