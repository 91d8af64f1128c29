// Package approve is the device side of sign-in approvals: it pairs Sesame with
// approval servers, receives pending sign-in requests and sends the user's
// decisions. Sesame's own number-matching protocol (approve/sesame) and
// privacyIDEA's PUSH token (approve/privacyidea) are providers behind one
// interface, handed in by cmd through Options.Kinds, so the TUI and the CLI
// treat them alike and this package imports neither.
package approve

import (
	"context"
	"crypto/rand"
	"errors"
	"math/big"
	"time"
)

// Mode is how the user confirms a sign-in request.
type Mode string

// The confirmation modes.
const (
	ModeType     Mode = "type"     // type the number shown on the sign-in screen
	ModeChoose   Mode = "choose"   // pick the number shown on the sign-in screen among Choices
	ModeApprove  Mode = "approve"  // plain approve or deny
	ModePresence Mode = "presence" // privacyIDEA presence: pick the option shown on the sign-in screen
)

// DenyReason says why the user denied a request.
type DenyReason string

// The reasons for a denial.
const (
	NotMe     DenyReason = "not_me"    // "this wasn't me": the server blocks further pushes and records it
	Cancelled DenyReason = "cancelled" // it was the user, who changed their mind
)

// Request is a pending sign-in as the device shows it, whichever provider it came from.
type Request struct {
	PairingID   string
	ID          string
	User        string
	Application string
	IP          string
	Location    string
	UserAgent   string
	Title       string // provider-supplied heading, if any
	Question    string // provider-supplied question, if any
	Mode        Mode
	Choices     []string // for ModeChoose and ModePresence
	Created     time.Time
	Expires     time.Time
}

// Answer is the user's decision on a request.
type Answer struct {
	Approve bool
	Reason  DenyReason // with a denial
	Number  string     // the typed or chosen number, or the chosen presence option
}

// Provider talks to one paired server for one pairing.
type Provider interface {
	// Poll waits until the server has pending requests for this device, the
	// server's long-poll window ends, or ctx is done, and returns what is pending.
	Poll(ctx context.Context) ([]Request, error)
	// Respond sends the user's decision. It must not be called twice for one request.
	Respond(ctx context.Context, r Request, a Answer) error
}

// CodeDisplayer is implemented by providers whose server may answer an
// approval with a short code the user then types on the sign-in screen
// (privacyIDEA's code_to_phone mode). DisplayCode returns the code of a
// request Respond approved, if the server sent one. Watcher.DisplayCode
// asks the request's provider.
type CodeDisplayer interface {
	DisplayCode(requestID string) (code string, ok bool)
}

// Errors shared by providers.
var (
	ErrExpired     = errors.New("the sign-in request has expired")
	ErrBadSig      = errors.New("the server's signature does not verify: the response was ignored")
	ErrAnswered    = errors.New("the sign-in request was already answered")
	ErrPairing     = errors.New("pairing failed")
	ErrInsecure    = errors.New("plain http is allowed only to loopback addresses: use https")
	ErrClockSkew   = errors.New("this device's clock differs from the server's")
	ErrBlocked     = errors.New("sign-in requests are blocked for this user after a \"this wasn't me\" answer")
	ErrBadRequest  = errors.New("the server rejected the request")
	ErrWrongNumber = errors.New("the number did not match the sign-in screen: the sign-in was denied")
	ErrUnpaired    = errors.New("the server no longer knows this device: pair it again")
	ErrServer      = errors.New("the approval server is unavailable")
)

// WarnClockSkew is how far the device's clock may differ from a server's
// before the device warns.
const WarnClockSkew = 30 * time.Second

// Backoff is the delay before retry number attempt (0-based): exponential from
// base, capped at max, with "full jitter" in [d/2, d). rnd returns a uniform
// int64 in [0, n); crypto/rand when nil.
func Backoff(attempt int, base, max time.Duration, rnd func(n int64) int64) time.Duration {
	d := base
	for i := 0; i < attempt && d < max; i++ {
		d *= 2
	}
	d = min(d, max)
	half := int64(d / 2)
	if half <= 0 {
		return d
	}
	if rnd == nil {
		rnd = func(n int64) int64 {
			v, err := rand.Int(rand.Reader, big.NewInt(n))
			if err != nil {
				return 0
			}
			return v.Int64()
		}
	}
	return time.Duration(half + rnd(half))
}
