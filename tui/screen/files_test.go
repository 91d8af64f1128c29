//go:build linux

package screen

import (
	"bufio"
	"context"
	"errors"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

// privateBus starts a dbus-daemon of its own for the test and returns its
// address. It fails when CI is set and dbus-daemon is missing.
func privateBus(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("dbus-daemon"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("dbus-daemon is not installed; .ci/run must install it (dbus-daemon)")
		}
		t.Skip("dbus-daemon is not installed")
	}
	sock := filepath.Join(t.TempDir(), "bus")
	cmd := exec.Command("dbus-daemon", "--session", "--nofork", "--nopidfile", "--print-address=1", "--address=unix:path="+sock)
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	addr, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("dbus-daemon printed no address: %v", err)
	}
	return strings.TrimSpace(addr)
}

func connect(t *testing.T, addr string) *dbus.Conn {
	t.Helper()
	c, err := dbus.Connect(addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// fakePortal is the desktop's org.freedesktop.portal.Screenshot, answering
// each request the way xdg-desktop-portal does: the Request object's
// Response signal with the picture's file:// URI, or a refusal.
type fakePortal struct {
	conn  *dbus.Conn
	code  uint32 // 0 takes the picture; 1 is the user's (or desktop's) no
	file  string // where the picture is written
	quiet bool   // never answer
	asked chan map[string]dbus.Variant
}

func (p *fakePortal) Screenshot(sender dbus.Sender, parent string, opts map[string]dbus.Variant) (dbus.ObjectPath, *dbus.Error) {
	p.asked <- opts
	token, _ := opts["handle_token"].Value().(string)
	path := dbus.ObjectPath("/org/freedesktop/portal/desktop/request/" + strings.ReplaceAll(strings.TrimPrefix(string(sender), ":"), ".", "_") + "/" + token)
	if p.quiet {
		return path, nil
	}
	results := map[string]dbus.Variant{}
	if p.code == 0 {
		results["uri"] = dbus.MakeVariant("file://" + p.file)
	}
	go func() { _ = p.conn.Emit(path, "org.freedesktop.portal.Request.Response", p.code, results) }()
	return path, nil
}

func startPortal(t *testing.T, addr string, p *fakePortal) {
	t.Helper()
	p.conn = connect(t, addr)
	p.asked = make(chan map[string]dbus.Variant, 1)
	if err := p.conn.Export(p, "/org/freedesktop/portal/desktop", "org.freedesktop.portal.Screenshot"); err != nil {
		t.Fatal(err)
	}
	if reply, err := p.conn.RequestName("org.freedesktop.portal.Desktop", dbus.NameFlagDoNotQueue); err != nil || reply != dbus.RequestNameReplyPrimaryOwner {
		t.Fatalf("own the portal's name: %v %v", reply, err)
	}
}

func writePNG(t *testing.T, path string, w, h int) {
	t.Helper()
	img := image.NewGray(image.Rect(0, 0, w, h))
	img.Set(1, 1, color.White)
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	if err := png.Encode(f, img); err != nil {
		t.Fatal(err)
	}
	if err := f.Close(); err != nil {
		t.Fatal(err)
	}
}

// The portal's picture is read over a real D-Bus exchange, and the file the
// portal left (in the user's Pictures folder, on a real desktop) is removed.
func TestPortalCapture(t *testing.T) {
	addr := privateBus(t)
	file := filepath.Join(t.TempDir(), "Screenshot.png")
	writePNG(t, file, 64, 48)
	p := &fakePortal{file: file}
	startPortal(t, addr, p)

	imgs, err := Portal{Address: addr}.Capture(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(imgs) != 1 || imgs[0].Bounds().Dx() != 64 || imgs[0].Bounds().Dy() != 48 {
		t.Fatalf("got %d images (%v), want the 64×48 picture", len(imgs), imgs)
	}
	if opts := <-p.asked; opts["interactive"].Value() != false {
		t.Errorf("asked for an interactive screenshot: %v", opts)
	}
	if _, err := os.Stat(file); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the screenshot file is still there (%v): it may hold a secret", err)
	}
}

func TestPortalRefused(t *testing.T) {
	addr := privateBus(t)
	startPortal(t, addr, &fakePortal{code: 1})
	_, err := Portal{Conn: connect(t, addr)}.Capture(context.Background())
	if !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "privacy settings") {
		t.Fatalf("err = %v, want a refusal that says where to allow it", err)
	}
}

func TestPortalMissing(t *testing.T) {
	addr := privateBus(t)
	_, err := Portal{Conn: connect(t, addr)}.Capture(context.Background())
	if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "install xdg-desktop-portal") {
		t.Fatalf("err = %v, want one that names what to install", err)
	}
}

// Without a session bus there is no portal to ask, and none is started.
func TestPortalWithoutBus(t *testing.T) {
	for _, addr := range []string{"", "unix:path=" + filepath.Join(t.TempDir(), "bus")} {
		_, err := Portal{Address: addr}.Capture(context.Background())
		if !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "session bus") {
			t.Errorf("address %q: err = %v, want one that says there is no session bus", addr, err)
		}
	}
}

func TestPortalNeverAnswers(t *testing.T) {
	addr := privateBus(t)
	startPortal(t, addr, &fakePortal{quiet: true})
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_, err := Portal{Conn: connect(t, addr)}.Capture(ctx)
	if err == nil || !strings.Contains(err.Error(), "did not answer") {
		t.Fatalf("err = %v, want one that says the portal did not answer", err)
	}
}

// grim is run as `grim -t png -` and its picture read from its output; its
// complaint (a compositor without the screencopy protocol) is passed on.
func TestGrim(t *testing.T) {
	dir := t.TempDir()
	writePNG(t, filepath.Join(dir, "shot.png"), 32, 16)
	script := "#!/bin/sh\n" +
		`[ "$*" = "-t png -" ] || { echo "unexpected arguments: $*" >&2; exit 2; }` + "\n" +
		`[ -n "$GRIM_FAIL" ] && { echo "compositor doesn't support wlr-screencopy-unstable-v1" >&2; exit 1; }` + "\n" +
		"exec cat " + filepath.Join(dir, "shot.png") + "\n"
	if err := os.WriteFile(filepath.Join(dir, "grim"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	imgs, err := Grim{}.Capture(context.Background())
	if err != nil || len(imgs) != 1 || imgs[0].Bounds().Dx() != 32 {
		t.Fatalf("got %v, %v; want the 32×16 picture", imgs, err)
	}
	t.Setenv("GRIM_FAIL", "1")
	if _, err := (Grim{}).Capture(context.Background()); err == nil || !strings.Contains(err.Error(), "wlr-screencopy") {
		t.Fatalf("err = %v, want grim's own words", err)
	}
}

// macOS: screencapture writes one file per display into a private folder,
// which is gone afterwards; a capture refused for want of the Screen
// Recording permission writes nothing, and the message says where to allow it.
func TestScreencapture(t *testing.T) {
	dir := t.TempDir()
	writePNG(t, filepath.Join(dir, "shot.png"), 24, 12)
	// Two displays: the first two paths get a picture. The folder they are
	// in is recorded, to check it was private and is removed.
	script := "#!/bin/sh\n" +
		`[ "$1 $2 $3" = "-x -t png" ] || { echo "unexpected arguments: $*" >&2; exit 2; }` + "\n" +
		`[ -n "$DENY" ] && { echo "could not create image from display" >&2; exit 1; }` + "\n" +
		`shift 3; stat -c %a "$(dirname "$1")" > ` + filepath.Join(dir, "mode") + "\n" +
		`echo "$(dirname "$1")" > ` + filepath.Join(dir, "folder") + "\n" +
		`cp ` + filepath.Join(dir, "shot.png") + ` "$1"; cp ` + filepath.Join(dir, "shot.png") + ` "$2"` + "\n"
	if err := os.WriteFile(filepath.Join(dir, "screencapture"), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	imgs, err := macOS{}.Capture(context.Background())
	if err != nil || len(imgs) != 2 {
		t.Fatalf("got %d images, %v; want one per display (2)", len(imgs), err)
	}
	if mode, _ := os.ReadFile(filepath.Join(dir, "mode")); strings.TrimSpace(string(mode)) != "700" {
		t.Errorf("the capture folder had mode %q, want 700", mode)
	}
	folder, _ := os.ReadFile(filepath.Join(dir, "folder"))
	if _, err := os.Stat(strings.TrimSpace(string(folder))); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the capture folder %s is still there (%v)", folder, err)
	}
	t.Setenv("DENY", "1")
	if _, err := (macOS{}).Capture(context.Background()); !errors.Is(err, ErrRefused) || !strings.Contains(err.Error(), "Screen Recording") {
		t.Fatalf("err = %v, want a refusal that names the Screen Recording setting", err)
	}
}
