package clipboard

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
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
		{"ssh in tmux", map[string]string{"SSH_CLIENT": "10.0.0.1 5 22", "TMUX": "/tmp/tmux-0/default,1,0"}, all, "linux", "tmux, then OSC 52 via tmux"},
		{"ssh in tmux without the tmux command", map[string]string{"SSH_CLIENT": "10.0.0.1 5 22", "TMUX": "/tmp/tmux-0/default,1,0"}, none, "linux", "OSC 52 via tmux"},
		{"tmux local", map[string]string{"DISPLAY": ":0", "TMUX": "/tmp/tmux-0/default,1,0"}, only("xclip", "tmux"), "linux", "xclip and tmux, then OSC 52 via tmux"},
		{"tmux local without the tmux command", map[string]string{"DISPLAY": ":0", "TMUX": "/tmp/tmux-0/default,1,0"}, only("xclip"), "linux", "xclip and OSC 52 via tmux"},
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
		c := Detect(Env{Getenv: func(k string) string { return map[string]string{"DISPLAY": ":0"}[k] }, LookPath: none, GOOS: "linux"})
		if _, err := c.Copy(context.Background(), "1"); !errors.Is(err, ErrNoClipboard) {
			t.Errorf("Copy with a display but no helper: err = %v, want ErrNoClipboard", err)
		}
	})
	t.Run("no display", func(t *testing.T) {
		c := Detect(Env{Getenv: func(string) string { return "" }, LookPath: all, GOOS: "linux"})
		if _, err := c.Copy(context.Background(), "1"); !errors.Is(err, ErrNoDisplay) || strings.Contains(err.Error(), "install") {
			t.Errorf("Copy without a display: err = %v, want ErrNoDisplay", err)
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
	// The clearing xclip forks before it takes the selection, as the copying
	// one did: the old text may be served until it has.
	digits := regexp.MustCompile(`\d`)
	deadline = time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		if out, _ = exec.Command("xclip", "-selection", "clipboard", "-out").Output(); !digits.Match(out) {
			return
		}
		time.Sleep(20 * time.Millisecond) // polling interval
	}
	t.Fatalf("the clipboard still holds %q 5 s after clearing", out)
}

// fakeTmux is tmux as a Runner: a paste buffer, the set-clipboard option,
// and what it would send to the outer terminal.
type fakeTmux struct {
	buffer, setClipboard string
	hasBuffer, noW       bool
	forwarded            []string
}

func (f *fakeTmux) run(_ context.Context, stdin string, argv ...string) (string, error) {
	if argv[0] != "tmux" {
		return "", errors.New("not tmux")
	}
	switch strings.Join(argv[1:], " ") {
	case "load-buffer -w -":
		if f.noW {
			return "", errors.New("tmux load-buffer: exit status 1 (command load-buffer: unknown flag -w)")
		}
		f.buffer, f.hasBuffer = stdin, true
		if f.setClipboard != "off" {
			f.forwarded = append(f.forwarded, stdin)
		}
		return "", nil
	case "load-buffer -":
		f.buffer, f.hasBuffer = stdin, true
		return "", nil
	case "show-options -gv set-clipboard":
		return f.setClipboard + "\n", nil
	case "show-buffer":
		if !f.hasBuffer {
			return "", errors.New("tmux show-buffer: exit status 1 (no buffers)")
		}
		return f.buffer, nil
	case "delete-buffer":
		f.buffer, f.hasBuffer = "", false
		return "", nil
	}
	return "", fmt.Errorf("unexpected tmux %q", argv[1:])
}

func TestTmux(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name, setClipboard string
		noW                bool
		where              string
		forwarded          bool
	}{
		{"stock options", "external", false, TmuxTerminal, true},
		{"set-clipboard on", "on", false, TmuxTerminal, true},
		{"set-clipboard off", "off", false, TmuxBuffer, false},
		{"tmux before 3.2", "external", true, TmuxOld, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := &fakeTmux{setClipboard: tc.setClipboard, noW: tc.noW}
			c := Tmux{Run: f.run}
			where, err := c.Copy(ctx, "246810")
			if err != nil {
				t.Fatal(err)
			}
			if where != tc.where {
				t.Errorf("where = %q, want %q", where, tc.where)
			}
			if f.buffer != "246810" {
				t.Errorf("tmux's buffer holds %q, want the code", f.buffer)
			}
			if got := len(f.forwarded) == 1; got != tc.forwarded {
				t.Errorf("passed on to the terminal: %v, want %v", got, tc.forwarded)
			}
			if Unreadable(where) != tc.forwarded {
				t.Errorf("Unreadable(%q) = %v", where, Unreadable(where))
			}
			cleared, err := c.ClearIf(ctx, "246810")
			if tc.setClipboard == "off" {
				if err != nil || !cleared {
					t.Errorf("ClearIf with the buffer only = %v, %v; want true, nil", cleared, err)
				}
			} else if !errors.Is(err, ErrUnreadable) {
				t.Errorf("ClearIf after tmux passed it on: err = %v, want ErrUnreadable", err)
			}
			if f.hasBuffer {
				t.Errorf("tmux's buffer still holds %q after ClearIf", f.buffer)
			}
		})
	}
	t.Run("the user's own buffer survives", func(t *testing.T) {
		f := &fakeTmux{setClipboard: "off"}
		c := Tmux{Run: f.run}
		if _, err := c.Copy(ctx, "246810"); err != nil {
			t.Fatal(err)
		}
		f.buffer = "copied in tmux since"
		if cleared, err := c.ClearIf(ctx, "246810"); err != nil || cleared || f.buffer != "copied in tmux since" {
			t.Fatalf("ClearIf over the user's buffer = %v, %v; buffer %q", cleared, err, f.buffer)
		}
	})
	t.Run("no tmux server", func(t *testing.T) {
		c := Tmux{Run: func(context.Context, string, ...string) (string, error) {
			return "", errors.New("tmux load-buffer: exit status 1 (no server running)")
		}}
		if _, err := c.Copy(ctx, "1"); err == nil {
			t.Fatal("Copy without a tmux server succeeded")
		}
		// Detect falls back to OSC 52 then.
		var term bytes.Buffer
		where, err := Fallback{c, OSC52{W: &term, Tmux: true}}.Copy(ctx, "1")
		if err != nil || !strings.Contains(where, "OSC 52") || term.Len() == 0 {
			t.Fatalf("fallback: %q, %v", where, err)
		}
	})
	if !Unreadable("terminal (OSC 52)") || Unreadable("xclip and "+TmuxTerminal) || Unreadable(TmuxBuffer) {
		t.Error("Unreadable: wrong for OSC 52, xclip and tmux, or tmux's buffer")
	}
}

// TestTmuxReal copies with the real tmux, started with no configuration
// (tmux's stock options), and reads its buffer back.
func TestTmuxReal(t *testing.T) {
	tuitest.Need(t, "tmux")
	sock := filepath.Join(t.TempDir(), "tmux")
	tmux := func(args ...string) string {
		out, err := exec.Command("tmux", append([]string{"-S", sock, "-f", "/dev/null"}, args...)...).CombinedOutput()
		if err != nil {
			t.Fatalf("tmux %v: %v\n%s", args, err, out)
		}
		return string(out)
	}
	tmux("new-session", "-d", "-s", "t", "-x", "80", "-y", "24", "sleep 600")
	t.Cleanup(func() { exec.Command("tmux", "-S", sock, "kill-server").Run() })
	t.Setenv("TMUX", sock+",1,0") // as if Sesame ran inside that session

	ctx := context.Background()
	where, err := Tmux{}.Copy(ctx, "135790")
	if err != nil {
		t.Fatal(err)
	}
	if where != TmuxTerminal {
		t.Errorf("with stock options where = %q, want %q", where, TmuxTerminal)
	}
	if got := tmux("show-buffer"); got != "135790" {
		t.Fatalf("tmux's buffer holds %q, want the code", got)
	}
	if _, err := (Tmux{}).ClearIf(ctx, "135790"); !errors.Is(err, ErrUnreadable) {
		t.Errorf("ClearIf: err = %v, want ErrUnreadable (the terminal's copy cannot be read)", err)
	}
	if out, err := exec.Command("tmux", "-S", sock, "show-buffer").CombinedOutput(); err == nil {
		t.Errorf("tmux's buffer still holds %q", out)
	}

	tmux("set-option", "-g", "set-clipboard", "off")
	if where, err = (Tmux{}).Copy(ctx, "864200"); err != nil || where != TmuxBuffer {
		t.Fatalf("set-clipboard off: %q, %v", where, err)
	}
	if cleared, err := (Tmux{}).ClearIf(ctx, "864200"); err != nil || !cleared {
		t.Fatalf("ClearIf with set-clipboard off = %v, %v", cleared, err)
	}
}
