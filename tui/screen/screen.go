// Package screen captures what is on the user's screens, so that Sesame can
// read the QR code of an enrolment page without a saved screenshot. The
// back-end is chosen at run time: the X server itself on X11, the desktop's
// Screenshot portal (then grim) on Wayland, screencapture on macOS, GDI on
// Windows.
//
// It has no user interface: `sesame add --scan` and the TUI's add dialog
// both use it. Captures stay in memory except where the platform forces a
// file (the portal, screencapture): that file is private (0600 in a 0700
// folder) and removed as soon as it is read, also on error and cancel.
package screen

import (
	"context"
	"errors"
	"image"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"

	"github.com/sesame-auth/sesame/vault/qrcode"
)

// Capturer takes a picture of every screen.
type Capturer interface {
	// Capture returns one image per screen.
	Capture(ctx context.Context) ([]image.Image, error)
	// String names the back-end for messages: "X11", "grim".
	String() string
}

// Errors from Detect and Capture.
var (
	// ErrUnsupported means no way to capture the screen was found; the
	// wrapping message names what is missing.
	ErrUnsupported = errors.New("cannot capture the screen")
	// ErrRefused means the desktop or the OS refused the capture; the
	// wrapping message says how to allow it.
	ErrRefused = errors.New("the screen capture was refused")
)

// Env is what Detect looks at. The zero value of each field means the real
// one: the process environment, $PATH, the running OS.
type Env struct {
	Getenv   func(string) string
	LookPath func(string) (string, error)
	GOOS     string
}

func (e Env) getenv(k string) string {
	if e.Getenv == nil {
		return os.Getenv(k)
	}
	return e.Getenv(k)
}

func (e Env) has(prog string) bool {
	look := e.LookPath
	if look == nil {
		look = exec.LookPath
	}
	_, err := look(prog)
	return err == nil
}

func (e Env) goos() string {
	if e.GOOS == "" {
		return runtime.GOOS
	}
	return e.GOOS
}

// Detect picks how to capture the screen, or says what is missing:
//
//   - macOS: screencapture;
//   - Windows: GDI, no program needed;
//   - Wayland (WAYLAND_DISPLAY set): the org.freedesktop.portal.Screenshot
//     portal, where the desktop asks the user, then grim if installed;
//   - X11 (DISPLAY set): the X server's GetImage, no program needed.
func Detect(e Env) (Capturer, error) {
	switch e.goos() {
	case "darwin":
		if !e.has("screencapture") {
			return nil, errors.Join(ErrUnsupported, errors.New("screencapture is missing from $PATH (it comes with macOS)"))
		}
		return macOS{}, nil
	case "windows":
		return GDI{}, nil
	}
	if e.getenv("WAYLAND_DISPLAY") != "" {
		var chain Fallback
		if addr := sessionBus(e); addr != "" {
			chain = append(chain, Portal{Address: addr})
		}
		if e.has("grim") {
			chain = append(chain, Grim{})
		}
		if len(chain) == 0 {
			return nil, errors.Join(ErrUnsupported, errors.New("on Wayland Sesame needs the desktop's Screenshot portal (xdg-desktop-portal, on a D-Bus session) or grim: install one of them"))
		}
		if len(chain) == 1 {
			return chain[0], nil
		}
		return chain, nil
	}
	if d := e.getenv("DISPLAY"); d != "" {
		return X11{Display: d, Window: e.getenv("WINDOWID")}, nil
	}
	return nil, errors.Join(ErrUnsupported, errors.New("no graphical session: neither DISPLAY (X11) nor WAYLAND_DISPLAY (Wayland) is set; over SSH, copy the QR code's link and use 'sesame add URI'"))
}

// sessionBus is the address of the D-Bus session bus the portal is on:
// DBUS_SESSION_BUS_ADDRESS, else the socket "bus" in $XDG_RUNTIME_DIR, as
// D-Bus itself looks for it; "" when neither is set.
func sessionBus(e Env) string {
	if addr := e.getenv("DBUS_SESSION_BUS_ADDRESS"); addr != "" {
		return addr
	}
	if dir := e.getenv("XDG_RUNTIME_DIR"); dir != "" {
		return "unix:path=" + filepath.Join(dir, "bus")
	}
	return ""
}

// Fallback tries each capturer in turn and stops at the first that works.
type Fallback []Capturer

// Capture captures with the first capturer that succeeds.
func (f Fallback) Capture(ctx context.Context) ([]image.Image, error) {
	var errs []error
	for _, c := range f {
		imgs, err := c.Capture(ctx)
		if err == nil {
			return imgs, nil
		}
		if ctx.Err() != nil {
			return nil, err
		}
		errs = append(errs, err)
	}
	return nil, errors.Join(errs...)
}

func (f Fallback) String() string {
	s := ""
	for i, c := range f {
		if i > 0 {
			s += ", then "
		}
		s += c.String()
	}
	return s
}

// ErrNoCode is Scan's error when no screen shows a QR code.
var ErrNoCode = errors.New("no QR code found on the screen: show the QR code, unobstructed, and try again")

// Scan captures every screen and returns the text of every QR code on them,
// screen by screen in reading order, without duplicates. A code that is seen
// but cannot be read gives qrcode.ErrUnreadableCode; no code gives
// ErrNoCode, which says so when the terminal covers every screen.
func Scan(ctx context.Context, c Capturer) ([]string, error) {
	imgs, err := c.Capture(ctx)
	if err != nil {
		return nil, err
	}
	var texts []string
	var unreadable error
	for _, img := range imgs {
		found, err := qrcode.DecodeImage(img)
		switch {
		case errors.Is(err, qrcode.ErrNoCode):
			continue
		case errors.Is(err, qrcode.ErrUnreadableCode):
			unreadable = err
			continue
		case err != nil:
			return nil, err
		}
		for _, t := range found {
			if !slices.Contains(texts, t) {
				texts = append(texts, t)
			}
		}
	}
	switch {
	case len(texts) > 0:
		return texts, nil
	case unreadable != nil:
		return nil, unreadable
	case Where(ctx, c) == PlaceCovers:
		return nil, errCovered{}
	}
	return nil, ErrNoCode
}
