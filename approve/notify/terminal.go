package notify

import (
	"io"
	"strings"
	"sync"
)

// Terminal notifies through the terminal the user reads, which also works
// over SSH: it rings the bell and sends OSC 9 (iTerm2, WezTerm, Windows
// Terminal, kitty, foot...) and OSC 777 notify (urxvt, VTE terminals). Inside
// tmux or GNU screen the escapes are wrapped for passthrough (tmux needs
// allow-passthrough on); the bell is sent plain, so the multiplexer marks the
// window.
type Terminal struct {
	// W is the terminal: the same stream the user interface is drawn on.
	W io.Writer
	// Mu, when set, is held while writing, so the sequence is not split by a
	// concurrent write to W.
	Mu *sync.Mutex
	// Tmux and Screen say which multiplexer the escapes must pass through.
	Tmux, Screen bool
}

// TerminalFor returns a Terminal writing to w, passing through the
// multiplexer getenv says Sesame runs in.
func TerminalFor(w io.Writer, getenv func(string) string) Terminal {
	return Terminal{W: w, Tmux: getenv("TMUX") != "", Screen: getenv("STY") != ""}
}

// Sequence returns the bytes Notify writes.
func (t Terminal) Sequence(title, body string) []byte {
	title, body = Clean(title, 100), Clean(body, 200)
	// ';' separates OSC 777's fields: none in the title.
	osc := "\x1b]9;" + title + ": " + body + "\a" +
		"\x1b]777;notify;" + strings.ReplaceAll(title, ";", ",") + ";" + body + "\a"
	switch {
	case t.Tmux:
		// In a tmux passthrough every ESC inside is doubled.
		osc = "\x1bPtmux;" + strings.ReplaceAll(osc, "\x1b", "\x1b\x1b") + "\x1b\\"
	case t.Screen:
		osc = "\x1bP" + osc + "\x1b\\"
	}
	return []byte("\a" + osc)
}

// Notify rings the bell and sends the notification escapes.
func (t Terminal) Notify(title, body string) error {
	if t.W == nil {
		return nil
	}
	if t.Mu != nil {
		t.Mu.Lock()
		defer t.Mu.Unlock()
	}
	_, err := t.W.Write(t.Sequence(title, body))
	return err
}

// TerminalText is the short title and body of a terminal notification for a
// request: application and user, never the number.
func TerminalText(n Notification) (title, body string) {
	first, _, _ := strings.Cut(n.Body, "\n")
	return "Sesame: " + n.Title, first
}
