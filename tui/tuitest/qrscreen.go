package tuitest

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/draw"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/tui/screen"
	"github.com/sesame-auth/sesame/vault/qrcode"
)

// QRScreen is a screen capture for tests: a white image showing the QR
// codes of texts side by side, each 330 pixels wide.
func QRScreen(t testing.TB, texts ...string) image.Image {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 400*len(texts)+100, 480))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	for i, text := range texts {
		p, err := qrcode.EncodePNG(text, 330)
		if err != nil {
			t.Fatal(err)
		}
		q, err := png.Decode(bytes.NewReader(p))
		if err != nil {
			t.Fatal(err)
		}
		draw.Draw(img, q.Bounds().Add(image.Pt(50+400*i, 70)), q, image.Point{}, draw.Src)
	}
	return img
}

// QRPNG draws text as a QR code PNG file with qrencode, another project's
// encoder, at pixelsPerModule.
func QRPNG(t testing.TB, text string, pixelsPerModule int) string {
	t.Helper()
	Need(t, "qrencode")
	p := filepath.Join(t.TempDir(), "qr.png")
	if out, err := exec.Command("qrencode", "-s", fmt.Sprint(pixelsPerModule), "-o", p, text).CombinedOutput(); err != nil {
		t.Fatalf("qrencode: %v: %s", err, out)
	}
	return p
}

// showWait is how long a window may take to show: each look decodes the
// whole screen, which under the race detector on a loaded machine takes
// seconds.
const showWait = 30 * time.Second

// ShowImage opens a real X window (feh) showing png at x,y on display and
// waits until the screen, as Sesame captures it, shows a QR code holding
// want. The window closes when the returned function is called or the test
// ends.
func ShowImage(t testing.TB, display, png string, x, y int, want string) func() {
	t.Helper()
	Need(t, "feh")
	cmd := exec.Command("feh", "--borderless", "--geometry", fmt.Sprintf("+%d+%d", x, y), png)
	cmd.Env = append(os.Environ(), "DISPLAY="+display)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	closeIt := func() {
		cmd.Process.Kill()
		cmd.Wait()
	}
	t.Cleanup(closeIt)
	deadline := time.Now().Add(showWait)
	var texts []string
	var err error
	for time.Now().Before(deadline) {
		if texts, err = screen.Scan(context.Background(), screen.X11{Display: display}); slices.Contains(texts, want) {
			return closeIt
		}
		time.Sleep(50 * time.Millisecond) // polling interval
	}
	t.Fatalf("the screen did not show the QR code within %v: %d codes, %v", showWait, len(texts), err)
	return closeIt
}
