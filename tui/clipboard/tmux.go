package clipboard

import (
	"bytes"
	"context"
	"fmt"
	"os/exec"
	"strings"
)

// Runner runs a program with stdin as its standard input and returns its
// standard output. Tests pass a fake; nil means the real program.
type Runner func(ctx context.Context, stdin string, argv ...string) (string, error)

// execRunner runs argv for real, bounded by helperTimeout, with stderr in
// the error.
func execRunner(ctx context.Context, stdin string, argv ...string) (string, error) {
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	var out, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stdin = strings.NewReader(stdin)
	cmd.Stdout, cmd.Stderr = &limited{w: &out, n: 4096}, &limited{w: &stderr, n: 512}
	if err := cmd.Run(); err != nil {
		if msg := strings.TrimSpace(stderr.String()); msg != "" {
			return out.String(), fmt.Errorf("%s: %w (%s)", strings.Join(argv[:2], " "), err, msg)
		}
		return out.String(), fmt.Errorf("%s: %w", strings.Join(argv[:2], " "), err)
	}
	return out.String(), nil
}

// Tmux copies into tmux's paste buffer with `tmux load-buffer -w -`. With
// -w, tmux also sends the text to the outer terminal's clipboard with an
// OSC 52 sequence of its own when its set-clipboard option allows it (on or
// external, the default). That works with tmux's stock options, where an
// OSC 52 sequence written by a program inside tmux is dropped (set-clipboard
// external ignores it, and allow-passthrough is off).
//
// Copy says which of the two places the code reached, as far as tmux's
// options tell: the terminal itself is not asked.
type Tmux struct {
	// Run runs tmux; nil runs the real one, which finds the server through
	// the TMUX environment variable.
	Run Runner
}

// String names the mechanism.
func (Tmux) String() string { return "tmux" }

func (t Tmux) run(ctx context.Context, stdin string, args ...string) (string, error) {
	run := t.Run
	if run == nil {
		run = execRunner
	}
	return run(ctx, stdin, append([]string{"tmux"}, args...)...)
}

// Where the code went, as Copy reports it. The terminal's clipboard
// cannot be read back, so a code that reached it is never cleared.
const (
	// TmuxTerminal: tmux keeps it in its buffer and passes it on to the terminal.
	TmuxTerminal = "terminal clipboard via tmux"
	// TmuxBuffer: tmux keeps it; prefix ] pastes it.
	TmuxBuffer = "tmux's buffer only (set-clipboard is off)"
	// TmuxOld: a tmux before 3.2 cannot pass it on.
	TmuxOld = "tmux's buffer only (tmux too old to pass it on)"
)

// Copy loads text into tmux's buffer and, when tmux allows, the terminal's clipboard.
func (t Tmux) Copy(ctx context.Context, text string) (string, error) {
	forward := true
	if _, err := t.run(ctx, text, "load-buffer", "-w", "-"); err != nil {
		// tmux before 3.2 has no -w: the buffer is all it can do.
		if !strings.Contains(err.Error(), "unknown flag") {
			return "", fmt.Errorf("copy with tmux: %w", err)
		}
		if _, err := t.run(ctx, text, "load-buffer", "-"); err != nil {
			return "", fmt.Errorf("copy with tmux: %w", err)
		}
		return TmuxOld, nil
	}
	mode, err := t.run(ctx, "", "show-options", "-gv", "set-clipboard")
	if err == nil && strings.TrimSpace(mode) == "off" {
		forward = false
	}
	if !forward {
		return TmuxBuffer, nil
	}
	return TmuxTerminal, nil
}

// ClearIf deletes tmux's buffer if it still holds text. When tmux passes
// copies on to the terminal, the terminal's copy cannot be read back: the
// buffer is still deleted, but ClearIf reports ErrUnreadable.
func (t Tmux) ClearIf(ctx context.Context, text string) (bool, error) {
	got, err := t.run(ctx, "", "show-buffer")
	if err != nil {
		// No buffer at all: nothing of ours is left in tmux.
		if strings.Contains(err.Error(), "no buffers") {
			got = ""
		} else {
			return false, fmt.Errorf("read tmux's buffer: %w", err)
		}
	}
	cleared := false
	if got != "" && holds(got, text) {
		if _, err := t.run(ctx, "", "delete-buffer"); err != nil {
			return false, fmt.Errorf("clear tmux's buffer: %w", err)
		}
		cleared = true
	}
	mode, err := t.run(ctx, "", "show-options", "-gv", "set-clipboard")
	if err != nil || strings.TrimSpace(mode) != "off" {
		return false, ErrUnreadable
	}
	return cleared, nil
}

// Unreadable reports whether where (as returned by Copy) names only
// clipboards that cannot be read back, and so are never cleared
// automatically: the terminal's, through OSC 52 or through tmux.
func Unreadable(where string) bool {
	for _, w := range strings.Split(where, " and ") {
		if !strings.HasPrefix(w, "terminal") {
			return false
		}
	}
	return where != ""
}
