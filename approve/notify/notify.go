// Package notify tells the user about sign-in requests outside Sesame's own
// screens: desktop notifications (freedesktop D-Bus on Linux, osascript on
// macOS, a PowerShell toast on Windows) and terminal notifications (the bell,
// OSC 9 and OSC 777). The text never holds the number to match: the user
// types what the sign-in screen shows.
package notify

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/sesame-auth/sesame/approve"
	"github.com/sesame-auth/sesame/vault/safetext"
)

// ID names a shown notification; 0 is none.
type ID uint64

// Notification is what a Notifier shows.
type Notification struct {
	Title string
	Body  string // several lines
	// Replaces is a notification of ours to update in place, when not 0.
	Replaces ID
	// Action, when set, is the label of a button that, when pressed, sends
	// the notification's ID on Actions.
	Action string
}

// Notifier shows and withdraws desktop notifications.
type Notifier interface {
	// Show shows n (or updates n.Replaces) and returns its ID.
	Show(ctx context.Context, n Notification) (ID, error)
	// Close withdraws a notification shown by Show.
	Close(ctx context.Context, id ID) error
	// Actions delivers the IDs of notifications whose action the user
	// pressed; nil when the notifier has no actions.
	Actions() <-chan ID
}

// ErrUnavailable is returned when the desktop has no notification service.
var ErrUnavailable = errors.New("no desktop notification service")

// ForRequest is the notification for a sign-in request: the application,
// user, place and expiry; never the number or the choices (one of which is
// the number).
func ForRequest(r approve.Request, now time.Time) Notification {
	app := Clean(r.Application, 80)
	title := "Sign-in request"
	if app != "" {
		title = "Sign-in to " + app + "?"
	}
	var lines []string
	if u := Clean(r.User, 80); u != "" {
		lines = append(lines, "user: "+u)
	}
	where := strings.Trim(strings.Join([]string{Clean(r.IP, 64), Clean(r.Location, 80)}, ", "), ", ")
	if where != "" {
		lines = append(lines, "from: "+where)
	}
	if !r.Expires.IsZero() {
		lines = append(lines, fmt.Sprintf("expires %s (in %s)", r.Expires.Local().Format("15:04:05"), r.Expires.Sub(now).Round(time.Second)))
	}
	lines = append(lines, "Answer in Sesame with the number on the sign-in screen.")
	return Notification{Title: title, Body: strings.Join(lines, "\n"), Action: "Answer"}
}

// Summary is the one notification that stands for n requests beyond the
// rate limit.
func Summary(n int) Notification {
	s := "s"
	if n == 1 {
		s = ""
	}
	return Notification{
		Title: fmt.Sprintf("%d more sign-in request%s", n, s),
		Body:  "More sign-in requests arrived than Sesame shows one by one: open Sesame (or run 'sesame approve --watch') to see them. If you are not signing in, someone may be trying your password.",
	}
}

// Clean makes text from a server safe to show on one line (safetext.Line:
// no escape sequences, invisible or control characters, runs of white space
// collapsed) and cuts it to at most max runes.
func Clean(s string, max int) string {
	s = safetext.Line(s)
	if r := []rune(s); len(r) > max {
		s = string(r[:max-1]) + "…"
	}
	return s
}
