// Package agent is Sesame's background watcher: it watches every active
// pairing of a vault and tells the user about each new sign-in request with
// a desktop notification, withdrawn when the request is answered elsewhere
// or expires. It never answers on its own. One agent runs per vault (a lock
// in the vault's folder); it writes how each server was last reached to a
// state file there for 'sesame agent status'.
package agent

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/sesame-auth/sesame/approve"
	"github.com/sesame-auth/sesame/approve/notify"
	"github.com/sesame-auth/sesame/vault"
)

// Watcher is the part of approve.Watcher the agent uses.
type Watcher interface {
	Run(ctx context.Context)
	Events() <-chan approve.Event
	Statuses() []approve.Status
	SetPairings(p []vault.Pairing)
}

// Options configure an Agent. Notifier and Log are required.
type Options struct {
	Notifier notify.Notifier
	// Log gets one line per request, withdrawal and status change.
	Log io.Writer
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Reload returns the vault's pairings and whether they changed since
	// the last call; nil never reloads. An error stops the agent.
	Reload func() ([]vault.Pairing, bool, error)
	// Answer is run when the user presses a notification's action: it opens
	// somewhere to answer the request (a terminal running 'sesame approve').
	Answer func(r approve.Request) error
	// State, when set, is written with the pairings' state (see State).
	State func(State) error
	// Burst notifications are shown one by one per Window; the requests
	// beyond are summarised in one notification, updated at most every
	// SummaryGap. Defaults: 3 per minute, 20 s.
	Burst      int
	Window     time.Duration
	SummaryGap time.Duration
}

// Timing of the agent's housekeeping.
const (
	tickEvery   = time.Second
	reloadEvery = 2 * time.Second
	stateEvery  = 30 * time.Second
	callTimeout = 10 * time.Second // for one Show or Close: a hung notification service does not stop the watching
)

type reqKey struct{ pairing, id string }

// Agent turns a Watcher's events into notifications. Its methods are
// called from Run's goroutine only.
type Agent struct {
	o Options

	shown      map[reqKey]shownRequest // requests with their own notification
	byID       map[notify.ID]approve.Request
	recent     []time.Time                // when the shown ones were shown, within Window
	summarised map[reqKey]approve.Request // beyond the burst, still pending
	summary    notify.ID                  // the summary notification, when shown
	summaryN   int                        // how many it says
	summaryAt  time.Time                  // when it was last shown
	statuses   map[string]approve.Status  // by pairing ID
	reached    map[string]time.Time       // when each pairing's server last answered
	labels     map[string]string          // pairing ID to label, for the log
	desktopErr error                      // why the last Show failed, nil when it worked
	lastState  time.Time
	lastReload time.Time
	started    time.Time
}

type shownRequest struct {
	id notify.ID
	r  approve.Request
}

// New returns an agent; Run starts it.
func New(o Options) *Agent {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.Burst <= 0 {
		o.Burst = 3
	}
	if o.Window <= 0 {
		o.Window = time.Minute
	}
	if o.SummaryGap <= 0 {
		o.SummaryGap = 20 * time.Second
	}
	return &Agent{
		o: o, shown: map[reqKey]shownRequest{}, byID: map[notify.ID]approve.Request{},
		summarised: map[reqKey]approve.Request{}, statuses: map[string]approve.Status{},
		reached: map[string]time.Time{}, labels: map[string]string{}, started: o.Now(),
	}
}

// Run watches with w until ctx is done (nil) or the vault cannot be read
// again (the error). Notifications it showed are withdrawn when it stops.
func (a *Agent) Run(ctx context.Context, w Watcher) error {
	wctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { w.Run(wctx); close(done) }()
	defer func() {
		cancel()
		for range w.Events() { // drain until the watcher closes it
		}
		<-done
		a.closeAll()
	}()
	tick := time.NewTicker(tickEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case ev, ok := <-w.Events():
			if !ok {
				return nil
			}
			a.Handle(ctx, ev)
		case id := <-a.o.Notifier.Actions():
			a.Action(id)
		case <-tick.C:
			if err := a.Tick(ctx, w); err != nil {
				return err
			}
		}
	}
}

// closeAll withdraws every notification still shown, so none outlives the agent.
func (a *Agent) closeAll() {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	for k, s := range a.shown {
		a.o.Notifier.Close(ctx, s.id)
		delete(a.shown, k)
	}
	if a.summary != 0 {
		a.o.Notifier.Close(ctx, a.summary)
		a.summary = 0
	}
}

func (a *Agent) logf(format string, args ...any) {
	fmt.Fprintf(a.o.Log, "sesame: "+format+"\n", args...)
}

// describe is a request for the log: who, what and where, never the number.
func describe(r approve.Request) string {
	s := "sign-in request"
	if app := notify.Clean(r.Application, 80); app != "" {
		s += " to " + app
	}
	if u := notify.Clean(r.User, 80); u != "" {
		s += " for " + u
	}
	if where := strings.Trim(strings.Join([]string{notify.Clean(r.IP, 64), notify.Clean(r.Location, 80)}, ", "), ", "); where != "" {
		s += " from " + where
	}
	return s
}

// Handle acts on one watcher event.
func (a *Agent) Handle(ctx context.Context, ev approve.Event) {
	now := a.o.Now()
	switch {
	case ev.Request != nil:
		r := *ev.Request
		k := reqKey{r.PairingID, r.ID}
		if _, dup := a.shown[k]; dup {
			return
		}
		if _, dup := a.summarised[k]; dup {
			return
		}
		a.logf("%s (id %s)", describe(r), r.ID)
		a.recent = pruneBefore(a.recent, now.Add(-a.o.Window))
		if len(a.recent) >= a.o.Burst {
			a.summarised[k] = r
			a.flushSummary(ctx, now)
			return
		}
		a.recent = append(a.recent, now)
		if id, ok := a.show(ctx, notify.ForRequest(r, now)); ok {
			a.shown[k] = shownRequest{id, r}
			a.byID[id] = r
		}
	case ev.Withdrawn != nil:
		r := *ev.Withdrawn
		k := reqKey{r.PairingID, r.ID}
		if s, ok := a.shown[k]; ok {
			delete(a.shown, k)
			delete(a.byID, s.id)
			if err := a.close(ctx, s.id); err != nil && a.desktopErr == nil {
				a.logf("could not withdraw the notification of request %s: %v", r.ID, err)
			}
		}
		if _, ok := a.summarised[k]; ok {
			delete(a.summarised, k)
			if len(a.summarised) == 0 && a.summary != 0 {
				a.close(ctx, a.summary)
				a.summary, a.summaryN = 0, 0
			}
		}
		why := "was answered elsewhere or withdrawn"
		if !now.Before(r.Expires) {
			why = "expired"
		}
		a.logf("request %s %s", r.ID, why)
	case ev.Status != nil:
		s := *ev.Status
		a.statuses[s.PairingID] = s
		a.labels[s.PairingID] = s.Label
		a.note(s)
		a.logf("%s", s)
		a.writeState(now)
	}
}

// close withdraws a notification, giving the service callTimeout.
func (a *Agent) close(ctx context.Context, id notify.ID) error {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	return a.o.Notifier.Close(ctx, id)
}

// show shows n and reports whether it did; the first failure in a row is
// logged, the following ones are not.
func (a *Agent) show(ctx context.Context, n notify.Notification) (notify.ID, bool) {
	ctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	id, err := a.o.Notifier.Show(ctx, n)
	if err != nil {
		if a.desktopErr == nil {
			a.logf("desktop notifications do not work (%v): still watching; requests are logged here", err)
			a.desktopErr = err
			a.writeState(a.o.Now())
		}
		return 0, false
	}
	if a.desktopErr != nil {
		a.logf("desktop notifications work again")
		a.desktopErr = nil
		a.writeState(a.o.Now())
	}
	return id, true
}

// flushSummary shows or updates the summary when it is out of date and the
// last update is SummaryGap old.
func (a *Agent) flushSummary(ctx context.Context, now time.Time) {
	n := len(a.summarised)
	if n == 0 || n == a.summaryN || now.Sub(a.summaryAt) < a.o.SummaryGap {
		return
	}
	s := notify.Summary(n)
	s.Replaces = a.summary
	a.summaryAt = now
	if id, ok := a.show(ctx, s); ok {
		a.summary, a.summaryN = id, n
		a.logf("%d requests beyond %d a minute are summarised in one notification", n, a.o.Burst)
	}
}

func pruneBefore(ts []time.Time, t time.Time) []time.Time {
	i := 0
	for i < len(ts) && ts[i].Before(t) {
		i++
	}
	return ts[i:]
}

// Action opens somewhere to answer the request of notification id.
func (a *Agent) Action(id notify.ID) {
	r, ok := a.byID[id]
	if !ok {
		a.logf("the request of notification %d is gone: nothing to answer", id)
		return
	}
	if a.o.Answer == nil {
		return
	}
	a.logf("opening a terminal to answer request %s", r.ID)
	if err := a.o.Answer(r); err != nil {
		a.logf("could not open a terminal to answer (%v): run 'sesame approve %s'", err, r.ID)
	}
}

// Tick does the housekeeping: the summary, the vault's pairings and the state file.
func (a *Agent) Tick(ctx context.Context, w Watcher) error {
	now := a.o.Now()
	a.flushSummary(ctx, now)
	if a.o.Reload != nil && now.Sub(a.lastReload) >= reloadEvery {
		a.lastReload = now
		ps, changed, err := a.o.Reload()
		if err != nil {
			return fmt.Errorf("the vault cannot be read any more: %w", err)
		}
		if changed {
			w.SetPairings(ps)
		}
	}
	if now.Sub(a.lastState) >= stateEvery {
		for _, s := range w.Statuses() {
			a.statuses[s.PairingID] = s
			a.note(s)
		}
		a.writeState(now)
	}
	return nil
}

// note records when a pairing's server last answered.
func (a *Agent) note(s approve.Status) {
	switch s.State {
	case approve.StateOK, approve.StateClockSkew, approve.StateBlocked, approve.StateUnpaired, approve.StateBadSignature:
		a.reached[s.PairingID] = s.At
	case approve.StateStopped:
		delete(a.statuses, s.PairingID)
	}
}

func (a *Agent) writeState(now time.Time) {
	a.lastState = now
	if a.o.State == nil {
		return
	}
	st := State{Started: a.started, Updated: now, Desktop: "ok"}
	if a.desktopErr != nil {
		st.Desktop = a.desktopErr.Error()
	}
	for id, s := range a.statuses {
		ps := PairingState{ID: id, Label: s.Label, State: string(s.State), Status: s.String(), LastReached: a.reached[id]}
		st.Pairings = append(st.Pairings, ps)
	}
	sortPairings(st.Pairings)
	if err := a.o.State(st); err != nil && !errors.Is(err, context.Canceled) {
		a.logf("could not write the state file: %v", err)
	}
}
