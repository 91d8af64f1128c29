package screen

import (
	"context"
	"errors"
	"image"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/sesame-auth/sesame/vault/qrcode"
)

func TestDetect(t *testing.T) {
	env := func(goos string, vars map[string]string, progs ...string) Env {
		return Env{
			GOOS:   goos,
			Getenv: func(k string) string { return vars[k] },
			LookPath: func(p string) (string, error) {
				for _, q := range progs {
					if p == q {
						return "/usr/bin/" + p, nil
					}
				}
				return "", exec.ErrNotFound
			},
		}
	}
	for _, tc := range []struct {
		name string
		env  Env
		want string // String() of the capturer, or part of the error
	}{
		{"x11", env("linux", map[string]string{"DISPLAY": ":0"}), "X11"},
		{"wayland portal and grim", env("linux", map[string]string{"WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":0", "XDG_RUNTIME_DIR": "/run/user/1"}, "grim"), "the Screenshot portal, then grim"},
		{"wayland grim only", env("linux", map[string]string{"WAYLAND_DISPLAY": "wayland-0"}, "grim"), "grim"},
		{"wayland nothing", env("linux", map[string]string{"WAYLAND_DISPLAY": "wayland-0"}), "Screenshot portal (xdg-desktop-portal, on a D-Bus session) or grim"},
		{"no session", env("linux", nil), "neither DISPLAY (X11) nor WAYLAND_DISPLAY (Wayland) is set"},
		{"macos", env("darwin", nil, "screencapture"), "screencapture"},
		{"macos without screencapture", env("darwin", nil), "screencapture is missing"},
		{"windows", env("windows", nil), "GDI"},
	} {
		c, err := Detect(tc.env)
		got := ""
		if err != nil {
			if !errors.Is(err, ErrUnsupported) {
				t.Errorf("%s: error %v is not ErrUnsupported", tc.name, err)
			}
			got = err.Error()
		} else {
			got = c.String()
		}
		if !strings.Contains(got, tc.want) {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestPixelReader(t *testing.T) {
	row := []byte{10, 20, 30, 0}
	px, err := pixelReader(24, 32, false)
	if err != nil {
		t.Fatal(err)
	}
	if r, g, b := px(row, 0); r != 30 || g != 20 || b != 10 {
		t.Errorf("24-bit LSB pixel = %d,%d,%d", r, g, b)
	}
	px, _ = pixelReader(16, 16, false)
	if r, g, b := px([]byte{0xff, 0xff}, 0); r != 255 || g != 255 || b != 255 {
		t.Errorf("16-bit white = %d,%d,%d", r, g, b)
	}
	if _, err := pixelReader(8, 8, false); !errors.Is(err, ErrUnsupported) {
		t.Errorf("8-bit screen: %v", err)
	}
}

type shots []image.Image

func (s shots) Capture(context.Context) ([]image.Image, error) { return s, nil }
func (shots) String() string                                   { return "fake" }

func TestScanEmptyAndHuge(t *testing.T) {
	blank := image.NewGray(image.Rect(0, 0, 800, 600))
	if _, err := Scan(context.Background(), shots{blank, blank}); !errors.Is(err, ErrNoCode) || !strings.Contains(err.Error(), "no QR code found on the screen") {
		t.Fatalf("blank screens: %v", err)
	}
	huge := image.NewGray(image.Rect(0, 0, 1, qrcode.MaxDimension+1))
	if _, err := Scan(context.Background(), shots{huge}); !errors.Is(err, qrcode.ErrImageTooLarge) {
		t.Fatalf("huge screen: %v", err)
	}
}

func TestMonitorRects(t *testing.T) {
	r := image.Rect
	for _, tc := range []struct {
		name   string
		bounds []image.Rectangle
		want   []image.Rectangle
		err    string
	}{
		{"one", []image.Rectangle{r(0, 0, 1920, 1080)}, []image.Rectangle{r(0, 0, 1920, 1080)}, ""},
		{"left of the primary", []image.Rectangle{r(0, 0, 1920, 1080), r(-2560, -200, 0, 1240)},
			[]image.Rectangle{r(0, 0, 1920, 1080), r(-2560, -200, 0, 1240)}, ""},
		{"mirrored and empty", []image.Rectangle{r(0, 0, 1920, 1080), {}, r(0, 0, 1920, 1080), r(0, 0, 1280, 720)},
			[]image.Rectangle{r(0, 0, 1920, 1080)}, ""},
		{"none", []image.Rectangle{{}}, nil, "no monitor"},
		{"too wide", []image.Rectangle{r(0, 0, qrcode.MaxDimension+1, 10)}, nil, "a monitor is 16385×10 pixels"},
		{"too many pixels together", []image.Rectangle{r(0, 0, 7680, 4320), r(7680, 0, 15360, 4320)}, nil,
			"the monitors span 15360×4320 pixels, over 40 million in all"},
	} {
		got, err := monitorRects(tc.bounds)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%s: error %v, want %q", tc.name, err, tc.err)
			}
			if strings.Contains(tc.err, "pixels") && !errors.Is(err, qrcode.ErrImageTooLarge) {
				t.Errorf("%s: %v is not ErrImageTooLarge", tc.name, err)
			}
			continue
		}
		if err != nil || !slices.Equal(got, tc.want) {
			t.Errorf("%s: %v, %v; want %v", tc.name, got, err, tc.want)
		}
	}
}

func TestGDIOnlyOnWindows(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("this checks the message on other systems")
	}
	if _, err := (GDI{}).Capture(context.Background()); !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), "only on Windows") {
		t.Fatalf("GDI capture off Windows: %v", err)
	}
}

func TestPlaceAndAside(t *testing.T) {
	r := image.Rect
	one := []image.Rectangle{r(0, 0, 1920, 1080)}
	two := []image.Rectangle{r(0, 0, 1920, 1080), r(1920, 0, 3840, 1080)}
	for _, tc := range []struct {
		name    string
		term    image.Rectangle
		shown   bool
		screens []image.Rectangle
		want    Place
		aside   Aside
	}{
		{"full screen", r(0, 0, 1920, 1080), true, one, PlaceCovers, AsideFirst},
		{"larger than the screen", r(-4, -20, 1930, 1100), true, one, PlaceCovers, AsideFirst},
		{"a window", r(100, 100, 900, 700), true, one, PlaceBeside, AsideIfNone},
		{"one of two monitors", r(0, 0, 1920, 1080), true, two, PlaceBeside, AsideIfNone},
		{"iconified", r(0, 0, 1920, 1080), false, one, PlaceAway, StayPut},
		{"off the screen", r(2000, 0, 2600, 400), true, one, PlaceAway, StayPut},
		{"no size", image.Rectangle{}, true, one, PlaceAway, StayPut},
	} {
		p := placeOf(tc.term, tc.shown, tc.screens)
		if p != tc.want || AsideFor(p) != tc.aside {
			t.Errorf("%s: place %v, aside %v; want %v, %v", tc.name, p, AsideFor(p), tc.want, tc.aside)
		}
	}
	if AsideFor(PlaceUnknown) != AsideIfNone {
		t.Errorf("unknown place: %v, want AsideIfNone", AsideFor(PlaceUnknown))
	}
}

type placed struct {
	shots
	place Place
}

func (p placed) Locate(context.Context) (Place, error) { return p.place, nil }

// With no code, a terminal covering the screen is named as the reason; the
// error is still ErrNoCode.
func TestScanNamesCoveringTerminal(t *testing.T) {
	blank := image.NewGray(image.Rect(0, 0, 80, 60))
	_, err := Scan(context.Background(), placed{shots{blank}, PlaceCovers})
	if !errors.Is(err, ErrNoCode) || !strings.Contains(err.Error(), "your terminal covers the whole screen") {
		t.Fatalf("covered: %v", err)
	}
	_, err = Scan(context.Background(), placed{shots{blank}, PlaceBeside})
	if err != ErrNoCode {
		t.Fatalf("beside: %v", err)
	}
}
