//go:build !linux && !freebsd && !openbsd && !netbsd && !darwin && !windows

package notify

import "context"

// none is the notifier of systems without a known notification service.
type none struct{}

// Desktop returns the desktop's notifier.
func Desktop() Notifier { return none{} }

func (none) Show(context.Context, Notification) (ID, error) { return 0, ErrUnavailable }
func (none) Close(context.Context, ID) error                { return nil }
func (none) Actions() <-chan ID                             { return nil }
