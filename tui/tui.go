// Package tui is Sesame's terminal user interface: rolling codes with
// one-key copy, filtering, enrolment by link, QR image or hand, QR export,
// and the sign-in approval prompt.
//
// A root Model routes messages to one model per screen; every screen has the
// same update/view shape. All I/O (vault, keyring, clipboard, network) runs
// in tea.Cmds that return typed messages.
package tui

import (
	"context"
	"errors"
	"io"
	"os"
	"sync"
	"time"

	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/colorprofile"

	"github.com/sesame-auth/sesame/approve"
	"github.com/sesame-auth/sesame/tui/clipboard"
	screencap "github.com/sesame-auth/sesame/tui/screen"
	"github.com/sesame-auth/sesame/vault"
)

// DefaultClearAfter is how long a copied code stays on the clipboard unless
// the user says otherwise.
const DefaultClearAfter = 30 * time.Second

// Options configure the terminal UI.
type Options struct {
	// VaultOptions say where the vault is and how to unlock it. The UI opens
	// the vault itself so that it can ask for a passphrase or explain a
	// locked keyring on its own screens.
	VaultOptions vault.Options
	// Store is where a vault created from the first-run screen keeps its key
	// (StoreAuto: the keyring if it works, else a passphrase).
	Store vault.StoreKind
	// Clock gives the time codes are computed for; time.Now when nil.
	Clock func() time.Time
	// Clipboard receives copied codes; detected from the environment when nil.
	Clipboard clipboard.Clipboard
	// Screen captures the screen for the add dialog's "Scan the screen";
	// screen.Detect when nil.
	Screen func() (screencap.Capturer, error)
	// Paste reads the clipboard for the add dialog's "From the clipboard";
	// clipboard.DetectSource when nil.
	Paste func() (clipboard.Source, error)
	// ClearAfter is how long a copied code stays on the clipboard before
	// Sesame clears it (only if it still holds that code); 0 means never.
	ClearAfter time.Duration
	// ClearLater, when set, is handed a copied code whose clear is still
	// pending when the UI quits, so that it is cleared anyway (the CLI
	// leaves a small background process for it).
	ClearLater func(code string, after time.Duration)
	// Notice is a line shown above the status line for the whole session,
	// for example where the demo's sign-in page is.
	Notice string
	// Privacy starts with every code masked except the selected one.
	Privacy bool
	// Theme forces "light" or "dark" colours; empty asks the terminal.
	Theme string
	// In and Out are the terminal; os.Stdin and os.Stdout when nil.
	In  io.Reader
	Out io.Writer
	// Getenv reads the environment (NO_COLOR, SSH_TTY, ...); os.Getenv when nil.
	Getenv func(string) string
	// ReloadEvery is how often the vault file is checked for changes made by
	// other processes; 2 s when zero.
	ReloadEvery time.Duration
	// NoNotify turns off the bell and the terminal notification (OSC 9 and
	// OSC 777) for a new sign-in request.
	NoNotify bool
	// NoAltScreen draws inline instead of on the alternate screen.
	NoAltScreen bool
	// DeviceOptions configure the sign-in approval watcher: the providers
	// it may use (none when empty), the HTTP client and the clock.
	DeviceOptions approve.Options
	// NewApprovals makes the watcher for the vault's pairings;
	// approve.NewWatcher when nil. Tests pass a fake.
	NewApprovals func(pairings []vault.Pairing) Approvals

	runCtx context.Context // set by Run; stops the watcher
	bellTo io.Writer       // the terminal, for the bell and terminal notifications
	pace   *pacer          // set by Run; draws changes at once and nothing when idle
	// opening is set by Run: the vault's opening, started before the
	// terminal's set-up; Init runs it instead of opening the vault itself.
	opening tea.Cmd
}

func (o *Options) ctx() context.Context {
	if o.runCtx == nil {
		return context.Background()
	}
	return o.runCtx
}

func (o *Options) getenv(k string) string {
	if o.Getenv == nil {
		return os.Getenv(k)
	}
	return o.Getenv(k)
}

func (o *Options) now() time.Time {
	if o.Clock == nil {
		return time.Now()
	}
	return o.Clock()
}

// Run shows the terminal UI until the user quits or ctx is cancelled.
func Run(ctx context.Context, o Options) error {
	if o.In == nil {
		o.In = os.Stdin
	}
	if o.Out == nil {
		o.Out = os.Stdout
	}
	pace := &pacer{}
	// Bubble Tea writes frames to frames, which tells the pacer; the bell
	// and the clipboard's sequences go to out.
	var out, frames io.Writer = o.Out, drawnWriter{Writer: o.Out, drew: pace.drew}
	if f, ok := o.Out.(*os.File); ok {
		// OSC 52 sequences and frames share the terminal: one lock keeps a
		// sequence from landing inside a frame's escape codes.
		mu := new(sync.Mutex)
		out, frames = &lockedTTY{File: f, mu: mu}, &lockedTTY{File: f, mu: mu, drew: pace.drew}
		if o.Clipboard == nil {
			o.Clipboard = clipboard.Detect(clipboard.Env{Getenv: o.Getenv, Terminal: f, TerminalMu: mu})
		}
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	o.runCtx, o.bellTo, o.pace = ctx, out, pace
	// Open the vault (the keyring's D-Bus round trips, decrypting) while
	// Bubble Tea sets up the terminal; Init waits for the outcome.
	opened := make(chan tea.Msg, 1)
	go func(vo vault.Options) { opened <- openVault(vo)() }(o.VaultOptions)
	o.opening = func() tea.Msg { return <-opened }
	m := New(o)
	opts := []tea.ProgramOption{tea.WithContext(ctx), tea.WithInput(o.In), tea.WithOutput(frames),
		tea.WithFPS(framesPerSecond), tea.WithFilter(pace.filter)}
	switch {
	case o.getenv("NO_COLOR") != "":
		opts = append(opts, tea.WithColorProfile(colorprofile.Ascii))
	case o.Out == os.Stdout:
		// Lip Gloss detected stdout's colours when the program started
		// (inside tmux that runs `tmux info`): no need to ask twice.
		opts = append(opts, tea.WithColorProfile(lipgloss.Writer.Profile))
	}
	p := tea.NewProgram(m, opts...)
	o.pace.prog = p
	final, err := p.Run()
	o.pace.stop()
	if errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil {
		return nil
	}
	if err != nil {
		return err
	}
	fm, ok := final.(Model)
	if !ok {
		return nil
	}
	if p := fm.pendingClear; p.text != "" && o.ClearLater != nil {
		o.ClearLater(p.text, p.due.Sub(o.now()))
	}
	return fm.fatal
}

// lockedTTY is the terminal with writes serialised, so that clipboard
// sequences written from a Cmd never interleave with a frame.
type lockedTTY struct {
	*os.File
	mu   *sync.Mutex
	drew func() // when set, called after each write
}

func (t *lockedTTY) Write(p []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	n, err := t.File.Write(p)
	if t.drew != nil {
		t.drew()
	}
	return n, err
}

// drawnWriter tells the pacer about the frames written to an output that
// is not a file.
type drawnWriter struct {
	io.Writer
	drew func()
}

func (w drawnWriter) Write(p []byte) (int, error) {
	n, err := w.Writer.Write(p)
	w.drew()
	return n, err
}
