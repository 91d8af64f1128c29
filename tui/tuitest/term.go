package tuitest

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"
)

// session is the name of the one tmux session in each Term's server.
const session = "tuitest"

// pollInterval is how often the Wait methods look at the screen again.
const pollInterval = 50 * time.Millisecond

// TermOptions describes the terminal Start opens.
type TermOptions struct {
	// Width and Height are the terminal's size in cells; zero means 100 by 30.
	Width, Height int
	// Env holds "KEY=value" pairs the program gets on top of Environ().
	Env []string
	// Dir is the program's working directory; empty means the test's.
	Dir string
	// Scrollback is how many lines that scrolled off the top Screen returns
	// too, with lines the terminal wrapped joined; zero means Screen returns
	// the visible screen only.
	Scrollback int
}

// Term is one program running in a terminal of its own: a tmux server on a
// private socket, so parallel tests and the developer's own tmux never meet.
type Term struct {
	t          testing.TB
	socket     string
	scrollback int
}

// Start runs argv in a new terminal and returns it. The tmux server is killed
// when the test ends; if the test failed, the screen is logged first.
func Start(t testing.TB, opts TermOptions, argv ...string) *Term {
	t.Helper()
	Need(t, "tmux")
	if len(argv) == 0 {
		t.Fatal("tuitest.Start: no program to run")
	}
	// Not t.TempDir: a socket's path must stay under about 100 bytes.
	dir, err := os.MkdirTemp("", "tuitest-")
	if err != nil {
		t.Fatal(err)
	}
	tm := &Term{t: t, socket: filepath.Join(dir, "tmux"), scrollback: opts.Scrollback}
	w, h := opts.Width, opts.Height
	if w == 0 {
		w = 100
	}
	if h == 0 {
		h = 30
	}
	// The options come before new-session so the window gets them; /bin/sh
	// reads the quoted command line whatever the user's shell is.
	args := []string{"set-option", "-g", "default-shell", "/bin/sh", ";"}
	if opts.Scrollback > 0 {
		args = append(args, "set-option", "-g", "history-limit", strconv.Itoa(opts.Scrollback), ";")
	}
	args = append(args, "new-session", "-d", "-s", session, "-x", strconv.Itoa(w), "-y", strconv.Itoa(h))
	if opts.Dir != "" {
		args = append(args, "-c", opts.Dir)
	}
	for _, kv := range opts.Env {
		args = append(args, "-e", kv)
	}
	args = append(args, shellQuote(argv))
	if out, err := tm.command(args...).CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		t.Fatalf("tmux new-session: %v\n%s", err, out)
	}
	t.Cleanup(func() {
		if t.Failed() {
			if screen, err := tm.capture(); err == nil {
				t.Logf("the terminal at the end of the test:\n%s", screen)
			}
		}
		tm.command("kill-server").Run()
		os.RemoveAll(dir)
	})
	return tm
}

// Keys presses keys by their tmux names ("Enter", "Escape", "C-c", "q").
func (tm *Term) Keys(keys ...string) {
	tm.t.Helper()
	tm.tmux(append([]string{"send-keys", "-t", session}, keys...)...)
}

// Type types text as it is, with no key names.
func (tm *Term) Type(text string) {
	tm.t.Helper()
	tm.tmux("send-keys", "-t", session, "-l", "--", text)
}

// Line types text and presses Enter.
func (tm *Term) Line(text string) {
	tm.t.Helper()
	tm.Type(text)
	tm.Keys("Enter")
}

// Screen returns what the terminal shows now (and its scrollback, see
// TermOptions.Scrollback).
func (tm *Term) Screen() string {
	tm.t.Helper()
	screen, err := tm.capture()
	if err != nil {
		tm.t.Fatal(err)
	}
	return screen
}

// WaitFor polls the screen until it shows every one of texts and returns
// it; the test fails if that does not happen within the given time.
func (tm *Term) WaitFor(within time.Duration, texts ...string) string {
	tm.t.Helper()
	return tm.wait(within, fmt.Sprintf("%q", texts), func(screen string) bool {
		for _, text := range texts {
			if !strings.Contains(screen, text) {
				return false
			}
		}
		return true
	})
}

// WaitGone polls the screen until it no longer shows text and returns it;
// the test fails if text is still there after the given time. A test waits
// for the screen to change this way before the next key, as a person does:
// keys sent together may arrive as one (esc then q reads as alt+q).
func (tm *Term) WaitGone(within time.Duration, text string) string {
	tm.t.Helper()
	return tm.wait(within, fmt.Sprintf("no %q", text), func(screen string) bool {
		return !strings.Contains(screen, text)
	})
}

// WaitCount polls the screen until text is on it at least n times and
// returns it; the test fails if that does not happen within the given time.
func (tm *Term) WaitCount(within time.Duration, n int, text string) string {
	tm.t.Helper()
	return tm.wait(within, fmt.Sprintf("%q %d times", text, n), func(screen string) bool {
		return strings.Count(screen, text) >= n
	})
}

// WaitMatch polls the screen until the regular expression pattern matches
// it at least n times and returns it; the test fails if that does not
// happen within the given time.
func (tm *Term) WaitMatch(within time.Duration, n int, pattern string) string {
	tm.t.Helper()
	re, err := regexp.Compile(pattern)
	if err != nil {
		tm.t.Fatal(err)
	}
	return tm.wait(within, fmt.Sprintf("/%s/ %d times", pattern, n), func(screen string) bool {
		return len(re.FindAllStringIndex(screen, -1)) >= n
	})
}

// WaitExit waits for the program to end; the test fails if it is still
// running after the given time.
func (tm *Term) WaitExit(within time.Duration) {
	tm.t.Helper()
	deadline := time.Now().Add(within)
	for tm.command("has-session", "-t", session).Run() == nil {
		if time.Now().After(deadline) {
			tm.t.Fatalf("the program did not exit within %v; the terminal shows:\n%s", within, tm.Screen())
		}
		time.Sleep(pollInterval) // polling tmux, not synchronising
	}
}

// PipeTo appends everything the program writes to the terminal from now on,
// escape sequences included, to the file at path.
func (tm *Term) PipeTo(path string) {
	tm.t.Helper()
	tm.tmux("pipe-pane", "-o", "-t", session, "cat >> "+shellQuote([]string{path}))
}

func (tm *Term) wait(within time.Duration, what string, done func(screen string) bool) string {
	tm.t.Helper()
	deadline := time.Now().Add(within)
	for {
		screen := tm.Screen()
		if done(screen) {
			return screen
		}
		if time.Now().After(deadline) {
			tm.t.Fatalf("the terminal did not show %s within %v; it shows:\n%s", what, within, screen)
		}
		time.Sleep(pollInterval) // polling the screen, not synchronising
	}
}

func (tm *Term) capture() (string, error) {
	args := []string{"capture-pane", "-p", "-t", session}
	if tm.scrollback > 0 {
		args = append(args, "-J", "-S", strconv.Itoa(-tm.scrollback))
	}
	out, err := tm.command(args...).CombinedOutput()
	if err != nil {
		return "", tmuxError(args, err, out)
	}
	return string(out), nil
}

func (tm *Term) tmux(args ...string) {
	tm.t.Helper()
	if out, err := tm.command(args...).CombinedOutput(); err != nil {
		tm.t.Fatal(tmuxError(args, err, out))
	}
}

// command is tmux on this Term's socket, without the user's configuration.
func (tm *Term) command(args ...string) *exec.Cmd {
	cmd := exec.Command("tmux", append([]string{"-S", tm.socket, "-f", "/dev/null"}, args...)...)
	cmd.Env = Environ()
	return cmd
}

func tmuxError(args []string, err error, out []byte) error {
	return fmt.Errorf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
}

// shellQuote joins argv into one /bin/sh command line.
func shellQuote(argv []string) string {
	q := make([]string, len(argv))
	for i, a := range argv {
		q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return strings.Join(q, " ")
}

// Tmux runs a tmux command on this Term's server (without the user's
// configuration) and returns its output; the test fails if tmux does.
func (tm *Term) Tmux(args ...string) string {
	tm.t.Helper()
	out, err := tm.command(args...).CombinedOutput()
	if err != nil {
		tm.t.Fatal(tmuxError(args, err, out))
	}
	return string(out)
}

// Socket is the path of this Term's tmux server socket, for a tmux client
// that attaches to it (from another Term, as an outer terminal).
func (tm *Term) Socket() string { return tm.socket }
