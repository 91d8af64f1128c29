// Package clipboard copies one-time codes to the user's clipboard, wherever
// that is: the system clipboard through a helper program (xclip, xsel,
// wl-copy, pbcopy, clip.exe) or the terminal's clipboard through OSC 52 when
// Sesame runs over SSH, inside tmux or screen, or when no helper works.
//
// It also reads the system clipboard (Source, DetectSource) for an image of
// a QR code or an otpauth:// link to add.
//
// It has no user interface: the TUI and the CLI (`sesame code --copy`,
// `sesame add --clipboard`) both use it.
package clipboard

import (
	"context"
	"crypto/subtle"
	"errors"
	"fmt"
	"strings"
)

// Clipboard is a place to put a code. Implementations are safe for use by
// several goroutines at once.
type Clipboard interface {
	// Copy puts text on the clipboard and says where it went, for example
	// "xclip" or "terminal (OSC 52)".
	Copy(ctx context.Context, text string) (where string, err error)
	// ClearIf empties the clipboard if it still holds text, and reports
	// whether it did. It returns ErrUnreadable when the clipboard cannot be
	// read back (OSC 52): Sesame then leaves it alone rather than wipe
	// something the user copied since.
	ClearIf(ctx context.Context, text string) (cleared bool, err error)
}

// Errors returned by clipboards.
var (
	// ErrUnreadable means the clipboard cannot be read back, so Sesame cannot
	// tell whether it still holds the code.
	ErrUnreadable = errors.New("this clipboard cannot be read back, so it is not cleared automatically")
	// ErrNoClipboard means no way to reach a clipboard was found.
	ErrNoClipboard = errors.New("no clipboard found: install xclip, xsel or wl-clipboard, or use a terminal that supports OSC 52")
	// ErrNoDisplay means there is no graphical session whose clipboard a
	// helper could reach, and no terminal to send OSC 52 to.
	ErrNoDisplay = errors.New("there is no display to copy to: neither X11 nor Wayland is available (DISPLAY and WAYLAND_DISPLAY are not set); " +
		"run Sesame inside a graphical session or a terminal that supports OSC 52, or read the code from the output")
)

// NoDisplay is the clipboard of a session without a display or a terminal:
// copying fails with ErrNoDisplay.
type NoDisplay struct{}

// Copy fails with ErrNoDisplay.
func (NoDisplay) Copy(context.Context, string) (string, error) { return "", ErrNoDisplay }

// ClearIf has nothing to clear.
func (NoDisplay) ClearIf(context.Context, string) (bool, error) { return false, nil }

func (NoDisplay) String() string { return "no display" }

// holds reports whether got is the text Sesame put there. Clipboard helpers
// may add or drop a trailing newline; the comparison is constant-time.
func holds(got, text string) bool {
	got = strings.TrimRight(got, "\r\n")
	return subtle.ConstantTimeCompare([]byte(got), []byte(text)) == 1
}

// Fallback tries each clipboard in turn and stops at the first that works.
type Fallback []Clipboard

// Copy copies with the first clipboard that succeeds.
func (f Fallback) Copy(ctx context.Context, text string) (string, error) {
	var errs []error
	for _, c := range f {
		where, err := c.Copy(ctx, text)
		if err == nil {
			return where, nil
		}
		errs = append(errs, err)
	}
	if len(errs) == 0 {
		return "", ErrNoClipboard
	}
	return "", errors.Join(errs...)
}

// ClearIf clears every clipboard of the chain that still holds text. It
// reports ErrUnreadable only if no member could be read.
func (f Fallback) ClearIf(ctx context.Context, text string) (bool, error) {
	return clearAll(ctx, f, text)
}

// Both copies to every clipboard it holds, for example the system clipboard
// and the terminal's, inside tmux where either may be the one the user reads.
// It succeeds when at least one does.
type Both []Clipboard

// Copy copies to each clipboard and names those that took the text.
func (b Both) Copy(ctx context.Context, text string) (string, error) {
	var where []string
	var errs []error
	for _, c := range b {
		w, err := c.Copy(ctx, text)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		where = append(where, w)
	}
	if len(where) == 0 {
		if len(errs) == 0 {
			return "", ErrNoClipboard
		}
		return "", errors.Join(errs...)
	}
	return strings.Join(where, " and "), nil
}

// ClearIf clears each member that still holds text.
func (b Both) ClearIf(ctx context.Context, text string) (bool, error) {
	return clearAll(ctx, b, text)
}

func clearAll(ctx context.Context, cs []Clipboard, text string) (bool, error) {
	cleared, readable := false, false
	var errs []error
	for _, c := range cs {
		ok, err := c.ClearIf(ctx, text)
		switch {
		case errors.Is(err, ErrUnreadable):
			continue
		case err != nil:
			errs = append(errs, err)
		}
		readable = true
		cleared = cleared || ok
	}
	if !readable && len(errs) == 0 {
		return false, ErrUnreadable
	}
	return cleared, errors.Join(errs...)
}

// Describe says in a few words where Detect would put a code, for --help
// and debugging: for example "xclip, then OSC 52".
func Describe(c Clipboard) string {
	switch c := c.(type) {
	case Fallback:
		return join(c, ", then ")
	case Both:
		return join(c, " and ")
	case fmt.Stringer:
		return c.String()
	}
	return fmt.Sprintf("%T", c)
}

func join(cs []Clipboard, sep string) string {
	s := make([]string, len(cs))
	for i, c := range cs {
		s[i] = Describe(c)
	}
	return strings.Join(s, sep)
}
