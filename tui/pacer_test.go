package tui

import (
	"context"
	"io"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
)

// tickerModel looks up its program's frame ticker in Init, as Model does.
type tickerModel struct {
	pace  *pacer
	found chan bool
}

func (m tickerModel) Init() tea.Cmd {
	m.pace.attach()
	m.pace.mu.Lock()
	m.found <- m.pace.ticker != nil
	m.pace.mu.Unlock()
	return tea.Quit
}

func (m tickerModel) Update(tea.Msg) (tea.Model, tea.Cmd) { return m, nil }
func (m tickerModel) View() tea.View                      { return tea.NewView("") }

// TestFrameTicker fails when a Bubble Tea upgrade moves the renderer's
// ticker: the pacer would silently fall back to a fixed frame rate.
func TestFrameTicker(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	m := tickerModel{pace: &pacer{}, found: make(chan bool, 1)}
	p := tea.NewProgram(m, tea.WithContext(ctx), tea.WithInput(nil), tea.WithOutput(io.Discard))
	m.pace.prog = p
	if _, err := p.Run(); err != nil {
		t.Fatal(err)
	}
	if !<-m.found {
		t.Fatal("no *time.Ticker field named ticker in tea.Program: find where this Bubble Tea keeps its frame ticker")
	}
}

func (p *pacer) isFast() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.fast
}

func TestPacer(t *testing.T) {
	var nilPacer *pacer // what tests that run Model in their own program have
	nilPacer.attach()
	nilPacer.shown("frame")
	nilPacer.stop()

	p := &pacer{ticker: time.NewTicker(time.Hour)}
	defer p.ticker.Stop()
	p.shown("first")
	if !p.isFast() {
		t.Fatal("a new frame did not speed the ticker up")
	}
	select {
	case <-p.ticker.C:
	case <-time.After(time.Minute):
		t.Fatal("no tick after a new frame")
	}
	deadline := time.Now().Add(time.Minute)
	for p.isFast() {
		if time.Now().After(deadline) {
			t.Fatal("the ticker stayed fast after the frame settled")
		}
		time.Sleep(time.Millisecond)
	}
	p.shown("first")
	if p.isFast() {
		t.Fatal("the same frame again sped the ticker up")
	}
	p.shown("second")
	if !p.isFast() {
		t.Fatal("a changed frame did not speed the ticker up")
	}
	p.stop()
	p.shown("third") // after the program: nothing to pace
	p.settled()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ticker != nil {
		t.Fatal("the pacer kept the ticker after stop")
	}
}

// TestPacerQueries: a terminal query goes out with the next frame, so it
// gets one soon even though the View does not change.
func TestPacerQueries(t *testing.T) {
	var nilPacer *pacer
	nilPacer.message(tea.RequestCursorPosition())
	p := &pacer{ticker: time.NewTicker(time.Hour)}
	defer p.stop()
	defer p.ticker.Stop()
	p.message(nil)
	p.message(tea.KeyPressMsg{Code: 'j'})
	p.message(tickMsg{})
	if p.isFast() {
		t.Fatal("a key or a tick sped the ticker up without a new frame")
	}
	p.message(tea.RequestCursorPosition())
	if !p.isFast() {
		t.Fatal("a cursor position request waits for the idle frame")
	}
}

// TestPacerWaitsForTheWrite: after the program stored a changed frame, the
// ticker stays fast until the renderer has written.
func TestPacerWaitsForTheWrite(t *testing.T) {
	p := &pacer{ticker: time.NewTicker(time.Hour)}
	defer p.stop()
	defer p.ticker.Stop()
	if msg := p.filter(nil, tickMsg{id: 7}); msg != (tickMsg{id: 7}) {
		t.Fatalf("the filter changed a message: %v", msg)
	}
	p.shown("changed")
	if msg := p.filter(nil, storedMsg{}); msg != nil {
		t.Fatalf("the filter let the pacer's message through: %v", msg)
	}
	p.mu.Lock()
	p.until = time.Now().Add(-time.Second) // settle has passed
	p.mu.Unlock()
	p.settled()
	if !p.isFast() {
		t.Fatal("the ticker slowed down before the stored frame was written")
	}
	p.drew()
	p.settled()
	if p.isFast() {
		t.Fatal("the ticker stayed fast after the frame was written")
	}
}
