package clipboard

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/tui/tuitest"
)

func TestOSC52Sequence(t *testing.T) {
	b64 := base64.StdEncoding.EncodeToString([]byte("123456"))
	tests := []struct {
		name string
		o    OSC52
		want string
	}{
		{"plain", OSC52{}, "\x1b]52;c;" + b64 + "\a"},
		{"tmux", OSC52{Tmux: true}, "\x1b]52;c;" + b64 + "\a" + "\x1bPtmux;\x1b\x1b]52;c;" + b64 + "\a\x1b\\"},
		{"screen", OSC52{Screen: true}, "\x1bP\x1b]52;c;" + b64 + "\a\x1b\\"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			tt.o.W = &buf
			where, err := tt.o.Copy(context.Background(), "123456")
			if err != nil {
				t.Fatal(err)
			}
			if got := buf.String(); got != tt.want {
				t.Errorf("wrote %q, want %q", got, tt.want)
			}
			if !strings.Contains(where, "OSC 52") {
				t.Errorf("where = %q, want it to name OSC 52", where)
			}
			if _, err := tt.o.ClearIf(context.Background(), "123456"); !errors.Is(err, ErrUnreadable) {
				t.Errorf("ClearIf error = %v, want ErrUnreadable", err)
			}
		})
	}
}

func TestDetect(t *testing.T) {
	term := &bytes.Buffer{}
	all := func(string) (string, error) { return "/usr/bin/x", nil }
	none := func(string) (string, error) { return "", exec.ErrNotFound }
	only := func(names ...string) func(string) (string, error) {
		return func(n string) (string, error) {
			for _, m := range names {
				if n == m {
					return "/usr/bin/" + n, nil
				}
			}
			return "", exec.ErrNotFound
		}
	}
	tests := []struct {
		name string
		env  map[string]string
		look func(string) (string, error)
		goos string
		want string
	}{
		{"x11", map[string]string{"DISPLAY": ":0"}, all, "linux", "xclip, then xsel, then OSC 52"},
		{"x11 xsel only", map[string]string{"DISPLAY": ":0"}, only("xsel"), "linux", "xsel, then OSC 52"},
		{"wayland", map[string]string{"WAYLAND_DISPLAY": "wayland-0", "DISPLAY": ":0"}, all, "linux", "wl-copy, then xclip, then xsel, then OSC 52"},
		{"ssh", map[string]string{"DISPLAY": ":0", "SSH_TTY": "/dev/pts/3"}, all, "linux", "OSC 52"},
		{"ssh connection", map[string]string{"SSH_CONNECTION": "10.0.0.1 5 10.0.0.2 22"}, all, "linux", "OSC 52"},
		{"ssh in tmux", map[string]string{"SSH_CLIENT": "10.0.0.1 5 22", "TMUX": "/tmp/tmux-0/default,1,0"}, all, "linux", "OSC 52 via tmux"},
		{"tmux local", map[string]string{"DISPLAY": ":0", "TMUX": "/tmp/tmux-0/default,1,0"}, only("xclip"), "linux", "xclip and OSC 52 via tmux"},
		{"screen", map[string]string{"STY": "123.pts-0"}, none, "linux", "OSC 52 via screen"},
		{"headless", map[string]string{}, all, "linux", "OSC 52"},
		{"no helper", map[string]string{"DISPLAY": ":0"}, none, "linux", "OSC 52"},
		{"macos", map[string]string{}, all, "darwin", "pbcopy, then OSC 52"},
		{"windows", map[string]string{}, all, "windows", "clip.exe, then OSC 52"},
		{"wsl", map[string]string{"WSL_DISTRO_NAME": "Ubuntu"}, only("clip.exe"), "linux", "clip.exe, then OSC 52"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := Detect(Env{Getenv: func(k string) string { return tt.env[k] }, LookPath: tt.look, GOOS: tt.goos, Terminal: term})
			if got := Describe(c); got != tt.want {
				t.Errorf("Detect = %q, want %q", got, tt.want)
			}
		})
	}
	t.Run("no terminal", func(t *testing.T) {
		c := Detect(Env{Getenv: func(string) string { return "" }, LookPath: none, GOOS: "linux"})
		if _, err := c.Copy(context.Background(), "1"); !errors.Is(err, ErrNoClipboard) {
			t.Errorf("Copy with nothing available: err = %v, want ErrNoClipboard", err)
		}
	})
}

// fakeHelper writes shell scripts that keep "the clipboard" in a file, so
// Command runs real processes without a display.
func fakeHelper(t *testing.T, failCopy bool) (Command, string) {
	t.Helper()
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	dir := t.TempDir()
	store := filepath.Join(dir, "clip")
	copyScript := "#!/bin/sh\ncat > " + store + "\n"
	if failCopy {
		copyScript = "#!/bin/sh\necho 'cannot open display' >&2\nexit 1\n"
	}
	write := func(name, body string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(body), 0o755); err != nil {
			t.Fatal(err)
		}
		return p
	}
	c := Command{
		Name:      "fakeclip",
		CopyArgs:  []string{write("copy", copyScript)},
		PasteArgs: []string{write("paste", "#!/bin/sh\ncat "+store+" 2>/dev/null\n")},
	}
	return c, store
}

func TestCommandCopyAndClearIf(t *testing.T) {
	ctx := context.Background()
	c, store := fakeHelper(t, false)
	where, err := c.Copy(ctx, "482913")
	if err != nil {
		t.Fatal(err)
	}
	if where != "fakeclip" {
		t.Errorf("where = %q", where)
	}
	if b, _ := os.ReadFile(store); string(b) != "482913" {
		t.Fatalf("clipboard holds %q, want the code", b)
	}

	// The user copied something else since: it must survive.
	if _, err := c.Copy(ctx, "my own text"); err != nil {
		t.Fatal(err)
	}
	cleared, err := c.ClearIf(ctx, "482913")
	if err != nil || cleared {
		t.Fatalf("ClearIf over the user's text = %v, %v; want false, nil", cleared, err)
	}
	if b, _ := os.ReadFile(store); string(b) != "my own text" {
		t.Fatalf("the user's text was replaced by %q", b)
	}

	if _, err := c.Copy(ctx, "482913"); err != nil {
		t.Fatal(err)
	}
	cleared, err = c.ClearIf(ctx, "482913")
	if err != nil || !cleared {
		t.Fatalf("ClearIf over Sesame's code = %v, %v; want true, nil", cleared, err)
	}
	if b, _ := os.ReadFile(store); len(b) != 0 {
		t.Fatalf("clipboard still holds %q after clearing", b)
	}
}

func TestFallbackAndBoth(t *testing.T) {
	ctx := context.Background()
	broken, _ := fakeHelper(t, true)
	working, store := fakeHelper(t, false)
	var term bytes.Buffer
	osc := OSC52{W: &term}

	where, err := Fallback{broken, osc}.Copy(ctx, "111222")
	if err != nil || !strings.Contains(where, "OSC 52") {
		t.Fatalf("fallback past a broken helper: %q, %v", where, err)
	}
	if !bytes.Contains(term.Bytes(), []byte(base64.StdEncoding.EncodeToString([]byte("111222")))) {
		t.Errorf("OSC 52 fallback wrote %q", term.Bytes())
	}

	term.Reset()
	where, err = Fallback{working, osc}.Copy(ctx, "333444")
	if err != nil || where != "fakeclip" || term.Len() != 0 {
		t.Fatalf("fallback with a working helper: %q, %v, terminal got %q", where, err, term.Bytes())
	}

	where, err = Both{working, osc}.Copy(ctx, "555666")
	if err != nil || where != "fakeclip and terminal (OSC 52)" {
		t.Fatalf("both: %q, %v", where, err)
	}
	if b, _ := os.ReadFile(store); string(b) != "555666" || term.Len() == 0 {
		t.Fatalf("both: helper has %q, terminal got %q", b, term.Bytes())
	}
	cleared, err := Both{working, osc}.ClearIf(ctx, "555666")
	if err != nil || !cleared {
		t.Fatalf("both ClearIf = %v, %v", cleared, err)
	}
	if _, err := (Both{broken}).Copy(ctx, "1"); err == nil {
		t.Fatal("Both with only broken helpers succeeded")
	}
}

// TestXclip copies through the real xclip into a real (virtual) X server and
// reads the selection back with a separate xclip process.
func TestXclip(t *testing.T) {
	tuitest.Need(t, "xclip")
	display := tuitest.Xvfb(t)
	t.Setenv("DISPLAY", display)
	ctx := context.Background()
	c := Detect(Env{Getenv: func(k string) string {
		if k == "DISPLAY" {
			return display
		}
		return ""
	}})
	if got := Describe(c); !strings.HasPrefix(got, "xclip") {
		t.Fatalf("Detect under X11 = %q, want xclip first", got)
	}
	where, err := c.Copy(ctx, "907132")
	if err != nil {
		t.Fatal(err)
	}
	if where != "xclip" {
		t.Errorf("where = %q", where)
	}
	var out []byte
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if out, err = exec.Command("xclip", "-selection", "clipboard", "-out").Output(); err == nil && string(out) == "907132" {
			break
		}
		time.Sleep(20 * time.Millisecond) // polling interval
	}
	if string(out) != "907132" {
		t.Fatalf("xclip -out = %q, %v; want the code", out, err)
	}
	cleared, err := c.ClearIf(ctx, "907132")
	if err != nil || !cleared {
		t.Fatalf("ClearIf = %v, %v", cleared, err)
	}
	out, _ = exec.Command("xclip", "-selection", "clipboard", "-out").Output()
	if regexp.MustCompile(`\d`).Match(out) {
		t.Fatalf("the clipboard still holds %q after clearing", out)
	}
}
