//go:build !windows

package screen

import (
	"errors"
	"image"
)

var errNotWindows = errors.Join(ErrUnsupported, errors.New("GDI capture exists only on Windows"))

func displayBounds() ([]image.Rectangle, error) { return nil, errNotWindows }

func captureRect(image.Rectangle) (image.Image, error) { return nil, errNotWindows }

func foregroundWindow() (image.Rectangle, bool, bool) { return image.Rectangle{}, false, false }
