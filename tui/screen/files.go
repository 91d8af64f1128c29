package screen

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"image"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/godbus/dbus/v5"

	"github.com/sesame-auth/sesame/vault/qrcode"
)

// captureTimeout bounds a capture program or portal that never answers, when
// the caller's context has no deadline. The portal may ask the user first.
const captureTimeout = 2 * time.Minute

// readAndRemove reads the image file a platform tool wrote and removes it,
// whether or not it could be read.
func readAndRemove(path string) (image.Image, error) {
	defer os.Remove(path)
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read the screenshot: %w", err)
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, qrcode.MaxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read the screenshot: %w", err)
	}
	return qrcode.ReadImage(data)
}

// Grim captures a Wayland desktop with grim, which writes the PNG to its
// standard output: no file.
type Grim struct{}

func (Grim) String() string { return "grim" }

// Capture runs `grim -`.
func (Grim) Capture(ctx context.Context) ([]image.Image, error) {
	ctx, cancel := context.WithTimeout(ctx, captureTimeout)
	defer cancel()
	var out, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "grim", "-t", "png", "-")
	cmd.Stdout, cmd.Stderr = &out, &stderr
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("grim: %w: %s", err, strings.TrimSpace(firstLine(stderr.String())))
	}
	img, err := qrcode.ReadImage(out.Bytes())
	if err != nil {
		return nil, fmt.Errorf("grim: %w", err)
	}
	return []image.Image{img}, nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(s, "\n")
	return s
}

// macOS captures every display with screencapture into a private temporary
// folder, removed as soon as the files are read.
type macOS struct{}

func (macOS) String() string { return "screencapture" }

func (macOS) Capture(ctx context.Context) ([]image.Image, error) {
	dir, err := os.MkdirTemp("", "sesame-scan-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	ctx, cancel := context.WithTimeout(ctx, captureTimeout)
	defer cancel()
	// One file per display; screencapture writes as many as there are.
	var paths []string
	for i := range 8 {
		paths = append(paths, filepath.Join(dir, fmt.Sprintf("screen%d.png", i)))
	}
	var stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, "screencapture", append([]string{"-x", "-t", "png"}, paths...)...)
	cmd.Stderr = &stderr
	err = cmd.Run()
	var imgs []image.Image
	for _, p := range paths {
		if _, statErr := os.Stat(p); statErr != nil {
			continue
		}
		_ = os.Chmod(p, 0o600)
		img, rerr := readAndRemove(p)
		if rerr != nil {
			return nil, rerr
		}
		imgs = append(imgs, img)
	}
	if len(imgs) == 0 {
		if err == nil {
			err = errors.New("it wrote no image")
		}
		return nil, fmt.Errorf("%w: screencapture: %v; allow your terminal to record the screen in System Settings > Privacy & Security > Screen Recording, then try again", ErrRefused, err)
	}
	return imgs, nil
}

// Portal captures through the desktop's org.freedesktop.portal.Screenshot
// D-Bus portal, which may ask the user first. The portal writes the picture
// to a file it names; Sesame reads it and removes it at once.
type Portal struct {
	// Conn is the session bus; nil connects to Address.
	Conn *dbus.Conn
	// Address is the session bus's D-Bus address. Sesame connects to that
	// bus only: it never starts one (dbus-launch) that would outlive it.
	Address string
}

func (Portal) String() string { return "the Screenshot portal" }

// Capture asks the portal for a non-interactive screenshot.
func (p Portal) Capture(ctx context.Context) ([]image.Image, error) {
	ctx, cancel := context.WithTimeout(ctx, captureTimeout)
	defer cancel()
	conn := p.Conn
	if conn == nil {
		if p.Address == "" {
			return nil, fmt.Errorf("%w: the Screenshot portal needs a D-Bus session bus, and there is none (DBUS_SESSION_BUS_ADDRESS and XDG_RUNTIME_DIR are not set)", ErrUnsupported)
		}
		c, err := dbus.Connect(p.Address, dbus.WithContext(ctx))
		if err != nil {
			return nil, fmt.Errorf("%w: the Screenshot portal: cannot connect to the D-Bus session bus at %s: %v", ErrUnsupported, p.Address, err)
		}
		defer c.Close()
		conn = c
	}
	var tok [8]byte
	_, _ = rand.Read(tok[:])
	token := "sesame" + hex.EncodeToString(tok[:])
	sender := strings.ReplaceAll(strings.TrimPrefix(conn.Names()[0], ":"), ".", "_")
	path := dbus.ObjectPath("/org/freedesktop/portal/desktop/request/" + sender + "/" + token)
	if err := conn.AddMatchSignalContext(ctx, dbus.WithMatchObjectPath(path),
		dbus.WithMatchInterface("org.freedesktop.portal.Request"), dbus.WithMatchMember("Response")); err != nil {
		return nil, fmt.Errorf("the Screenshot portal: %w", err)
	}
	signals := make(chan *dbus.Signal, 4)
	conn.Signal(signals)
	defer conn.RemoveSignal(signals)
	obj := conn.Object("org.freedesktop.portal.Desktop", "/org/freedesktop/portal/desktop")
	opts := map[string]dbus.Variant{"handle_token": dbus.MakeVariant(token), "interactive": dbus.MakeVariant(false)}
	if call := obj.CallWithContext(ctx, "org.freedesktop.portal.Screenshot.Screenshot", 0, "", opts); call.Err != nil {
		return nil, fmt.Errorf("%w: the Screenshot portal is not available (%v): install xdg-desktop-portal and your desktop's back-end, or grim", ErrUnsupported, call.Err)
	}
	for {
		select {
		case <-ctx.Done():
			return nil, fmt.Errorf("the Screenshot portal did not answer: %w", context.Cause(ctx))
		case s := <-signals:
			if s == nil || s.Path != path || len(s.Body) < 2 {
				continue
			}
			code, _ := s.Body[0].(uint32)
			results, _ := s.Body[1].(map[string]dbus.Variant)
			if code != 0 {
				return nil, fmt.Errorf("%w by the desktop: allow Sesame (your terminal) to take screenshots in your desktop's privacy settings, then try again", ErrRefused)
			}
			uri, _ := results["uri"].Value().(string)
			u, err := url.Parse(uri)
			if err != nil || u.Scheme != "file" {
				return nil, fmt.Errorf("the Screenshot portal answered with %q, not a file", uri)
			}
			img, err := readAndRemove(u.Path)
			if err != nil {
				return nil, err
			}
			return []image.Image{img}, nil
		}
	}
}
