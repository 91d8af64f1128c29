package tui

import (
	"errors"
	"time"

	tea "charm.land/bubbletea/v2"

	screencap "github.com/sesame-auth/sesame/tui/screen"
)

// The UI steps aside for a screen capture by leaving the alternate screen,
// so that the terminal shows its own screen (where a QR code printed by
// qrencode may be) while the capture is taken, then comes back.
//
// It must know when the terminal has really redrawn, without guessing a
// delay. Bubble Tea writes queued queries before the frame of the same
// render tick, so the answer to a first cursor position request proves only
// that the frame without the alternate screen has been written out; a
// second request, sent after that answer, reaches the terminal after the
// frame, and the terminal answers it once it has drawn that frame.

// asideWait bounds how long the terminal may take to answer; one that does
// not answer cursor position requests at all gets an error, not a guess.
const asideWait = 3 * time.Second

// errNoAnswer is the scan's outcome when the terminal never answered.
var errNoAnswer = errors.New("the terminal did not answer a cursor position request, so Sesame could not tell when it had stepped aside to capture the screen: " +
	"show the QR code beside the terminal and scan again, or copy the QR code's image and press v")

// asideStep is how far stepping aside has gone.
type asideStep int

const (
	asideNone      asideStep = iota
	asideLeaving             // alternate screen off; waiting for the first answer
	asideFlushed             // the frame is written; waiting for the second answer
	asideCapturing           // the terminal has redrawn; capturing
)

// asideState is the root model's stepping aside, if any.
type asideState struct {
	step asideStep
	c    screencap.Capturer
	id   int // tells a stale deadline from the current one
}

type asideTimeoutMsg struct{ id int }

// hidden reports whether the UI is stepped aside and draws nothing.
func (a asideState) hidden() bool { return a.step != asideNone }

// handleAside deals with stepping aside for a capture.
func (m *Model) handleAside(msg tea.Msg) (tea.Cmd, bool) {
	switch msg := msg.(type) {
	case asideMsg:
		id := m.aside.id + 1
		m.aside = asideState{step: asideLeaving, c: msg.c, id: id}
		return tea.Batch(tea.RequestCursorPosition,
			tea.Tick(asideWait, func(time.Time) tea.Msg { return asideTimeoutMsg{id: id} })), true
	case tea.CursorPositionMsg:
		switch m.aside.step {
		case asideLeaving:
			m.aside.step = asideFlushed
			return tea.RequestCursorPosition, true
		case asideFlushed:
			m.aside.step = asideCapturing
			return scanAside(m.aside.c), true
		}
	case asideTimeoutMsg:
		if msg.id != m.aside.id || (m.aside.step != asideLeaving && m.aside.step != asideFlushed) {
			return nil, true // answered in time, or an older attempt
		}
		m.aside = asideState{id: m.aside.id}
		return func() tea.Msg { return scannedMsg{from: fromScreen, err: errNoAnswer} }, true
	case scannedMsg:
		if msg.aside {
			m.aside = asideState{id: m.aside.id} // back on the alternate screen; the add dialog shows what was found
		}
	}
	return nil, false
}
