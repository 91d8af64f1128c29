package tui

import (
	"context"
	"strconv"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/sesame-auth/sesame/tui/clipboard"
	screencap "github.com/sesame-auth/sesame/tui/screen"
	"github.com/sesame-auth/sesame/vault"
)

// common is what every screen reads: styles, keys, the terminal's size and
// the time of the last tick. Only the root model's Update writes it.
type common struct {
	styles     Styles
	formKeys   FormKeys
	dialogKeys DialogKeys
	interrupt  key.Binding // ends Sesame from any screen
	width      int
	height     int
	now        time.Time
	privacy    bool
	// capture finds how to capture the screen, and clipboardCodes reads
	// the QR codes of the clipboard, for the add dialog; they run in Cmds.
	capture        func() (screencap.Capturer, error)
	clipboardCodes func(ctx context.Context) ([]string, error)
	// altScreen is set when the UI fills the alternate screen, and so may
	// step aside for a screen capture.
	altScreen bool
}

// screen is one screen of the UI. Every screen has the same shape: update
// returns the screen that should be shown next (nil closes an overlay).
type screen interface {
	update(msg tea.Msg) (screen, tea.Cmd)
	view() string
	keys() help.KeyMap
}

// dialog marks screens drawn in a box over the code list rather than in its place.
type dialog interface{ isDialog() }

// Model is the root of the UI. It owns the vault handle and routes messages:
// keys to the overlay screen if one is open, else to the base screen (the
// code list, or the unlock screens while the vault is locked).
type Model struct {
	o      Options
	c      *common
	help   help.Model
	clip   clipboard.Clipboard
	tickID int

	v       *vault.Vault // nil until opened (or while there is no vault)
	data    vault.Data   // the vault's contents as last read or written
	store   vault.StoreKind
	list    *listScreen
	base    screen // the unlock, first-run or failure screen; nil once the list shows
	overlay screen
	prompt  screen // the sign-in approval prompt, above everything else

	toast   toast
	copySeq int
	// pendingClear is the copied code whose clear timer has not fired yet,
	// handed to Options.ClearLater when the program quits first.
	pendingClear pendingClear
	undo         *deletedAccount
	approve      approvalState
	fatal        error
	// themeKnown is set once the palette is settled: by Options, by the
	// terminal's answer or by its silence (backgroundWait).
	themeKnown bool
	// aside is set while the UI steps aside for a screen capture.
	aside asideState
}

type toast struct {
	text  string
	err   bool
	until time.Time
}

type deletedAccount struct {
	acct  vault.Account
	index int
}

// New builds the root model. Run calls it; tests use it with teatest.
func New(o Options) Model {
	if o.ReloadEvery <= 0 {
		o.ReloadEvery = 2 * time.Second
	}
	if o.Out == nil {
		o.Out = discard{}
	}
	dark, known := o.background()
	c := &common{
		styles:         NewStyles(DefaultPalette(), dark),
		formKeys:       DefaultFormKeys(),
		dialogKeys:     DefaultDialogKeys(),
		interrupt:      key.NewBinding(key.WithKeys("ctrl+c")),
		width:          80,
		height:         24,
		now:            o.now(),
		privacy:        o.Privacy,
		capture:        o.screenCapturer(),
		clipboardCodes: o.clipboardCodes(),
		altScreen:      !o.NoAltScreen,
	}
	h := help.New()
	h.Styles = c.styles.Help
	clip := o.Clipboard
	if clip == nil {
		clip = clipboard.Detect(clipboard.Env{Getenv: o.Getenv, Terminal: o.Out})
	}
	m := Model{o: o, c: c, help: h, clip: clip, tickID: 1, themeKnown: known}
	m.list = newListScreen(c)
	m.base = newOpeningScreen(c)
	return m
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// Init opens the vault, starts the clock and the frame pacing and, unless
// the theme is already known, asks the terminal for its background colour.
func (m Model) Init() tea.Cmd {
	m.o.pace.attach()
	open := m.o.opening
	if open == nil {
		open = openVault(m.o.VaultOptions)
	}
	cmds := []tea.Cmd{open, m.tick()}
	if !m.themeKnown {
		cmds = append(cmds, tea.RequestBackgroundColor, tea.Tick(backgroundWait, func(time.Time) tea.Msg { return backgroundTimeoutMsg{} }))
	}
	return tea.Batch(cmds...)
}

// tickMsg is the 1 Hz clock. Codes are computed from T, never by counting ticks.
type tickMsg struct {
	id int
	t  time.Time
}

// tick fires on the next whole second of the wall clock.
func (m Model) tick() tea.Cmd {
	id, clock := m.tickID, m.o.Clock
	return tea.Every(time.Second, func(t time.Time) tea.Msg {
		if clock != nil {
			t = clock()
		}
		return tickMsg{id: id, t: t}
	})
}

// Update routes one message.
func (m Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	m.o.pace.message(msg)
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.c.width, m.c.height = msg.Width, msg.Height
		m.help.SetWidth(msg.Width)
		return m, nil
	case tea.BackgroundColorMsg:
		if !m.themeKnown {
			m.themeKnown = true
			m.c.styles = NewStyles(DefaultPalette(), msg.IsDark())
			m.help.Styles = m.c.styles.Help
		}
		return m, nil
	case backgroundTimeoutMsg:
		m.themeKnown = true // no answer: the dark palette stays, and a late answer changes nothing
		return m, nil
	case tickMsg:
		if msg.id != m.tickID {
			return m, nil // a stale loop: let it die
		}
		m.c.now = msg.t
		if !m.toast.until.IsZero() && !m.c.now.Before(m.toast.until) {
			m.toast = toast{}
		}
		cmds := []tea.Cmd{m.tick(), m.expireApprovals()}
		if m.overlay != nil {
			var cmd tea.Cmd
			m.overlay, cmd = m.overlay.update(msg)
			cmds = append(cmds, cmd)
		}
		return m, tea.Batch(cmds...)
	case tea.KeyPressMsg:
		if key.Matches(msg, m.c.interrupt) {
			return m, tea.Quit
		}
		if msg.Mod.Contains(tea.ModAlt) && m.keysOnly() {
			// esc then a key, typed faster than they are read, arrive as
			// alt+key. Sesame binds no alt keys; only text fields use them
			// (alt+b moves back a word), so elsewhere they are the two keys.
			msg.Mod &^= tea.ModAlt
			return m.sequence(tea.KeyPressMsg{Code: tea.KeyEscape}, msg)
		}
	}
	if cmd, handled := m.handle(msg); handled {
		return m, cmd
	}
	return m.route(msg)
}

// sequence handles keys one after the other, as if each came on its own.
func (m Model) sequence(keys ...tea.KeyPressMsg) (tea.Model, tea.Cmd) {
	var cmds []tea.Cmd
	var next tea.Model = m
	for _, k := range keys {
		var cmd tea.Cmd
		next, cmd = next.Update(k)
		cmds = append(cmds, cmd)
	}
	return next, tea.Sequence(cmds...)
}

// keysOnly reports whether the screen with the focus has no text field, so
// that an alt+key there can only be esc followed by the key.
func (m Model) keysOnly() bool {
	s := m.focused()
	if s == nil {
		return !m.list.filtering
	}
	_, ok := s.(interface{ keysOnly() })
	return ok
}

// focused is the screen keys go to; nil means the code list.
func (m Model) focused() screen {
	switch {
	case m.prompt != nil:
		return m.prompt
	case m.overlay != nil:
		return m.overlay
	}
	return m.base
}

// route gives a message to the screen that has the focus.
func (m Model) route(msg tea.Msg) (tea.Model, tea.Cmd) {
	var cmd tea.Cmd
	switch msg.(type) {
	case tea.KeyPressMsg, tea.PasteMsg: // typed or pasted input goes to the prompt above everything
		if m.prompt != nil {
			m.prompt, cmd = m.prompt.update(msg)
			return m, cmd
		}
	}
	switch {
	case m.overlay != nil:
		m.overlay, cmd = m.overlay.update(msg)
	case m.base != nil:
		m.base, cmd = m.base.update(msg)
	default:
		var s screen
		s, cmd = m.list.update(msg)
		m.list = s.(*listScreen)
	}
	return m, cmd
}

// say shows a toast in the status line for a few seconds.
func (m *Model) say(text string) {
	m.toast = toast{text: text, until: m.c.now.Add(4 * time.Second)}
}

// fail shows an error toast; errors stay longer.
func (m *Model) fail(err error) {
	m.toast = toast{text: errorText(err), err: true, until: m.c.now.Add(10 * time.Second)}
}

// errorText is an error as a single line.
func errorText(err error) string {
	return strings.Join(strings.Fields(err.Error()), " ")
}

// View is the program's view of the model: the frame, on the alternate
// screen unless Options.NoAltScreen; nothing, off the alternate screen,
// while it steps aside for a screen capture.
func (m Model) View() tea.View {
	if m.aside.hidden() {
		m.o.pace.shown("")
		v := tea.NewView("")
		v.WindowTitle = "Sesame"
		return v
	}
	f := m.frame()
	m.o.pace.shown(f)
	v := tea.NewView(f)
	v.AltScreen = !m.o.NoAltScreen
	v.WindowTitle = "Sesame"
	return v
}

// frame draws the whole screen: title bar, body, status line, help.
func (m Model) frame() string {
	c := m.c
	w, h := c.width, c.height
	helpKeys := m.focusedKeys()
	helpView := m.helpView(helpKeys)
	helpLines := strings.Count(helpView, "\n") + 1
	status := m.statusLine()
	bodyH := max(h-1-lipgloss.Height(status)-helpLines, 1)
	if m.o.Notice != "" {
		bodyH = max(bodyH-1, 1)
	}

	if f, ok := m.overlay.(interface{ fullscreen() }); ok && f != nil {
		return fit(m.overlay.view(), w, h)
	}
	// The header first: it decides which periods have a countdown bar, and
	// the rows of the others carry their own.
	header := m.header()
	var body string
	switch {
	case m.overlay != nil && !isDialog(m.overlay):
		body = m.overlay.view()
	case m.base != nil:
		body = m.base.view()
	default:
		body = m.list.body(bodyH)
		if m.overlay != nil {
			body = placeOver(fit(body, w, bodyH), m.overlay.view(), w, bodyH)
		}
	}
	if m.prompt != nil {
		body = placeOver(fit(body, w, bodyH), m.prompt.view(), w, bodyH)
	}
	var b strings.Builder
	b.WriteString(header)
	b.WriteByte('\n')
	b.WriteString(fit(body, w, bodyH))
	b.WriteByte('\n')
	if m.o.Notice != "" {
		b.WriteString(ansi.Truncate(" "+c.styles.Accent.Render(m.o.Notice), w, "…"))
		b.WriteByte('\n')
	}
	b.WriteString(status)
	b.WriteByte('\n')
	b.WriteString(helpView)
	return b.String()
}

func isDialog(s screen) bool { _, ok := s.(dialog); return ok }

func (m Model) focusedKeys() help.KeyMap {
	if s := m.focused(); s != nil {
		return s.keys()
	}
	return m.list.keys()
}

// header is the title and, on the code list, the shared countdowns.
func (m Model) header() string {
	s := &m.c.styles
	title := s.Title.Render("Sesame")
	right, w := "", m.c.width
	if t, ok := m.overlay.(interface{ title() string }); ok && m.overlay != nil {
		title += s.Subtitle.Render("  " + t.title())
	}
	if m.base == nil && (m.overlay == nil || isDialog(m.overlay)) {
		w = min(w, maxListWidth) // the countdowns sit above the codes they time
		right = m.list.countdowns(w - ansi.StringWidth(title) - 3)
	}
	gap := w - ansi.StringWidth(title) - ansi.StringWidth(right) - 2
	if gap < 1 {
		return ansi.Truncate(" "+title+" "+right, m.c.width, "")
	}
	return " " + title + strings.Repeat(" ", gap) + right + " "
}

// statusLine says how the vault is protected, how many accounts it holds,
// the approvals' network state and the last toast.
func (m Model) statusLine() string {
	s := &m.c.styles
	var parts []string
	if m.v != nil {
		switch m.store {
		case vault.StoreKeyring:
			parts = append(parts, s.Status.Render("key in OS keyring"))
		case vault.StorePassphrase:
			parts = append(parts, s.Status.Render("passphrase vault"))
		}
		n := m.list.count()
		word := "accounts"
		if n == 1 {
			word = "account"
		}
		parts = append(parts, s.StatusStrong.Render(strconv.Itoa(n))+s.Status.Render(" "+word))
	}
	if m.c.privacy {
		parts = append(parts, s.Accent.Render("codes masked"))
	}
	if net := m.approve.status(s); net != "" {
		parts = append(parts, net)
	}
	left := " " + strings.Join(parts, s.Status.Render(" · "))
	if m.toast.text != "" {
		st := s.ToastOK
		mark := "✓ "
		if m.toast.err {
			st, mark = s.ToastErr, "✗ "
		}
		t := st.Render(mark + m.toast.text)
		switch {
		case len(parts) > 0 && ansi.StringWidth(left)+2+ansi.StringWidth(t) <= m.c.width:
			left += s.Status.Render("  ") + t
		case ansi.StringWidth(t)+1 <= m.c.width:
			left = " " + t // the news matters more than the counts for these few seconds
		default:
			// Too long for one line: the toast takes two, cut only if it needs more.
			lines := strings.Split(wrap(mark+m.toast.text, m.c.width-1), "\n")
			if len(lines) > 2 {
				lines = lines[:2]
				lines[1] += " …"
			}
			for i, l := range lines {
				lines[i] = ansi.Truncate(" "+st.Render(l), m.c.width, "…")
			}
			return strings.Join(lines, "\n")
		}
	}
	return ansi.Truncate(left, m.c.width, "…")
}

// helpView is the short help on one line, or on two when it does not fit
// (a key cut off at the edge is a key the user never learns); the full
// help as the help model draws it.
func (m Model) helpView(k help.KeyMap) string {
	if m.help.ShowAll {
		return m.help.View(k)
	}
	h := m.help
	h.SetWidth(0)
	var enabled []key.Binding
	for _, b := range k.ShortHelp() {
		if b.Enabled() {
			enabled = append(enabled, b)
		}
	}
	one := h.ShortHelpView(enabled)
	if ansi.StringWidth(one) <= m.c.width || len(enabled) < 2 {
		return m.help.View(k)
	}
	// Fill the first line as far as it goes; the rest go on the second.
	split := 1
	for i := 2; i < len(enabled); i++ {
		if ansi.StringWidth(h.ShortHelpView(enabled[:i])) > m.c.width {
			break
		}
		split = i
	}
	h.SetWidth(m.c.width)
	return h.ShortHelpView(enabled[:split]) + "\n" + h.ShortHelpView(enabled[split:])
}

// fit pads or cuts s to exactly h lines of at most w cells.
func fit(s string, w, h int) string {
	lines := strings.Split(s, "\n")
	if len(lines) > h {
		lines = lines[:h]
	}
	for i, l := range lines {
		if ansi.StringWidth(l) > w {
			lines[i] = ansi.Truncate(l, w, "")
		}
	}
	for len(lines) < h {
		lines = append(lines, "")
	}
	return strings.Join(lines, "\n")
}

// placeOver draws box centred over bg (w×h cells), keeping bg on either side.
func placeOver(bg, box string, w, h int) string {
	bl := strings.Split(bg, "\n")
	fl := strings.Split(box, "\n")
	bw := 0
	for _, l := range fl {
		bw = max(bw, ansi.StringWidth(l))
	}
	x := max((w-bw)/2, 0)
	y := max((h-len(fl))/2, 0)
	for i, l := range fl {
		if y+i >= len(bl) {
			break
		}
		under := bl[y+i]
		left := ansi.Truncate(under, x, "")
		if pad := x - ansi.StringWidth(left); pad > 0 {
			left += strings.Repeat(" ", pad)
		}
		l += strings.Repeat(" ", bw-ansi.StringWidth(l))
		right := ansi.TruncateLeft(under, x+bw, "")
		bl[y+i] = left + l + right
	}
	return strings.Join(bl, "\n")
}
