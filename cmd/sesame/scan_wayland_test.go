//go:build linux && !lean

package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/sesame-auth/sesame/tui/tuitest"
)

// TestScanScreenWayland runs `sesame add --scan` and `--clipboard` in a real
// Wayland session: sway, headless, showing a QR code made by qrencode. With
// no session bus there is no Screenshot portal to ask, so the capture falls
// back to grim, as on a wlroots desktop without xdg-desktop-portal; the
// clipboard is read with the real wl-paste.
func TestScanScreenWayland(t *testing.T) {
	const secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
	uri := "otpauth://totp/WaylandBank:fay?secret=" + secret + "&issuer=WaylandBank"
	session := tuitest.Sway(t, tuitest.QRPNG(t, uri, 6), uri)
	c := newCLI(t)
	for _, kv := range session {
		k, v, _ := strings.Cut(kv, "=")
		c.env[k] = v
		t.Setenv(k, v) // grim and wl-paste run with the process environment
	}
	t.Setenv("DISPLAY", "")
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")

	if got := c.ok("", "add", "--scan"); got != "added WaylandBank (fay)\n" {
		t.Fatalf("add --scan printed %q", got)
	}
	if got, want := strings.TrimSpace(c.ok("", "code", "waylandbank")), oathtool(t, secret, testNow); got != want {
		t.Fatalf("code = %q, oathtool says %q", got, want)
	}

	// The clipboard: a PNG put there by wl-copy, which serves it until the
	// next copy (it forks into the background and exits when replaced).
	tuitest.Need(t, "wl-copy")
	clip := "otpauth://totp/WlClip:gus?secret=KRSXG5CTMVRXEZLU&issuer=WlClip"
	png, err := os.Open(tuitest.QRPNG(t, clip, 4))
	if err != nil {
		t.Fatal(err)
	}
	defer png.Close()
	copyCmd := exec.Command("wl-copy", "--type", "image/png")
	copyCmd.Stdin = png
	// No pipes: the background wl-copy would hold them open.
	if err := copyCmd.Run(); err != nil {
		t.Fatalf("wl-copy: %v", err)
	}
	t.Cleanup(func() { exec.Command("wl-copy", "--clear").Run() })
	if got := c.ok("", "add", "--clipboard"); got != "added WlClip (gus)\n" {
		t.Fatalf("add --clipboard printed %q", got)
	}
	if got, want := strings.TrimSpace(c.ok("", "code", "wlclip")), oathtool(t, "KRSXG5CTMVRXEZLU", testNow); got != want {
		t.Fatalf("code = %q, oathtool says %q", got, want)
	}
}
