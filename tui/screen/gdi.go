package screen

import (
	"context"
	"errors"
	"fmt"
	"image"

	"github.com/sesame-auth/sesame/vault/qrcode"
)

// GDI captures every monitor of a Windows desktop through GDI (BitBlt from
// the desktop's device context): no program, no file.
type GDI struct{}

func (GDI) String() string { return "GDI" }

// Capture returns one image per monitor; mirrored monitors are captured once.
func (GDI) Capture(ctx context.Context) ([]image.Image, error) {
	rects, err := monitors()
	if err != nil {
		return nil, err
	}
	var out []image.Image
	for _, r := range rects {
		if err := context.Cause(ctx); err != nil {
			return nil, err
		}
		img, err := captureRect(r)
		if err != nil {
			return nil, fmt.Errorf("capture the monitor at %d,%d (%d×%d): %w", r.Min.X, r.Min.Y, r.Dx(), r.Dy(), err)
		}
		out = append(out, img)
	}
	return out, nil
}

// Locate places the foreground window, the terminal the user just typed
// into, against the monitors.
func (GDI) Locate(context.Context) (Place, error) {
	screens, err := monitors()
	if err != nil {
		return PlaceUnknown, err
	}
	rect, shown, ok := foregroundWindow()
	if !ok {
		return PlaceUnknown, nil
	}
	return placeOf(rect, shown, screens), nil
}

// monitors is what to capture of the desktop's monitors.
func monitors() ([]image.Rectangle, error) {
	bounds, err := displayBounds()
	if err != nil {
		return nil, err
	}
	return monitorRects(bounds)
}

// monitorRects decides what to capture from the monitors' bounds on the
// virtual desktop: each monitor once (a mirrored monitor repeats another's
// bounds, or lies inside them), none empty, and all of them together no
// more pixels than one image may hold, so that memory stays bounded however
// many monitors there are.
func monitorRects(bounds []image.Rectangle) ([]image.Rectangle, error) {
	var out []image.Rectangle
	var union image.Rectangle
	total := 0
	for _, b := range bounds {
		b = b.Canon()
		if b.Empty() {
			continue
		}
		inside := false
		for _, o := range out {
			if b.In(o) {
				inside = true
				break
			}
		}
		if inside {
			continue
		}
		if b.Dx() > qrcode.MaxDimension || b.Dy() > qrcode.MaxDimension {
			return nil, fmt.Errorf("%w: a monitor is %d×%d pixels", qrcode.ErrImageTooLarge, b.Dx(), b.Dy())
		}
		total += b.Dx() * b.Dy()
		union = union.Union(b)
		if total > qrcode.MaxPixels {
			return nil, fmt.Errorf("%w: the monitors span %d×%d pixels, over %d million in all; copy the QR code (Win+Shift+S) and use the clipboard instead",
				qrcode.ErrImageTooLarge, union.Dx(), union.Dy(), qrcode.MaxPixels/1_000_000)
		}
		out = append(out, b)
	}
	if len(out) == 0 {
		return nil, errors.New("no monitor to capture: Windows reports none")
	}
	return out, nil
}
