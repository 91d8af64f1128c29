package approve

import (
	"time"

	"github.com/sesame-auth/sesame/vault"
)

// Timing of the sign-in history.
const (
	// HistoryGap is the least time between two vault writes made for the
	// sign-in history alone: entries wait and are written together.
	HistoryGap = 20 * time.Second
	// MinShown is how long a request must have been shown to be recorded
	// when it goes away unanswered (expired or withdrawn). A request a
	// flapping server shows and withdraws at once leaves no trace.
	MinShown = 3 * time.Second
)

// HistoryEvent is the vault's history entry for request r, which ended in
// outcome o at time at.
func HistoryEvent(r Request, o Outcome, detail string, at time.Time) vault.Event {
	return vault.Event{
		PairingID: r.PairingID, RequestID: r.ID, User: r.User, Application: r.Application, IP: r.IP,
		Location: r.Location, Decision: o.Decision(), Detail: detail, At: at.UTC(),
	}
}

// History collects the entries of the vault's sign-in history so that the
// UIs write them at most once per HistoryGap. It is not safe for concurrent
// use: each UI keeps one in its event loop.
type History struct {
	pending []vault.Event
	last    time.Time
}

// Worth reports whether a request shown since shown and gone at now without
// an answer goes into the history.
func Worth(shown, now time.Time) bool { return !shown.IsZero() && now.Sub(shown) >= MinShown }

// Add queues e and returns the entries to write now: all the queued ones
// when the last write is at least HistoryGap old, else none.
func (h *History) Add(e vault.Event, now time.Time) []vault.Event {
	h.pending = append(h.pending, e)
	return h.Due(now)
}

// Due returns the queued entries when the last write is at least HistoryGap
// old; call it now and then (on a tick) so that queued entries are written.
func (h *History) Due(now time.Time) []vault.Event {
	if len(h.pending) == 0 || (!h.last.IsZero() && now.Sub(h.last) < HistoryGap) {
		return nil
	}
	h.last = now
	return h.Flush()
}

// Flush returns every queued entry, whatever the time: before exit.
func (h *History) Flush() []vault.Event {
	out := h.pending
	h.pending = nil
	return out
}
