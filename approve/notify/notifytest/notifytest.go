// Package notifytest is a notify.Notifier in memory, for tests.
package notifytest

import (
	"context"
	"slices"
	"sync"

	"github.com/sesame-auth/sesame/approve/notify"
)

// Fake records what it is asked to show and close. Set Err to make Show fail.
type Fake struct {
	mu     sync.Mutex
	Err    error
	shown  []notify.Notification
	open   map[notify.ID]notify.Notification
	closed []notify.ID
	next   notify.ID
	acts   chan notify.ID
}

// New returns an empty Fake.
func New() *Fake {
	return &Fake{open: map[notify.ID]notify.Notification{}, acts: make(chan notify.ID, 16)}
}

// Show records n.
func (f *Fake) Show(_ context.Context, n notify.Notification) (notify.ID, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.Err != nil {
		return 0, f.Err
	}
	f.shown = append(f.shown, n)
	id := n.Replaces
	if id == 0 {
		f.next++
		id = f.next
	}
	f.open[id] = n
	return id, nil
}

// Close records the withdrawal.
func (f *Fake) Close(_ context.Context, id notify.ID) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.open, id)
	f.closed = append(f.closed, id)
	return nil
}

// Actions delivers what Press sends.
func (f *Fake) Actions() <-chan notify.ID { return f.acts }

// Press acts as if the user pressed the action of notification id.
func (f *Fake) Press(id notify.ID) { f.acts <- id }

// Shown returns every Show call's notification, in order.
func (f *Fake) Shown() []notify.Notification {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.shown)
}

// Open returns the notifications shown and not closed, by ID.
func (f *Fake) Open() map[notify.ID]notify.Notification {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := make(map[notify.ID]notify.Notification, len(f.open))
	for k, v := range f.open {
		out[k] = v
	}
	return out
}

// Closed returns the IDs passed to Close, in order.
func (f *Fake) Closed() []notify.ID {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.closed)
}
