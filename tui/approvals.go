package tui

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/sesame-auth/sesame/approve"
	"github.com/sesame-auth/sesame/approve/notify"
	"github.com/sesame-auth/sesame/vault"
)

// errNoPairings is why the sign-in history and pause keys do nothing.
var errNoPairings = errors.New("no sign-in pairings yet: pair with 'sesame pair' first")

// Approvals is the part of approve.Watcher the UI uses, so that tests can
// deliver sign-in requests from a fake.
type Approvals interface {
	Run(ctx context.Context)
	Events() <-chan approve.Event
	Respond(ctx context.Context, r approve.Request, a approve.Answer) error
	DisplayCode(r approve.Request) (code string, ok bool)
	SetPairings(p []vault.Pairing)
}

// approvalState is the sign-in approvals' part of the root model.
type approvalState struct {
	w        Approvals
	queue    []approve.Request // pending requests; the first one is on screen
	statuses map[string]approve.Status
}

// Messages of the approvals.
type (
	approvalEventMsg struct{ ev approve.Event }
	approvalsDoneMsg struct{}
	answerIntent     struct {
		req approve.Request
		ans approve.Answer
	}
	respondedMsg struct {
		req  approve.Request
		ans  approve.Answer
		err  error
		code string // to type on the sign-in screen, when the server sent one with the approval
	}
	pauseToggleIntent struct{ id string }
	unblockIntent     struct{ p vault.Pairing }
	unblockedMsg      struct {
		p   vault.Pairing
		err error
	}
)

// startApprovals starts watching the vault's pairings, once there are any.
func (m *Model) startApprovals(d vault.Data) tea.Cmd {
	if m.approve.w != nil || len(d.Pairings) == 0 {
		return nil
	}
	newW := m.o.NewApprovals
	if newW == nil {
		opts := m.o.DeviceOptions
		newW = func(p []vault.Pairing) Approvals { return approve.NewWatcher(p, opts) }
	}
	w := newW(d.Pairings)
	m.approve.w = w
	m.approve.statuses = map[string]approve.Status{}
	ctx := m.o.ctx()
	return tea.Batch(func() tea.Msg { w.Run(ctx); return nil }, waitApproval(w.Events()))
}

// waitApproval delivers the watcher's next event; it is issued again after each.
func waitApproval(ch <-chan approve.Event) tea.Cmd {
	return func() tea.Msg {
		ev, ok := <-ch
		if !ok {
			return approvalsDoneMsg{}
		}
		return approvalEventMsg{ev}
	}
}

// approvalsData tells the watcher about added, removed and paused pairings.
func (m *Model) approvalsData(d vault.Data) {
	m.list.hasPairings = len(d.Pairings) > 0
	if p, ok := m.overlay.(*pairingsScreen); ok {
		p.pairings = d.Pairings
	}
	if m.approve.w != nil {
		m.approve.w.SetPairings(d.Pairings)
	}
}

func (m *Model) handleApprovals(msg tea.Msg) (tea.Cmd, bool) {
	a := &m.approve
	switch msg := msg.(type) {
	case approvalEventMsg:
		next := waitApproval(a.w.Events())
		switch ev := msg.ev; {
		case ev.Request != nil:
			r := *ev.Request
			if slices.ContainsFunc(a.queue, func(q approve.Request) bool { return q.PairingID == r.PairingID && q.ID == r.ID }) {
				return next, true
			}
			a.queue = append(a.queue, r)
			cmd := m.showPrompt()
			return tea.Batch(next, cmd, m.notifyTerminal(r)), true
		case ev.Withdrawn != nil:
			return tea.Batch(next, m.withdraw(*ev.Withdrawn)), true
		case ev.Status != nil:
			a.statuses[ev.Status.PairingID] = *ev.Status
		}
		return next, true
	case approvalsDoneMsg:
		return nil, true
	case answerIntent:
		m.prompt = nil
		a.queue = slices.DeleteFunc(a.queue, func(q approve.Request) bool { return q.PairingID == msg.req.PairingID && q.ID == msg.req.ID })
		w, ctx := a.w, m.o.ctx()
		return tea.Batch(func() tea.Msg {
			out := respondedMsg{req: msg.req, ans: msg.ans, err: w.Respond(ctx, msg.req, msg.ans)}
			if out.err == nil && msg.ans.Approve {
				out.code, _ = w.DisplayCode(msg.req)
			}
			return out
		}, m.showPrompt()), true
	case respondedMsg:
		o := approve.OutcomeOf(msg.ans, msg.err)
		detail := ""
		switch o {
		case approve.OutcomeFailed:
			detail = errorText(msg.err)
			m.fail(fmt.Errorf("the answer to %s was not delivered: %w", appName(msg.req), msg.err))
		case approve.OutcomeWrongNumber:
			// Delivered: the server denied the sign-in because the number
			// did not match, and allows no second try.
			detail = "the number did not match the sign-in screen"
			m.fail(fmt.Errorf("denied: sign-in to %s: %s", appName(msg.req), detail))
		case approve.OutcomeNotMe:
			m.say(o.Words() + ": sign-in to " + appName(msg.req) + " (clear the block in P if that was a mistake)")
		case approve.OutcomeApproved:
			if msg.code == "" {
				m.say(o.Words() + ": sign-in to " + appName(msg.req))
				break
			}
			// The sign-in waits for this code: it stays on screen for a
			// minute, not the few seconds of a toast.
			m.say(o.Words() + ": now type " + msg.code + " on the sign-in screen of " + appName(msg.req))
			m.toast.until = m.c.now.Add(time.Minute)
		default:
			m.say(o.Words() + ": sign-in to " + appName(msg.req))
		}
		return m.record(msg.req, o, detail), true
	case historyIntent:
		m.overlay = newHistoryScreen(m.c, m.data.History)
		return nil, true
	case pauseIntent:
		if len(m.data.Pairings) == 0 {
			m.fail(errNoPairings)
			return nil, true
		}
		m.overlay = newPairingsScreen(m.c, m.data.Pairings, m.approve.statuses)
		return nil, true
	case unblockIntent:
		p, opts, ctx := msg.p, m.o.DeviceOptions, m.o.ctx()
		return func() tea.Msg { return unblockedMsg{p: p, err: approve.Unblock(ctx, p, opts)} }, true
	case unblockedMsg:
		if msg.err != nil {
			m.fail(fmt.Errorf("sign-in requests for %s stay blocked: %w", pairingName(msg.p), msg.err))
		} else {
			m.say("Unblocked: sign-in requests for " + pairingName(msg.p) + " come through again")
		}
		return nil, true
	case pauseToggleIntent:
		if m.v == nil {
			return nil, true
		}
		return update(m.v, "", "", func(d *vault.Data) error {
			_, err := d.TogglePaused(msg.id)
			return err
		}), true
	}
	return nil, false
}

// showPrompt opens the prompt for the first queued request, if none is open.
func (m *Model) showPrompt() tea.Cmd {
	if p, ok := m.prompt.(*approvalScreen); ok {
		p.more = len(m.approve.queue) - 1
		return nil
	}
	if len(m.approve.queue) == 0 {
		return nil
	}
	m.prompt = newApprovalScreen(m.c, m.approve.queue[0], len(m.approve.queue)-1)
	return nil
}

// withdraw closes a request that went away (expired, or answered elsewhere).
func (m *Model) withdraw(r approve.Request) tea.Cmd {
	a := &m.approve
	n := len(a.queue)
	a.queue = slices.DeleteFunc(a.queue, func(q approve.Request) bool { return q.PairingID == r.PairingID && q.ID == r.ID })
	if len(a.queue) == n {
		return nil
	}
	if p, ok := m.prompt.(*approvalScreen); ok && p.req.ID == r.ID && p.req.PairingID == r.PairingID {
		m.prompt = nil
		why := "was withdrawn or answered elsewhere"
		if !m.c.now.Before(r.Expires) {
			why = "expired"
		}
		m.fail(errors.New("the sign-in request from " + appName(r) + " " + why))
	}
	var rec tea.Cmd
	if !m.c.now.Before(r.Expires) {
		rec = m.record(r, approve.OutcomeExpired, "")
	}
	return tea.Batch(rec, m.showPrompt())
}

// expireApprovals closes requests whose time is up; called on every tick.
func (m *Model) expireApprovals() tea.Cmd {
	var cmds []tea.Cmd
	for _, r := range slices.Clone(m.approve.queue) {
		if !m.c.now.Before(r.Expires) {
			cmds = append(cmds, m.withdraw(r))
		}
	}
	return tea.Batch(cmds...)
}

// record adds an outcome to the vault's sign-in history.
func (m *Model) record(r approve.Request, o approve.Outcome, detail string) tea.Cmd {
	if m.v == nil {
		return nil
	}
	e := approve.HistoryEvent(r, o, detail, m.c.now)
	return update(m.v, "", "", func(d *vault.Data) error { d.Record(e); return nil })
}

// notifyTerminal rings the bell and sends the terminal's own notification
// (OSC 9 and OSC 777, through tmux or screen) for a new request, unless
// Options.NoNotify; it reaches the user's machine over SSH too.
func (m *Model) notifyTerminal(r approve.Request) tea.Cmd {
	w := m.o.bellTo
	if w == nil || m.o.NoNotify {
		return nil
	}
	t := notify.TerminalFor(w, m.o.getenv)
	title, body := notify.TerminalText(notify.ForRequest(r, m.c.now))
	return func() tea.Msg { _ = t.Notify(title, body); return nil }
}

func appName(r approve.Request) string {
	if r.Application != "" {
		return r.Application
	}
	if r.Title != "" {
		return r.Title
	}
	return "an application"
}

// status is the network state for the status line: quiet while all is well.
func (a approvalState) status(s *Styles) string {
	if a.w == nil {
		return ""
	}
	var bad []string
	for _, st := range a.statuses {
		switch st.State {
		case approve.StateOK, approve.StateConnecting, approve.StatePaused, approve.StateStopped:
			continue
		}
		bad = append(bad, st.String())
	}
	if len(bad) == 0 {
		if len(a.queue) > 0 {
			return s.Accent.Render(plural(len(a.queue), "sign-in request", "sign-in requests"))
		}
		return s.Status.Render("sign-ins on")
	}
	slices.Sort(bad)
	return s.ToastErr.Render(bad[0])
}

// approvalScreen is the prompt for one sign-in request, drawn over the code
// list. No stray Enter answers it: in type mode the empty number field has
// the focus, elsewhere Deny has it, and the "Was this you?" step that Deny
// opens has no answer selected until the user picks one.
type approvalScreen struct {
	c       *common
	req     approve.Request
	more    int // further requests waiting
	focus   int // 0: Deny, then the choices (or the number field, or Approve)
	number  textinput.Model
	askWhy  bool // the denial's "Was this you?" step
	why     int  // on that step: 0 nothing picked yet, whyCancelled or whyNotMe
	details bool // the full text of every field instead of a summary
	options []string
	detail  key.Binding
}

// Answers of the "Was this you?" step.
const (
	whyCancelled = 1
	whyNotMe     = 2
)

func newApprovalScreen(c *common, r approve.Request, more int) *approvalScreen {
	s := &approvalScreen{c: c, req: r, more: more,
		detail: key.NewBinding(key.WithKeys("i"), key.WithHelp("i", "full details"))}
	switch r.Mode {
	case approve.ModeChoose, approve.ModePresence:
		s.options = r.Choices
	case approve.ModeType:
		ti := textinput.New()
		ti.Prompt = ""
		ti.Placeholder = "number"
		ti.CharLimit = 8
		ti.SetWidth(10)
		ti.SetStyles(c.styles.Input)
		ti.Focus()
		s.number = ti
		s.options = []string{""}
		s.focus = 1
	default:
		s.options = []string{"Approve"}
	}
	return s
}

func (s *approvalScreen) isDialog() {}

func (s *approvalScreen) update(msg tea.Msg) (screen, tea.Cmd) {
	if p, ok := msg.(tea.PasteMsg); ok {
		return s, s.paste(p.Content)
	}
	km, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return s, nil
	}
	k := s.c.dialogKeys
	if s.askWhy {
		switch {
		case key.Matches(km, k.Left):
			s.why = whyCancelled
		case key.Matches(km, k.Right):
			s.why = whyNotMe
		case key.Matches(km, k.Close):
			s.askWhy, s.why = false, 0
		case key.Matches(km, k.Select) && s.why != 0:
			reason := approve.Cancelled
			if s.why == whyNotMe {
				reason = approve.NotMe
			}
			return s, send(answerIntent{req: s.req, ans: approve.Answer{Approve: false, Reason: reason}})
		}
		return s, nil
	}
	typing := s.req.Mode == approve.ModeType
	switch {
	case typing && km.Text != "" && unicode.IsDigit([]rune(km.Text)[0]):
		s.focus = 1
		s.number.Focus()
		var cmd tea.Cmd
		s.number, cmd = s.number.Update(km)
		return s, cmd
	case typing && s.focus == 1 && km.Code == tea.KeyBackspace:
		s.number, _ = s.number.Update(km)
		return s, nil
	case key.Matches(km, s.detail):
		s.details = !s.details
	case key.Matches(km, k.Close):
		s.askWhy = true
	case key.Matches(km, k.Left):
		s.focus = (s.focus + len(s.options)) % (len(s.options) + 1)
	case key.Matches(km, k.Right):
		s.focus = (s.focus + 1) % (len(s.options) + 1)
	case key.Matches(km, k.Select):
		switch {
		case s.focus == 0:
			s.askWhy = true
		case typing && strings.TrimSpace(s.number.Value()) == "":
			return s, nil // an empty number answers nothing
		case typing:
			return s, send(answerIntent{req: s.req, ans: approve.Answer{Approve: true, Number: strings.TrimSpace(s.number.Value())}})
		case s.req.Mode == approve.ModeApprove || len(s.req.Choices) == 0:
			return s, send(answerIntent{req: s.req, ans: approve.Answer{Approve: true}})
		default:
			return s, send(answerIntent{req: s.req, ans: approve.Answer{Approve: true, Number: s.options[s.focus-1]}})
		}
	}
	if s.focus == 1 && typing {
		s.number.Focus()
	} else if typing {
		s.number.Blur()
	}
	return s, nil
}

// paste types a pasted number into the number field, as if its digits were
// typed: spaces around it (a copied "47 ") are dropped; anything else than
// digits is not a number the sign-in screen shows, and is left out of the
// field rather than sent.
func (s *approvalScreen) paste(text string) tea.Cmd {
	text = strings.TrimSpace(text)
	if s.req.Mode != approve.ModeType || s.askWhy || text == "" || strings.ContainsFunc(text, func(r rune) bool { return !unicode.IsDigit(r) }) {
		return nil
	}
	s.focus = 1
	s.number.Focus()
	var cmd tea.Cmd
	s.number, cmd = s.number.Update(tea.PasteMsg{Content: text})
	return cmd
}

// innerWidth is the width of the prompt's text: the terminal's, less the
// box's border and padding, at most 60 columns.
func (s *approvalScreen) innerWidth() int { return max(min(s.c.width-6, 60), 20) }

// instruction is what the user is asked to do, said once: the provider's
// question, or the mode's own words.
func (s *approvalScreen) instruction() string {
	if s.req.Question != "" {
		return s.req.Question
	}
	switch s.req.Mode {
	case approve.ModeType:
		return "Type the number shown on the sign-in screen"
	case approve.ModeChoose:
		return "Pick the number shown on the sign-in screen"
	case approve.ModePresence:
		return "Pick the option shown on the sign-in screen"
	}
	return "Approve this sign-in?"
}

func (s *approvalScreen) view() string {
	st := &s.c.styles
	r := s.req
	w := s.innerWidth()
	const labelW = 12
	valueW := w - labelW
	// Each field is one line, cut to the box; "i" shows every field in full.
	row := func(label, value string) []string {
		if value == "" {
			return nil
		}
		if !s.details {
			return []string{st.Label.Render(pad(label, labelW)) + st.Text.Render(ansi.Truncate(value, valueW, "…"))}
		}
		lines := strings.Split(wrapHard(value, valueW), "\n")
		out := []string{st.Label.Render(pad(label, labelW)) + st.Text.Render(lines[0])}
		for _, l := range lines[1:] {
			out = append(out, strings.Repeat(" ", labelW)+st.Text.Render(l))
		}
		return out
	}
	const blank = "\x00"
	var lines []string
	add := func(ls ...string) { lines = append(lines, ls...) }
	title := "Sign-in request"
	if r.Title != "" {
		title = r.Title
	}
	head := st.Title.Render(ansi.Truncate(title, w, "…"))
	if s.more > 0 {
		head += st.Muted.Render("  (" + plural(s.more, "more waiting", "more waiting") + ")")
	}
	add(ansi.Truncate(head, w, "…"), blank)
	add(row("Application", r.Application)...)
	add(row("User", r.User)...)
	add(row("From", strings.Trim(r.IP+" · "+r.Location, " ·"))...)
	device := r.UserAgent
	if !s.details {
		device = approve.UserAgentSummary(r.UserAgent)
	}
	add(row("Device", device)...)
	left := max(int(r.Expires.Sub(s.c.now).Round(time.Second)/time.Second), 0)
	ls := st.CodeExpiring
	if left > 10 {
		ls = st.Code
	}
	when := ""
	if !r.Created.IsZero() {
		if ago := s.c.now.Sub(r.Created).Round(time.Second); ago >= 2*time.Second {
			when = st.Muted.Render(" (sent " + ago.String() + " ago)")
		} else {
			when = st.Muted.Render(" (sent just now)")
		}
	}
	add(st.Label.Render(pad("Expires in", labelW))+ls.Render(fmt.Sprintf("%d s", left))+when, blank)
	box := st.Dialog
	if s.askWhy {
		box = st.DialogDanger
		add(st.Text.Render("Was this you?"), blank)
		yes, no := st.Button.Render("  Yes, I cancelled it  "), st.Button.Render("  No, it wasn't me  ")
		switch s.why {
		case whyCancelled:
			yes = st.ButtonFocused.Render("[ Yes, I cancelled it ]")
		case whyNotMe:
			no = st.ButtonDanger.Render("[ No, it wasn't me ]")
		}
		add(yes+"  "+no, blank)
		add(strings.Split(st.Muted.Render(wrap("Pick one with ←/→, then enter. \"It wasn't me\" flags the attempt; a Sesame server also blocks further requests until you clear it (P).", w)), "\n")...)
	} else {
		add(strings.Split(st.Text.Render(wrap(s.instruction(), w)), "\n")...)
		add(blank)
		button := func(i int, label string, danger bool) string {
			if s.focus == i {
				if danger {
					return st.ButtonDanger.Render("[ " + label + " ]")
				}
				return st.ButtonFocused.Render("[ " + label + " ]")
			}
			return st.Button.Render("  " + label + "  ")
		}
		deny := button(0, "Deny", true)
		switch r.Mode {
		case approve.ModeType:
			field := s.c.input(s.number)
			if s.focus == 1 {
				field = st.Accent.Render("› ") + field
			} else {
				field = "  " + field
			}
			add(field, blank, deny+st.Muted.Render("   enter sends the number"))
		case approve.ModeChoose, approve.ModePresence:
			var bs []string
			for i, c := range s.options {
				bs = append(bs, button(i+1, c, false))
			}
			add(strings.Split(wrapButtons(bs, w), "\n")...)
			add(blank, deny)
		default:
			add(deny + "  " + button(1, "Approve", false))
		}
	}
	// Keep the box inside the body: blank lines go first, then the bottom.
	room := max(bodyHeight(s.c)-2, 4)
	if len(lines) > room {
		lines = slices.DeleteFunc(lines, func(l string) bool { return l == blank })
	}
	if len(lines) > room {
		lines = lines[:room]
	}
	for i, l := range lines {
		if l == blank {
			lines[i] = ""
		}
	}
	return box.Render(strings.Join(lines, "\n"))
}

// wrapButtons lays buttons out in rows of at most w columns.
func wrapButtons(bs []string, w int) string {
	var rows []string
	row := ""
	for _, b := range bs {
		if row != "" && ansi.StringWidth(row)+1+ansi.StringWidth(b) > w {
			rows = append(rows, row)
			row = ""
		}
		if row != "" {
			row += " "
		}
		row += b
	}
	return strings.Join(append(rows, row), "\n")
}

// wrapHard wraps text at w columns, at spaces where it can and inside
// words that are longer than a line.
func wrapHard(text string, w int) string {
	var out []string
	for _, l := range strings.Split(wrap(text, w), "\n") {
		for ansi.StringWidth(l) > w {
			out = append(out, ansi.Truncate(l, w, ""))
			l = ansi.TruncateLeft(l, w, "")
		}
		out = append(out, l)
	}
	return strings.Join(out, "\n")
}

func (s *approvalScreen) keys() help.KeyMap {
	k := s.c.dialogKeys
	if s.askWhy {
		return bindings{k.Left, withHelp(k.Select, "enter", "send"), withHelp(k.Close, "esc", "back")}
	}
	detail := s.detail
	if s.details {
		detail = withHelp(detail, "i", "summary")
	}
	return bindings{k.Left, withHelp(k.Select, "enter", "answer"), withHelp(k.Close, "esc", "deny"), detail}
}

// plural says n things, e.g. "1 sign-in request", "2 sign-in requests".
func plural(n int, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return fmt.Sprintf("%d %s", n, many)
}

// historyScreen lists recent sign-in decisions, newest first.
type historyScreen struct {
	c      *common
	events []vault.Event
	close  key.Binding
}

func newHistoryScreen(c *common, h []vault.Event) *historyScreen {
	ev := slices.Clone(h)
	slices.Reverse(ev)
	return &historyScreen{c: c, events: ev, close: key.NewBinding(key.WithKeys("esc", "q", "H"), key.WithHelp("esc", "close"))}
}

func (s *historyScreen) title() string { return "Sign-in history" }

func (s *historyScreen) update(msg tea.Msg) (screen, tea.Cmd) {
	if km, ok := msg.(tea.KeyPressMsg); ok && key.Matches(km, s.close) {
		return nil, nil
	}
	return s, nil
}

func (s *historyScreen) view() string {
	st := &s.c.styles
	if len(s.events) == 0 {
		return "\n  " + st.Muted.Render("No sign-in requests answered yet.")
	}
	var b strings.Builder
	b.WriteString("\n")
	for i, e := range s.events {
		if i == bodyHeight(s.c)-2 {
			break
		}
		o := approve.OutcomeOfDecision(e.Decision)
		ds := st.ToastOK
		if o != approve.OutcomeApproved {
			ds = st.ToastErr
		}
		where := strings.Trim(e.IP+" "+e.Location, " ")
		line := "  " + st.Muted.Render(e.At.Local().Format("2006-01-02 15:04")) + "  " + ds.Render(pad(o.Words(), 19)) + " " +
			st.Text.Render(pad(e.Application, 18)) + " " + st.Muted.Render(pad(e.User, 14)+" "+where)
		b.WriteString(ansi.Truncate(line, s.c.width, "…") + "\n")
	}
	return b.String()
}

func (s *historyScreen) keys() help.KeyMap { return bindings{s.close} }

func (s *historyScreen) keysOnly() {}

// pairingsScreen lists the pairings and pauses or resumes their sign-in
// requests, or clears the block a "this wasn't me" answer put on one.
type pairingsScreen struct {
	c        *common
	pairings []vault.Pairing
	statuses map[string]approve.Status
	cursor   int
	confirm  bool // asking whether to unblock the pairing under the cursor
	up, down key.Binding
	toggle   key.Binding
	unblock  key.Binding
	close    key.Binding
}

func newPairingsScreen(c *common, ps []vault.Pairing, st map[string]approve.Status) *pairingsScreen {
	return &pairingsScreen{c: c, pairings: ps, statuses: st,
		up:      key.NewBinding(key.WithKeys("up", "k")),
		down:    key.NewBinding(key.WithKeys("down", "j")),
		toggle:  key.NewBinding(key.WithKeys("space", "enter", "p"), key.WithHelp("space", "pause/resume")),
		unblock: key.NewBinding(key.WithKeys("u"), key.WithHelp("u", "unblock after \"not me\"")),
		close:   key.NewBinding(key.WithKeys("esc", "q"), key.WithHelp("esc", "close"))}
}

func (s *pairingsScreen) title() string { return "Sign-in pairings" }

func (s *pairingsScreen) update(msg tea.Msg) (screen, tea.Cmd) {
	km, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return s, nil
	}
	ps := s.pairings
	if s.confirm {
		k := s.c.dialogKeys
		s.confirm = false
		if key.Matches(km, k.Yes) && s.cursor < len(ps) {
			return s, send(unblockIntent{p: ps[s.cursor]})
		}
		return s, nil
	}
	switch {
	case key.Matches(km, s.close):
		return nil, nil
	case key.Matches(km, s.up):
		s.cursor = max(s.cursor-1, 0)
	case key.Matches(km, s.down):
		s.cursor = min(s.cursor+1, len(ps)-1)
	case key.Matches(km, s.toggle) && s.cursor < len(ps):
		return s, send(pauseToggleIntent{id: ps[s.cursor].ID})
	case key.Matches(km, s.unblock) && s.cursor < len(ps):
		s.confirm = true
	}
	return s, nil
}

func (s *pairingsScreen) view() string {
	st := &s.c.styles
	var b strings.Builder
	b.WriteString("\n")
	for i, p := range s.pairings {
		mark := "  "
		if i == s.cursor {
			mark = st.Gutter.Render("▌ ")
		}
		state := st.ToastOK.Render("on")
		if p.Paused {
			state = st.Danger.Render("paused")
		} else if ss, ok := s.statuses[p.ID]; ok && ss.State != approve.StateOK {
			state = st.ToastErr.Render(ss.String())
		}
		label := p.Label
		if label == "" {
			label = p.Server
		}
		line := " " + mark + st.Issuer.Render(pad(label, 28)) + " " + st.Name.Render(pad(p.User, 20)) + " " + state
		b.WriteString(ansi.Truncate(line, s.c.width, "…") + "\n")
	}
	if s.confirm && s.cursor < len(s.pairings) {
		q := fmt.Sprintf("Let sign-in requests for %s through again? Do it only if \"this wasn't me\" was a mistake. y = yes, any other key = no",
			pairingName(s.pairings[s.cursor]))
		b.WriteString("\n" + indent(st.Danger.Render(wrap(q, max(s.c.width-4, 20))), 2) + "\n")
	}
	return b.String()
}

func (s *pairingsScreen) keys() help.KeyMap { return bindings{s.toggle, s.unblock, s.close} }

func (s *pairingsScreen) keysOnly() {}

// pairingName is a pairing as users see it: "alice at Example".
func pairingName(p vault.Pairing) string {
	label := p.Label
	if label == "" {
		label = p.Server
	}
	return p.User + " at " + label
}
