package screen

import (
	"context"
	"image"
)

// Place is where the terminal that runs Sesame is, relative to what a
// capture takes: it decides whether a full-screen program should step aside
// (leave the alternate screen) for the capture.
type Place int

const (
	// PlaceUnknown means the back-end cannot tell (Wayland, macOS, a
	// terminal that names no window).
	PlaceUnknown Place = iota
	// PlaceAway means the terminal is on no captured screen: iconified,
	// on another workspace or another display. Stepping aside changes
	// nothing in the capture.
	PlaceAway
	// PlaceBeside means the terminal is on a captured screen beside other
	// windows.
	PlaceBeside
	// PlaceCovers means the terminal covers every captured screen: a
	// capture shows only the terminal.
	PlaceCovers
)

// Locator is a Capturer that can tell where the terminal is.
type Locator interface {
	Locate(ctx context.Context) (Place, error)
}

// Where asks c where the terminal is; PlaceUnknown if c cannot tell.
func Where(ctx context.Context, c Capturer) Place {
	l, ok := c.(Locator)
	if !ok {
		return PlaceUnknown
	}
	p, err := l.Locate(ctx)
	if err != nil {
		return PlaceUnknown
	}
	return p
}

// placeOf places a terminal window (its rectangle in the screens'
// coordinates, and whether it is shown at all) against the screens a
// capture takes.
func placeOf(term image.Rectangle, shown bool, screens []image.Rectangle) Place {
	if !shown || term.Empty() {
		return PlaceAway
	}
	on, covers := false, true
	for _, s := range screens {
		if s.Overlaps(term) {
			on = true
		}
		if !s.In(term) {
			covers = false
		}
	}
	switch {
	case !on:
		return PlaceAway
	case covers:
		return PlaceCovers
	}
	return PlaceBeside
}

// errCovered is Scan's ErrNoCode when the terminal covers every screen: the
// page with the QR code is behind it.
type errCovered struct{}

func (errCovered) Error() string {
	return "no QR code found on the screen: your terminal covers the whole screen, so the page with the QR code is behind it; " +
		"make the terminal smaller or move it aside and try again, or copy the QR code's image and read it from the clipboard"
}

func (errCovered) Is(target error) bool { return target == ErrNoCode }

// Aside is when a full-screen terminal program should step aside (leave the
// alternate screen, showing the terminal's own screen) for a capture.
type Aside int

const (
	// StayPut: the terminal is not in the picture; stepping aside would
	// change nothing.
	StayPut Aside = iota
	// AsideIfNone: capture as the screen is; only if that finds no QR code,
	// step aside and capture again, since the code may be on the
	// terminal's own screen (printed by qrencode or google-authenticator).
	AsideIfNone
	// AsideFirst: the terminal covers every screen, so a capture would show
	// only the program; step aside before the one capture.
	AsideFirst
)

// AsideFor is the rule for a terminal at p. An unknown place is treated as
// one beside other windows: the first capture loses nothing, and stepping
// aside is tried only when it found no code.
func AsideFor(p Place) Aside {
	switch p {
	case PlaceAway:
		return StayPut
	case PlaceCovers:
		return AsideFirst
	}
	return AsideIfNone
}
