package tui

import (
	"go/token"
	"reflect"
	"sync"
	"time"
	"unsafe"

	tea "charm.land/bubbletea/v2"
)

// Frame pacing.
//
// Bubble Tea v2 draws on a ticker: at each tick of its frame rate it
// compares the last View with what is on screen and writes the difference.
// A fixed rate is a bad trade for Sesame: idle, the screen changes once a
// second, yet every tick wakes the process (at 20 frames a second, most of
// an idle UI's CPU time); and a change waits for the next tick, up to a
// whole frame, before it shows (the first code, a key's echo). Bubble Tea
// v2.1 has no option to draw on demand, so the pacer retunes its ticker:
// a View that differs from the last one sets it to fastFrame, so the change
// is on screen within fastFrame, and settle after the last change it goes
// back to idleFrame, a backstop that draws nothing when nothing changed.
//
// View returns the frame before Bubble Tea stores it for the renderer, so
// on a busy machine the fast ticks could all come before the store and the
// change would wait for idleFrame. So View also sends the program a
// message, which the program's filter (an event loop step after the store)
// turns into more fast ticks until the renderer writes or drawWait passes.
const (
	fastFrame = 2 * time.Millisecond
	settle    = 5 * time.Millisecond // two fast ticks after the last change
	drawWait  = 250 * time.Millisecond
	idleFrame = time.Second
)

// framesPerSecond is the fixed frame rate Bubble Tea starts with, and keeps
// if the pacer cannot find its ticker (a Bubble Tea whose internals
// changed): 20 frames a second echo a key within 50 ms.
const framesPerSecond = 20

// pacer sets the pace of a running program's frame ticker. Its methods are
// safe on a nil pacer (tests run the model in programs of their own).
type pacer struct {
	prog *tea.Program // the program whose ticker attach looks up
	last string       // the frame the last View returned (event loop only)

	mu       sync.Mutex
	ticker   *time.Ticker // Bubble Tea's frame ticker; nil until attached or if not found
	fast     bool
	until    time.Time   // fast until then
	slow     *time.Timer // sets idleFrame once until has passed
	unwrit   bool        // a changed frame is stored and nothing was written since
	storedAt time.Time
}

// storedMsg is sent by View when the frame changed; the program's filter
// receives it after Bubble Tea has stored that frame for the renderer.
type storedMsg struct{}

// attach finds the program's frame ticker. Bubble Tea creates it in Run
// before it calls the model's Init, which calls attach.
func (p *pacer) attach() {
	if p == nil || p.prog == nil {
		return
	}
	t := frameTicker(p.prog)
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ticker = t
}

// frameTicker is the ticker of a running program's renderer, or nil when
// this Bubble Tea keeps it elsewhere (TestFrameTicker says so).
func frameTicker(prog *tea.Program) *time.Ticker {
	f := reflect.ValueOf(prog).Elem().FieldByName("ticker")
	if !f.IsValid() || f.Type() != reflect.TypeFor[*time.Ticker]() {
		return nil
	}
	return *(**time.Ticker)(unsafe.Pointer(f.UnsafeAddr()))
}

// shown is called with every frame View returns; a frame that differs from
// the last one is drawn within fastFrame.
func (p *pacer) shown(frame string) {
	if p == nil || frame == p.last {
		return
	}
	p.last = frame
	p.soon()
	if p.prog != nil {
		go p.prog.Send(storedMsg{})
	}
}

// filter is the program's message filter: it takes the pacer's own
// messages out of the stream.
func (p *pacer) filter(_ tea.Model, msg tea.Msg) tea.Msg {
	if _, ok := msg.(storedMsg); ok {
		p.mu.Lock()
		p.unwrit, p.storedAt = true, time.Now()
		p.mu.Unlock()
		p.soon()
		return nil
	}
	return msg
}

// drew is called after Bubble Tea wrote to the terminal: the frame stored
// before the filter last saw a storedMsg has been drawn.
func (p *pacer) drew() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.unwrit = false
}

// teaPath is Bubble Tea's import path, as reflect reports it.
var teaPath = reflect.TypeFor[tea.KeyPressMsg]().PkgPath()

// message is called with every message before Update handles it. Bubble
// Tea's own unexported messages (a terminal query, clearing the screen)
// have queued output by then, which goes out with the next frame even when
// the View stays the same: that frame comes within fastFrame.
func (p *pacer) message(msg tea.Msg) {
	t := reflect.TypeOf(msg)
	if p == nil || t == nil {
		return
	}
	if t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t.PkgPath() == teaPath && !token.IsExported(t.Name()) {
		p.soon()
	}
}

// soon runs the ticker at fastFrame until settle after the last call.
func (p *pacer) soon() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ticker == nil {
		return
	}
	p.until = time.Now().Add(settle)
	if !p.fast {
		p.fast = true
		p.ticker.Reset(fastFrame)
	}
	if p.slow == nil {
		p.slow = time.AfterFunc(settle, p.settled)
	} else {
		p.slow.Reset(settle)
	}
}

// settled drops the ticker to idleFrame, unless a change came meanwhile
// or the last changed frame is not written yet.
func (p *pacer) settled() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ticker == nil || !p.fast {
		return
	}
	wait := time.Until(p.until)
	if p.unwrit && time.Since(p.storedAt) < drawWait {
		wait = max(wait, fastFrame)
	}
	if wait > 0 {
		p.slow.Reset(wait)
		return
	}
	p.fast = false
	p.ticker.Reset(idleFrame)
}

// stop lets go of the ticker once the program has ended.
func (p *pacer) stop() {
	if p == nil {
		return
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	p.ticker = nil
	if p.slow != nil {
		p.slow.Stop()
	}
}
