package screen

import (
	"image"
	"sync"

	"github.com/kbinani/screenshot"
	"golang.org/x/sys/windows"
)

// dpiAware makes GDI work in physical pixels, the unit of the monitors'
// bounds: without it a scaled desktop (150 %) is captured cropped.
var dpiAware = sync.OnceFunc(func() {
	_, _, _ = windows.NewLazySystemDLL("user32.dll").NewProc("SetProcessDPIAware").Call()
})

func displayBounds() ([]image.Rectangle, error) {
	dpiAware()
	n := screenshot.NumActiveDisplays()
	out := make([]image.Rectangle, 0, n)
	for i := range n {
		out = append(out, screenshot.GetDisplayBounds(i))
	}
	return out, nil
}

func captureRect(r image.Rectangle) (image.Image, error) {
	return screenshot.CaptureRect(r)
}
