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

	"github.com/sesame-auth/sesame/approve"
	"github.com/sesame-auth/sesame/approve/device"
	"github.com/sesame-auth/sesame/approve/notify"
	"github.com/sesame-auth/sesame/vault"
)

// Approvals is the part of device.Watcher the UI uses, so that tests can
// deliver sign-in requests from a fake.
type Approvals interface {
	Run(ctx context.Context)
	Events() <-chan device.Event
	Respond(ctx context.Context, r approve.Request, a approve.Answer) error
	SetPairings(p []vault.Pairing)
}

// approvalState is the sign-in approvals' part of the root model.
type approvalState struct {
	w        Approvals
	queue    []approve.Request // pending requests; the first one is on screen
	statuses map[string]device.Status
}

// Messages of the approvals.
type (
	approvalEventMsg struct{ ev device.Event }
	approvalsDoneMsg struct{}
	answerIntent     struct {
		req approve.Request
		ans approve.Answer
	}
	respondedMsg struct {
		req approve.Request
		ans approve.Answer
		err error
	}
	pauseToggleIntent struct{ id string }
)

// startApprovals starts watching the vault's pairings, once there are any.
func (m *Model) startApprovals(d vault.Data) tea.Cmd {
	if m.approve.w != nil || len(d.Pairings) == 0 {
		return nil
	}
	newW := m.o.NewApprovals
	if newW == nil {
		opts := m.o.DeviceOptions
		newW = func(p []vault.Pairing) Approvals { return device.NewWatcher(p, opts) }
	}
	w := newW(d.Pairings)
	m.approve.w = w
	m.approve.statuses = map[string]device.Status{}
	ctx := m.o.ctx()
	return tea.Batch(func() tea.Msg { w.Run(ctx); return nil }, waitApproval(w.Events()))
}

// waitApproval delivers the watcher's next event; it is issued again after each.
func waitApproval(ch <-chan device.Event) tea.Cmd {
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
			return respondedMsg{req: msg.req, ans: msg.ans, err: w.Respond(ctx, msg.req, msg.ans)}
		}, m.showPrompt()), true
	case respondedMsg:
		decision, detail := "approved", ""
		switch {
		case errors.Is(msg.err, approve.ErrWrongNumber):
			// Delivered: the server denied the sign-in because the number
			// did not match, and allows no second try.
			decision, detail = "denied", "the number did not match the sign-in screen"
		case errors.Is(msg.err, approve.ErrExpired):
			decision = "expired"
		case msg.err != nil:
			decision, detail = "failed", errorText(msg.err)
		case !msg.ans.Approve && msg.ans.Reason == approve.NotMe:
			decision = "not_me"
		case !msg.ans.Approve:
			decision = "denied"
		}
		switch {
		case decision == "failed":
			m.fail(fmt.Errorf("the answer to %s was not delivered: %w", appName(msg.req), msg.err))
		case detail != "":
			m.fail(fmt.Errorf("denied: sign-in to %s: %s", appName(msg.req), detail))
		default:
			m.say(decision + ": sign-in to " + appName(msg.req))
		}
		return m.record(msg.req, decision, detail), true
	case historyIntent:
		m.overlay = newHistoryScreen(m.c, m.data.History)
		return nil, true
	case pauseIntent:
		if len(m.data.Pairings) == 0 {
			m.fail(errors.New("no pairings: pair with 'sesame pair' first"))
			return nil, true
		}
		m.overlay = newPairingsScreen(m.c, m.data.Pairings, m.approve.statuses)
		return nil, true
	case pauseToggleIntent:
		if m.v == nil {
			return nil, true
		}
		return update(m.v, "", "", func(d *vault.Data) error {
			for i := range d.Pairings {
				if d.Pairings[i].ID == msg.id {
					d.Pairings[i].Paused = !d.Pairings[i].Paused
					return nil
				}
			}
			return errors.New("the pairing is gone: it was removed in another window")
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
		rec = m.record(r, "expired", "")
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

// record adds a decision to the vault's sign-in history.
func (m *Model) record(r approve.Request, decision, detail string) tea.Cmd {
	if m.v == nil {
		return nil
	}
	e := vault.Event{PairingID: r.PairingID, RequestID: r.ID, User: r.User, Application: r.Application,
		IP: r.IP, Location: r.Location, Decision: decision, Detail: detail, At: m.c.now.UTC()}
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
		case device.StateOK, device.StateConnecting, device.StatePaused, device.StateStopped:
			continue
		}
		bad = append(bad, st.String())
	}
	if len(bad) == 0 {
		if len(a.queue) > 0 {
			return s.Accent.Render(fmt.Sprintf("%d sign-in request(s)", len(a.queue)))
		}
		return s.Status.Render("sign-ins on")
	}
	slices.Sort(bad)
	return s.ToastErr.Render(bad[0])
}

// approvalScreen is the prompt for one sign-in request, drawn over the code
// list. Deny has the focus first, so a stray Enter never approves.
type approvalScreen struct {
	c       *common
	req     approve.Request
	more    int // further requests waiting
	focus   int // 0: Deny, then the choices (or the number field, or Approve)
	number  textinput.Model
	askWhy  bool // the denial's "Was this you?" step
	whyNot  bool // on that step: "no, it wasn't me" has the focus
	options []string
}

func newApprovalScreen(c *common, r approve.Request, more int) *approvalScreen {
	s := &approvalScreen{c: c, req: r, more: more, whyNot: true}
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

		s.number = ti
		s.options = []string{""}
	default:
		s.options = []string{"Approve"}
	}
	return s
}

func (s *approvalScreen) isDialog() {}

func (s *approvalScreen) update(msg tea.Msg) (screen, tea.Cmd) {
	km, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return s, nil
	}
	k := s.c.dialogKeys
	if s.askWhy {
		switch {
		case key.Matches(km, k.Left), key.Matches(km, k.Right):
			s.whyNot = !s.whyNot
		case key.Matches(km, k.Close):
			s.askWhy = false
		case key.Matches(km, k.Select):
			reason := approve.Cancelled
			if s.whyNot {
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
			return s, nil
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

func (s *approvalScreen) view() string {
	st := &s.c.styles
	r := s.req
	left := int(r.Expires.Sub(s.c.now).Round(time.Second) / time.Second)
	row := func(label, value string) string {
		if value == "" {
			return ""
		}
		return st.Label.Render(pad(label, 12)) + st.Text.Render(value) + "\n"
	}
	from := strings.Trim(r.IP+" · "+r.Location, " ·")
	var b strings.Builder
	title := "Sign-in request"
	if r.Title != "" {
		title = r.Title
	}
	b.WriteString(st.Title.Render(title))
	if s.more > 0 {
		b.WriteString(st.Muted.Render(fmt.Sprintf("  (+%d waiting)", s.more)))
	}
	b.WriteString("\n\n")
	b.WriteString(row("Application", r.Application))
	b.WriteString(row("User", r.User))
	b.WriteString(row("From", from))
	b.WriteString(row("Device", r.UserAgent))
	if !r.Created.IsZero() {
		ago := s.c.now.Sub(r.Created).Round(time.Second)
		when := "just now"
		if ago >= 2*time.Second {
			when = ago.String() + " ago"
		}
		b.WriteString(row("When", when))
	}
	ls := st.CodeExpiring
	if left > 10 {
		ls = st.Code
	}
	b.WriteString(st.Label.Render(pad("Expires in", 12)) + ls.Render(fmt.Sprintf("%d s", max(left, 0))) + "\n\n")
	if s.askWhy {
		b.WriteString(st.Text.Render("Was this you?") + "\n\n")
		yes, no := st.Button.Render("  Yes, I cancelled it  "), st.ButtonDanger.Render("[ No, it wasn't me ]")
		if !s.whyNot {
			yes, no = st.ButtonFocused.Render("[ Yes, I cancelled it ]"), st.Button.Render("  No, it wasn't me  ")
		}
		b.WriteString(yes + "  " + no + "\n")
		b.WriteString(st.Muted.Render(wrap("\"It wasn't me\" flags the attempt; a Sesame server also blocks further requests until you clear it.", 48)))
		return st.DialogDanger.Render(b.String())
	}
	if r.Question != "" {
		b.WriteString(st.Text.Render(wrap(r.Question, 48)) + "\n\n")
	}
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
		b.WriteString(st.Text.Render("Type the number shown on the sign-in screen:") + "\n")
		field := s.c.input(s.number)
		if s.focus == 1 {
			field = st.Accent.Render("› ") + field
		} else {
			field = "  " + field
		}
		b.WriteString(field + "\n\n" + deny + st.Muted.Render("   enter approves with the number"))
	case approve.ModeChoose, approve.ModePresence:
		b.WriteString(st.Text.Render("Pick the number shown on the sign-in screen:") + "\n\n")
		var bs []string
		for i, c := range s.options {
			bs = append(bs, button(i+1, c, false))
		}
		b.WriteString(strings.Join(bs, " ") + "\n\n" + deny)
	default:
		b.WriteString(deny + "  " + button(1, "Approve", false))
	}
	return st.Dialog.Render(b.String())
}

func (s *approvalScreen) keys() help.KeyMap {
	k := s.c.dialogKeys
	if s.askWhy {
		return bindings{k.Left, withHelp(k.Select, "enter", "send"), withHelp(k.Close, "esc", "back")}
	}
	return bindings{k.Left, withHelp(k.Select, "enter", "answer"), withHelp(k.Close, "esc", "deny")}
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
		ds := st.ToastOK
		if e.Decision != "approved" {
			ds = st.ToastErr
		}
		where := strings.Trim(e.IP+" "+e.Location, " ")
		b.WriteString("  " + st.Muted.Render(e.At.Local().Format("2006-01-02 15:04")) + "  " + ds.Render(pad(e.Decision, 9)) + " " +
			st.Text.Render(pad(e.Application, 20)) + " " + st.Muted.Render(pad(e.User, 16)+" "+where) + "\n")
	}
	return b.String()
}

func (s *historyScreen) keys() help.KeyMap { return bindings{s.close} }

func (s *historyScreen) keysOnly() {}

// pairingsScreen lists the pairings and pauses or resumes their sign-in requests.
type pairingsScreen struct {
	c        *common
	pairings []vault.Pairing
	statuses map[string]device.Status
	cursor   int
	toggle   key.Binding
	close    key.Binding
}

func newPairingsScreen(c *common, ps []vault.Pairing, st map[string]device.Status) *pairingsScreen {
	return &pairingsScreen{c: c, pairings: ps, statuses: st,
		toggle: key.NewBinding(key.WithKeys("space", "enter", "p"), key.WithHelp("space", "pause/resume")),
		close:  key.NewBinding(key.WithKeys("esc", "q"), key.WithHelp("esc", "close"))}
}

func (s *pairingsScreen) title() string { return "Sign-in pairings" }

func (s *pairingsScreen) update(msg tea.Msg) (screen, tea.Cmd) {
	km, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return s, nil
	}
	ps := s.pairings
	switch {
	case key.Matches(km, s.close):
		return nil, nil
	case km.String() == "up" || km.String() == "k":
		s.cursor = max(s.cursor-1, 0)
	case km.String() == "down" || km.String() == "j":
		s.cursor = min(s.cursor+1, len(ps)-1)
	case key.Matches(km, s.toggle) && s.cursor < len(ps):
		return s, send(pauseToggleIntent{id: ps[s.cursor].ID})
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
		} else if ss, ok := s.statuses[p.ID]; ok && ss.State != device.StateOK {
			state = st.ToastErr.Render(ss.String())
		}
		label := p.Label
		if label == "" {
			label = p.Server
		}
		b.WriteString(" " + mark + st.Issuer.Render(pad(label, 28)) + " " + st.Name.Render(pad(p.User, 20)) + " " + state + "\n")
	}
	return b.String()
}

func (s *pairingsScreen) keys() help.KeyMap { return bindings{s.toggle, s.close} }

func (s *pairingsScreen) keysOnly() {}
