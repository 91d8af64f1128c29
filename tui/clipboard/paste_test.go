package clipboard

import (
	"context"
	"errors"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// fakePasteRun answers argv from a table keyed by the joined argv.
func fakePasteRun(answers map[string]string) PasteRunner {
	return func(_ context.Context, argv ...string) ([]byte, error) {
		out, ok := answers[strings.Join(argv, " ")]
		if !ok {
			return nil, errors.New("no such target")
		}
		return []byte(out), nil
	}
}

func TestPasterPrefersImage(t *testing.T) {
	p := XclipPaster
	p.Run = fakePasteRun(map[string]string{
		"xclip -selection clipboard -t TARGETS -o":   "TARGETS\nUTF8_STRING\nimage/jpeg\nimage/png\n",
		"xclip -selection clipboard -t image/png -o": "\x89PNG",
	})
	c, err := p.Paste(context.Background())
	if err != nil || string(c.Image) != "\x89PNG" {
		t.Fatalf("Paste = %+v, %v", c, err)
	}
	p.Run = fakePasteRun(map[string]string{
		"wl-paste --list-types":                   "text/plain\n",
		"wl-paste --no-newline --type text/plain": "otpauth://totp/x",
	})
	p.Types, p.Text = WlPaster.Types, WlPaster.Text
	if c, err := p.Paste(context.Background()); err != nil || c.Text != "otpauth://totp/x" || c.Image != nil {
		t.Fatalf("text Paste = %+v, %v", c, err)
	}
}

func TestMacAndWindowsPasters(t *testing.T) {
	m := MacPaster{Run: fakePasteRun(map[string]string{
		"osascript -e the clipboard as «class PNGf»": "«data PNGf89504E47»\n",
	})}
	if c, err := m.Paste(context.Background()); err != nil || string(c.Image) != "\x89PNG" {
		t.Fatalf("mac image = %+v, %v", c, err)
	}
	m = MacPaster{Run: fakePasteRun(map[string]string{"pbpaste": "otpauth://totp/y"})}
	if c, err := m.Paste(context.Background()); err != nil || c.Text != "otpauth://totp/y" {
		t.Fatalf("mac text = %+v, %v", c, err)
	}
	w := WindowsPaster{Run: func(_ context.Context, argv ...string) ([]byte, error) {
		if argv[0] != "powershell.exe" || !strings.Contains(argv[len(argv)-1], "Get-Clipboard -Format Image") {
			t.Fatalf("argv = %q", argv)
		}
		return []byte("image:iVBORw==\r\n"), nil
	}}
	if c, err := w.Paste(context.Background()); err != nil || string(c.Image) != "\x89PNG" {
		t.Fatalf("windows image = %+v, %v", c, err)
	}
}

func TestDetectSource(t *testing.T) {
	env := func(goos string, vars map[string]string, progs ...string) Env {
		return Env{GOOS: goos, Getenv: func(k string) string { return vars[k] }, LookPath: func(p string) (string, error) {
			if slices.Contains(progs, p) {
				return p, nil
			}
			return "", exec.ErrNotFound
		}}
	}
	for _, tc := range []struct {
		env  Env
		want string
	}{
		{env("linux", map[string]string{"WAYLAND_DISPLAY": "w", "DISPLAY": ":0"}, "wl-paste", "xclip"), "wl-paste"},
		{env("linux", map[string]string{"DISPLAY": ":0"}, "xclip"), "xclip"},
		{env("linux", map[string]string{"DISPLAY": ":0"}), "install wl-clipboard (Wayland) or xclip"},
		{env("linux", map[string]string{"DISPLAY": ":0", "SSH_TTY": "/dev/pts/1"}, "xclip"), "over SSH"},
		{env("darwin", nil), "osascript and pbpaste"},
		{env("windows", nil), "PowerShell"},
	} {
		s, err := DetectSource(tc.env)
		got := ""
		if err != nil {
			got = err.Error()
		} else {
			got = s.String()
		}
		if !strings.Contains(got, tc.want) {
			t.Errorf("DetectSource = %q, want %q", got, tc.want)
		}
	}
}
