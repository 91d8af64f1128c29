package clipboard

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"os/exec"
	"strings"
	"sync"
	"time"
)

// helperTimeout bounds a clipboard helper that hangs (an X server that went
// away, a stuck pasteboard) when the caller's context has no deadline.
const helperTimeout = 3 * time.Second

// Command is a system clipboard reached through helper programs, such as
// xclip or pbcopy.
type Command struct {
	// Name is what users see: "xclip".
	Name string
	// CopyArgs is the command that reads the text to copy on its standard input.
	CopyArgs []string
	// PasteArgs prints the clipboard's text; empty when it cannot be read.
	PasteArgs []string
	// ClearArgs empties the clipboard; when empty, CopyArgs is run with no input.
	ClearArgs []string
}

// String names the helper.
func (c Command) String() string { return c.Name }

// Copy runs the copy helper with text on its standard input.
func (c Command) Copy(ctx context.Context, text string) (string, error) {
	if err := c.run(ctx, c.CopyArgs, text); err != nil {
		return "", err
	}
	return c.Name, nil
}

// ClearIf reads the clipboard and empties it if it still holds text.
func (c Command) ClearIf(ctx context.Context, text string) (bool, error) {
	if len(c.PasteArgs) == 0 {
		return false, ErrUnreadable
	}
	got, err := c.Read(ctx)
	if err != nil {
		return false, err
	}
	if !holds(got, text) {
		return false, nil
	}
	args := c.ClearArgs
	if len(args) == 0 {
		args = c.CopyArgs
	}
	if err := c.run(ctx, args, ""); err != nil {
		return false, err
	}
	return true, nil
}

// Read returns the clipboard's text.
func (c Command) Read(ctx context.Context) (string, error) {
	if len(c.PasteArgs) == 0 {
		return "", ErrUnreadable
	}
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	var out, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, c.PasteArgs[0], c.PasteArgs[1:]...)
	cmd.Stdout, cmd.Stderr = &limited{w: &out, n: 4096}, &limited{w: &stderr, n: 512}
	if err := cmd.Run(); err != nil {
		// An empty X selection makes xclip -o fail: that clipboard holds nothing of ours.
		if stderr.Len() > 0 && out.Len() == 0 && strings.Contains(stderr.String(), "target STRING not available") {
			return "", nil
		}
		return "", fmt.Errorf("read the clipboard with %s: %w", c.Name, err)
	}
	return out.String(), nil
}

func (c Command) run(ctx context.Context, args []string, stdin string) error {
	if len(args) == 0 {
		return fmt.Errorf("%s: no command", c.Name)
	}
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	cmd := exec.CommandContext(ctx, args[0], args[1:]...)
	cmd.Stdin = strings.NewReader(stdin)
	// Standard output and error stay unconnected: xclip, xsel and wl-copy fork
	// a process that keeps serving the selection, and it would hold a pipe
	// open until the next copy.
	if err := cmd.Run(); err != nil {
		return fmt.Errorf("copy with %s: %w", c.Name, err)
	}
	return nil
}

func withTimeout(ctx context.Context) (context.Context, context.CancelFunc) {
	if _, ok := ctx.Deadline(); ok {
		return context.WithCancel(ctx)
	}
	return context.WithTimeout(ctx, helperTimeout)
}

// limited keeps the first n bytes written to it and drops the rest.
type limited struct {
	w io.Writer
	n int
}

func (l *limited) Write(p []byte) (int, error) {
	k := min(len(p), l.n)
	if k > 0 {
		l.w.Write(p[:k])
		l.n -= k
	}
	return len(p), nil
}

// The system clipboard helpers Sesame knows, by name.
var (
	// Xclip is xclip on X11.
	Xclip = Command{Name: "xclip",
		CopyArgs:  []string{"xclip", "-selection", "clipboard", "-in"},
		PasteArgs: []string{"xclip", "-selection", "clipboard", "-out"}}
	// Xsel is xsel on X11.
	Xsel = Command{Name: "xsel",
		CopyArgs:  []string{"xsel", "--clipboard", "--input"},
		PasteArgs: []string{"xsel", "--clipboard", "--output"},
		ClearArgs: []string{"xsel", "--clipboard", "--delete"}}
	// WlCopy is wl-clipboard on Wayland.
	WlCopy = Command{Name: "wl-copy",
		CopyArgs:  []string{"wl-copy"},
		PasteArgs: []string{"wl-paste", "--no-newline"},
		ClearArgs: []string{"wl-copy", "--clear"}}
	// Pbcopy is the macOS pasteboard.
	Pbcopy = Command{Name: "pbcopy",
		CopyArgs:  []string{"pbcopy"},
		PasteArgs: []string{"pbpaste"}}
	// ClipExe is the Windows clipboard, also reachable from WSL.
	ClipExe = Command{Name: "clip.exe",
		CopyArgs:  []string{"clip.exe"},
		PasteArgs: []string{"powershell.exe", "-NoProfile", "-NonInteractive", "-Command", "Get-Clipboard"}}
)

// OSC52 copies through the terminal: it writes an OSC 52 escape sequence that
// the terminal emulator turns into a clipboard write, which works over SSH.
// Inside tmux the sequence is sent both plain (taken by tmux when its
// set-clipboard option is on) and wrapped for passthrough (when
// allow-passthrough is on); inside GNU screen it is wrapped for screen.
type OSC52 struct {
	// W is the terminal: the same stream the user interface is drawn on.
	W io.Writer
	// Mu, when set, is held while writing, so the sequence is not split by a
	// concurrent write to W.
	Mu *sync.Mutex
	// Tmux and Screen say which multiplexer the sequence must pass through.
	Tmux, Screen bool
}

// String names the mechanism.
func (o OSC52) String() string {
	switch {
	case o.Tmux:
		return "OSC 52 via tmux"
	case o.Screen:
		return "OSC 52 via screen"
	}
	return "OSC 52"
}

// maxOSC52 is the largest text sent over OSC 52; many terminals drop longer
// sequences, and codes are a few bytes.
const maxOSC52 = 74994

// Sequence returns the bytes Copy writes for text.
func (o OSC52) Sequence(text string) []byte {
	plain := "\x1b]52;c;" + base64.StdEncoding.EncodeToString([]byte(text)) + "\a"
	switch {
	case o.Tmux:
		// In a tmux passthrough every ESC inside is doubled.
		return []byte(plain + "\x1bPtmux;" + strings.ReplaceAll(plain, "\x1b", "\x1b\x1b") + "\x1b\\")
	case o.Screen:
		return []byte("\x1bP" + plain + "\x1b\\")
	}
	return []byte(plain)
}

// Copy writes the OSC 52 sequence for text to the terminal.
func (o OSC52) Copy(_ context.Context, text string) (string, error) {
	if o.W == nil {
		return "", errors.New("OSC 52: no terminal to write to")
	}
	if len(text) > maxOSC52 {
		return "", errors.New("OSC 52: the text is too long for a terminal clipboard")
	}
	if o.Mu != nil {
		o.Mu.Lock()
		defer o.Mu.Unlock()
	}
	if _, err := o.W.Write(o.Sequence(text)); err != nil {
		return "", fmt.Errorf("OSC 52: write to the terminal: %w", err)
	}
	return "terminal (" + o.String() + ")", nil
}

// ClearIf cannot know what the terminal's clipboard holds, so it never clears.
func (OSC52) ClearIf(context.Context, string) (bool, error) { return false, ErrUnreadable }
