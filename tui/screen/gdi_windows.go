package screen

import (
	"image"
	"sync"

	"github.com/kbinani/screenshot"
	"github.com/lxn/win"
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

// foregroundWindow is the foreground window's rectangle on the virtual
// desktop, and whether it is shown (visible, not minimised).
func foregroundWindow() (image.Rectangle, bool, bool) {
	dpiAware()
	hwnd := win.GetForegroundWindow()
	var r win.RECT
	if hwnd == 0 || !win.GetWindowRect(hwnd, &r) {
		return image.Rectangle{}, false, false
	}
	shown := win.IsWindowVisible(hwnd) && !win.IsIconic(hwnd)
	return image.Rect(int(r.Left), int(r.Top), int(r.Right), int(r.Bottom)), shown, true
}
