//go:build !lean

package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/tui/tuitest"
	"github.com/sesame-auth/sesame/vault"
)

// oathtool is the yardstick TOTP code of a base32 secret at now.
func oathtool(t *testing.T, secret string, now time.Time) string {
	t.Helper()
	tuitest.Need(t, "oathtool")
	out, err := exec.Command("oathtool", "--totp", "-b", "-N", fmt.Sprintf("@%d", now.Unix()), secret).Output()
	if err != nil {
		t.Fatalf("oathtool: %v", err)
	}
	return strings.TrimSpace(string(out))
}

// TestScanScreenX11 runs `sesame add --scan` and `--clipboard` against a
// real X server (Xvfb, 1920×1080) with real windows showing QR codes made
// by qrencode, and the real xclip.
func TestScanScreenX11(t *testing.T) {
	display := tuitest.XvfbScreen(t, "1920x1080x24")
	withX := func(t *testing.T) *cli {
		c := newCLI(t)
		c.env["DISPLAY"] = display
		return c
	}
	noVault := func(t *testing.T, c *cli) {
		if _, err := os.Stat(filepath.Join(c.home, vault.FileName)); !os.IsNotExist(err) {
			t.Fatalf("a vault was written: %v", err)
		}
	}

	t.Run("no code", func(t *testing.T) {
		c := withX(t)
		r := c.run("", "add", "--scan")
		if r.code != 1 || !strings.Contains(r.stderr, "no QR code found on the screen") || r.stdout != "" {
			t.Fatalf("empty screen: %+v", r)
		}
		noVault(t, c)
	})

	t.Run("one code", func(t *testing.T) {
		const secret = "JBSWY3DPEHPK3PXPJBSWY3DP"
		uri := "otpauth://totp/ScanBank:alice@example.com?secret=" + secret + "&issuer=ScanBank"
		defer tuitest.ShowImage(t, display, tuitest.QRPNG(t, uri, 6), 700, 300, uri)()
		c := withX(t)
		if got := c.ok("", "add", "--scan"); got != "added ScanBank (alice@example.com)\n" {
			t.Fatalf("add --scan printed %q", got)
		}
		if got, want := strings.TrimSpace(c.ok("", "code", "scanbank")), oathtool(t, secret, testNow); got != want {
			t.Fatalf("code = %q, oathtool says %q", got, want)
		}
		if got := c.ok("", "list"); strings.Count(got, "\n") != 2 || strings.Count(got, "ScanBank") != 1 {
			t.Fatalf("list after one scan:\n%s", got)
		}
	})

	t.Run("two codes", func(t *testing.T) {
		a := "otpauth://totp/Left:ann?secret=JBSWY3DPEHPK3PXP&issuer=Left"
		b := "otpauth://totp/Right:bob?secret=KRSXG5CTMVRXEZLU&issuer=Right"
		defer tuitest.ShowImage(t, display, tuitest.QRPNG(t, a, 5), 100, 200, a)()
		defer tuitest.ShowImage(t, display, tuitest.QRPNG(t, b, 5), 1200, 500, b)()
		c := withX(t)
		r := c.run("", "add", "--scan")
		if r.code != 2 || !strings.Contains(r.stderr, "2 accounts found on the screen: give --all") {
			t.Fatalf("two codes without --all, no terminal: %+v", r)
		}
		noVault(t, c)
		if got := c.ok("", "add", "--scan", "--all"); got != "added Left (ann)\nadded Right (bob)\n" {
			t.Fatalf("add --scan --all printed %q", got)
		}
	})

	t.Run("web link", func(t *testing.T) {
		link := "https://example.com/enrol?token=abc123"
		defer tuitest.ShowImage(t, display, tuitest.QRPNG(t, link, 6), 500, 400, link)()
		c := withX(t)
		r := c.run("", "add", "--scan")
		if r.code != 1 || !strings.Contains(r.stderr, "web link") || !strings.Contains(r.stderr, "https://example.com") ||
			strings.Contains(r.stderr, "abc123") {
			t.Fatalf("web link: %+v", r)
		}
		noVault(t, c)
	})

	t.Run("clipboard image", func(t *testing.T) {
		uri := "otpauth://totp/ClipBank:carol?secret=KRSXG5CTMVRXEZLU&issuer=ClipBank"
		t.Setenv("DISPLAY", display) // xclip runs with the process environment
		hold(t, display, "image/png", tuitest.QRPNG(t, uri, 4))
		c := withX(t)
		if got := c.ok("", "add", "--clipboard"); got != "added ClipBank (carol)\n" {
			t.Fatalf("add --clipboard printed %q", got)
		}
		if got, want := strings.TrimSpace(c.ok("", "code", "clipbank")), oathtool(t, "KRSXG5CTMVRXEZLU", testNow); got != want {
			t.Fatalf("code = %q, oathtool says %q", got, want)
		}
	})

	t.Run("clipboard text", func(t *testing.T) {
		uri := "otpauth://totp/TextBank:dan?secret=JBSWY3DPEHPK3PXP&issuer=TextBank"
		p := filepath.Join(t.TempDir(), "uri.txt")
		os.WriteFile(p, []byte(uri+"\n"), 0o600)
		t.Setenv("DISPLAY", display)
		hold(t, display, "UTF8_STRING", p)
		c := withX(t)
		if got := c.ok("", "add", "--clipboard"); got != "added TextBank (dan)\n" {
			t.Fatalf("add --clipboard printed %q", got)
		}
	})
}

// hold puts the file on the X clipboard as typ with a real xclip that stays
// in the foreground until the test ends, and waits until it is offered
// (up to 30 s: on a loaded machine, once, 10 s were not enough).
func hold(t *testing.T, display, typ, file string) {
	t.Helper()
	tuitest.Need(t, "xclip")
	cmd := exec.Command("xclip", "-quiet", "-selection", "clipboard", "-t", typ, "-i", file)
	cmd.Env = append(os.Environ(), "DISPLAY="+display)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})
	deadline := time.Now().Add(30 * time.Second)
	var out []byte
	var err error
	for time.Now().Before(deadline) {
		select {
		case werr := <-exited:
			exited <- werr // for the cleanup
			t.Fatalf("the xclip holding %s ended (%v) before it was offered: %s", typ, werr, stderr.String())
		default:
		}
		q := exec.Command("xclip", "-selection", "clipboard", "-t", "TARGETS", "-o")
		q.Env = cmd.Env
		if out, err = q.Output(); err == nil && strings.Contains(string(out), typ) {
			return
		}
		time.Sleep(50 * time.Millisecond) // polling interval
	}
	t.Fatalf("xclip did not offer %s within 30s: TARGETS gave %q (%v)", typ, out, err)
}

// TestScanScreen4K scans a 3840×2160 X screen with one code.
func TestScanScreen4K(t *testing.T) {
	t.Parallel() // no process-wide state: it can run beside the tests that wait
	display := tuitest.XvfbScreen(t, "3840x2160x24")
	uri := "otpauth://totp/WideBank:erin?secret=JBSWY3DPEHPK3PXP&issuer=WideBank"
	defer tuitest.ShowImage(t, display, tuitest.QRPNG(t, uri, 6), 3000, 1500, uri)()
	c := newCLI(t)
	c.env["DISPLAY"] = display
	if got := c.ok("", "add", "--scan"); got != "added WideBank (erin)\n" {
		t.Fatalf("add --scan printed %q", got)
	}
}
