package tui

import (
	"net/url"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/sesame-auth/sesame/vault"
)

var quitKey = key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit"))

// wrap breaks text into lines of at most w cells, at spaces only: a flag
// such as --passphrase-file or a hyphenated name stays whole. A word longer
// than a line is cut where the line ends.
func wrap(text string, w int) string {
	w = max(w, 10)
	var out []string
	for _, para := range strings.Split(text, "\n") {
		line := ""
		for _, word := range strings.Fields(para) {
			switch {
			case line == "":
				line = word
			case ansi.StringWidth(line)+1+ansi.StringWidth(word) <= w:
				line += " " + word
			default:
				out = append(out, line)
				line = word
			}
			for ansi.StringWidth(line) > w {
				out = append(out, ansi.Truncate(line, w, ""))
				line = ansi.TruncateLeft(line, w, "")
			}
		}
		out = append(out, line)
	}
	return strings.Join(out, "\n")
}

// center places block in the middle of the body area.
func center(c *common, block string, h int) string {
	return lipgloss.Place(c.width, max(h, lipgloss.Height(block)), lipgloss.Center, lipgloss.Center, block)
}

// bodyHeight is the height left for a screen's body under the title bar and
// above the status and help lines.
func bodyHeight(c *common) int { return max(c.height-3, 1) }

// openingScreen shows while the vault is being read.
type openingScreen struct{ c *common }

func newOpeningScreen(c *common) *openingScreen { return &openingScreen{c: c} }

func (s *openingScreen) update(msg tea.Msg) (screen, tea.Cmd) {
	if km, ok := msg.(tea.KeyPressMsg); ok && key.Matches(km, quitKey) {
		return s, tea.Quit
	}
	return s, nil
}
func (s *openingScreen) view() string {
	return center(s.c, s.c.styles.Muted.Render("Opening the vault…"), bodyHeight(s.c))
}
func (s *openingScreen) keys() help.KeyMap { return bindings{quitKey} }

type unlockMode int

const (
	unlockPassphrase unlockMode = iota // a passphrase vault
	unlockRecovery                     // a keyring vault whose key is gone, opened with its recovery passphrase
)

// unlockScreen asks for the vault's passphrase.
type unlockScreen struct {
	c        *common
	mode     unlockMode
	input    textinput.Model
	err      string
	busy     bool
	attempts int
	submit   key.Binding
}

func newUnlockScreen(c *common, mode unlockMode, err string) *unlockScreen {
	ti := textinput.New()
	ti.Prompt = "Passphrase: "
	ti.EchoMode = textinput.EchoPassword
	ti.EchoCharacter = '•'
	ti.CharLimit = 1024
	ti.SetWidth(40)
	ti.SetStyles(c.styles.Input)

	return &unlockScreen{c: c, mode: mode, input: ti, err: err,
		submit: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "unlock"))}
}

func (s *unlockScreen) focus() tea.Cmd { return s.input.Focus() }

func (s *unlockScreen) update(msg tea.Msg) (screen, tea.Cmd) {
	if s.busy {
		return s, nil
	}
	km := keyOf(msg)
	switch msg.(type) {
	case tea.KeyPressMsg, tea.PasteMsg:
	default:
		return s, nil
	}
	switch {
	case key.Matches(km, s.c.formKeys.Back):
		return s, tea.Quit
	case key.Matches(km, s.submit):
		if s.input.Value() == "" {
			s.err = "type the passphrase, or press esc to quit"
			return s, nil
		}
		p := []byte(s.input.Value())
		s.input.Reset()
		s.busy, s.err = true, ""
		s.attempts++
		return s, send(unlockIntent{passphrase: p})
	}
	var cmd tea.Cmd
	s.input, cmd = s.input.Update(msg)
	return s, cmd
}

func (s *unlockScreen) view() string {
	st := &s.c.styles
	title, text := "This vault is protected by a passphrase",
		"Type it to open the vault. Set SESAME_PASSPHRASE or use --passphrase-file to skip this screen in scripts."
	if s.mode == unlockRecovery {
		title, text = "The vault key is missing from the OS keyring",
			"Type the vault's recovery passphrase to open it. Then run 'sesame recover' to put the key back in the keyring."
	}
	lines := []string{st.Title.Render(title), "", st.Muted.Render(wrap(text, 56)), "", s.c.input(s.input)}
	switch {
	case s.busy:
		lines = append(lines, "", st.Muted.Render("Unlocking…"))
	case s.err != "":
		lines = append(lines, "", st.FieldError.Render(wrap(s.err, 56)))
	}
	return center(s.c, st.Dialog.Render(strings.Join(lines, "\n")), bodyHeight(s.c))
}

func (s *unlockScreen) keys() help.KeyMap {
	return bindings{s.submit, key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "quit"))}
}

type problemKind int

const (
	problemKeyring problemKind = iota
	problemOther
)

// problemScreen explains why the vault cannot be opened and what to do.
type problemScreen struct {
	c            *common
	kind         problemKind
	err          error
	retry, recov key.Binding
}

func newProblemScreen(c *common, kind problemKind, err error) *problemScreen {
	return &problemScreen{c: c, kind: kind, err: err,
		retry: key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "retry")),
		recov: key.NewBinding(key.WithKeys("p"), key.WithHelp("p", "use recovery passphrase"), key.WithDisabled())}
}

func (s *problemScreen) update(msg tea.Msg) (screen, tea.Cmd) {
	km, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return s, nil
	}
	k := s.keys().(bindings)
	switch {
	case key.Matches(km, quitKey):
		return s, tea.Quit
	case key.Matches(km, k[0]):
		return s, send(retryIntent{})
	case s.kind == problemKeyring && key.Matches(km, k[1]):
		return s, send(recoverIntent{})
	}
	return s, nil
}

func (s *problemScreen) view() string {
	st := &s.c.styles
	var lines []string
	if s.kind == problemKeyring {
		lines = []string{
			st.Title.Render("The OS keyring is locked or not running"),
			"",
			st.Text.Render(wrap("Sesame keeps the key to your vault in the OS keyring, and cannot reach it right now.", 60)),
			"",
			st.Muted.Render(wrap("Unlock the keyring (log in to your desktop session, or run 'gnome-keyring-daemon --unlock'), then press r. If you set a recovery passphrase, press p to use it instead.", 60)),
			"",
			st.FieldError.Render(wrap(errorText(s.err), 60)),
		}
	} else {
		lines = []string{
			st.Title.Render("Sesame cannot open the vault"),
			"",
			st.FieldError.Render(wrap(errorText(s.err), 60)),
			"",
			st.Muted.Render(wrap("Nothing was changed. Fix the problem above, then press r to try again.", 60)),
		}
	}
	return center(s.c, st.DialogDanger.Render(strings.Join(lines, "\n")), bodyHeight(s.c))
}

func (s *problemScreen) keys() help.KeyMap {
	r := s.recov
	r.SetEnabled(s.kind == problemKeyring)
	return bindings{s.retry, r, quitKey}
}

// confirmScreen asks before deleting an account. "Keep" has the focus, so
// a stray Enter never deletes.
type confirmScreen struct {
	c      *common
	acct   vault.Account
	delete bool // which button has the focus
}

func newConfirmScreen(c *common, a vault.Account) *confirmScreen {
	return &confirmScreen{c: c, acct: a}
}

func (s *confirmScreen) isDialog() {}

func (s *confirmScreen) update(msg tea.Msg) (screen, tea.Cmd) {
	km, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return s, nil
	}
	k := s.c.dialogKeys
	switch {
	case key.Matches(km, k.Yes):
		return nil, send(confirmDeleteIntent{s.acct})
	case key.Matches(km, k.No), key.Matches(km, k.Close):
		return nil, nil
	case key.Matches(km, k.Left), key.Matches(km, k.Right):
		s.delete = !s.delete
	case key.Matches(km, k.Select):
		if s.delete {
			return nil, send(confirmDeleteIntent{s.acct})
		}
		return nil, nil
	}
	return s, nil
}

func (s *confirmScreen) view() string {
	st := &s.c.styles
	keep, del := st.ButtonFocused.Render("[ Keep ]"), st.Button.Render("  Delete  ")
	if s.delete {
		keep, del = st.Button.Render("  Keep  "), st.ButtonDanger.Render("[ Delete ]")
	}
	body := strings.Join([]string{
		st.Danger.Render("Delete " + s.acct.Label() + "?"),
		"",
		st.Muted.Render(wrap("Its secret leaves the vault. Press u to undo until you quit Sesame; after that it is gone.", 46)),
		"",
		keep + "  " + del,
	}, "\n")
	return st.DialogDanger.Render(body)
}

func (s *confirmScreen) keys() help.KeyMap {
	k := s.c.dialogKeys
	return bindings{k.Yes, k.No, k.Left, k.Select}
}

// qrArt is text drawn as a QR code of half blocks (two modules a cell),
// dark modules on a light field whatever the theme.
type qrArt struct {
	art  string // the QR code, styled
	w, h int    // its size in cells
	err  error  // why there is no QR code
}

// qrView fills the terminal with a warning, the QR code and a footer, all
// centred; when the QR code does not fit whole it shows tooSmall instead,
// never a QR code cut short.
func qrView(c *common, q qrArt, warn, foot, tooSmall string) string {
	st := &c.styles
	warn, foot = wrap(warn, c.width), wrap(foot, c.width)
	if q.err != nil {
		msg := st.FieldError.Render(wrap("✗ cannot draw the QR code: "+q.err.Error(), min(c.width-4, 60)))
		return lipgloss.Place(c.width, c.height, lipgloss.Center, lipgloss.Center, msg+"\n\n"+foot)
	}
	if q.w > c.width || q.h+lipgloss.Height(warn)+lipgloss.Height(foot) > c.height {
		msg := st.Text.Render(wrap(tooSmall, min(c.width-4, 60)))
		return lipgloss.Place(c.width, c.height, lipgloss.Center, lipgloss.Center, msg+"\n\n"+foot)
	}
	block := lipgloss.JoinVertical(lipgloss.Center, warn, q.art, foot)
	if h := lipgloss.Height(block); h+2 <= c.height {
		// Room for the title bar too: the screen still says whose it is.
		title := " " + st.Title.Render("Sesame")
		return title + "\n" + lipgloss.Place(c.width, c.height-1, lipgloss.Center, lipgloss.Center, block)
	}
	return lipgloss.Place(c.width, c.height, lipgloss.Center, lipgloss.Center, block)
}

// qrScreen shows an account as a QR code, to move it to a phone. In
// privacy mode (codes masked because someone may see the screen) it asks
// for a second key before it shows the secret.
type qrScreen struct {
	c    *common
	acct vault.Account
	qrArt
	// ask holds the QR code back until the user confirms.
	ask         bool
	close, show key.Binding
}

func newQRScreen(c *common, a vault.Account) *qrScreen {
	return &qrScreen{c: c, acct: a, qrArt: newQRArt(c, shortURI(&a)), ask: c.privacy,
		close: key.NewBinding(key.WithKeys("esc", "x", "q", "enter"), key.WithHelp("esc", "hide")),
		show:  key.NewBinding(key.WithKeys("x", "enter"), key.WithHelp("x/enter", "show it"))}
}

// shortURI is the account's link without parameters that are the defaults
// every app assumes, so the QR code is as small as it can be.
func shortURI(a *vault.Account) string {
	u, err := url.Parse(a.URI())
	if err != nil {
		return a.URI()
	}
	q := u.Query()
	if q.Get("algorithm") == string(vault.SHA1) {
		q.Del("algorithm")
	}
	if q.Get("digits") == "6" && a.Type != vault.Steam {
		q.Del("digits")
	}
	if q.Get("period") == "30" {
		q.Del("period")
	}
	u.RawQuery = strings.ReplaceAll(q.Encode(), "+", "%20")
	return u.String()
}

func (s *qrScreen) fullscreen() {}

func (s *qrScreen) update(msg tea.Msg) (screen, tea.Cmd) {
	km, ok := msg.(tea.KeyPressMsg)
	switch {
	case !ok:
	case s.ask && key.Matches(km, s.show):
		s.ask = false
	case key.Matches(km, s.close):
		return nil, nil
	}
	return s, nil
}

func (s *qrScreen) view() string {
	st := &s.c.styles
	if s.ask {
		w := min(s.c.width-4, 60)
		msg := st.Danger.Render(wrap("⚠ Codes are masked: someone may see this screen.", w)) + "\n\n" +
			st.Text.Render(wrap("The QR code holds the secret of "+s.acct.Label()+": anyone who sees it can copy the account.", w)) + "\n\n" +
			st.Muted.Render(wrap("Press x or enter to show it, esc to cancel.", w))
		return lipgloss.Place(s.c.width, s.c.height, lipgloss.Center, lipgloss.Center, msg)
	}
	// One line of warning, so that an ordinary account's code (a version 6
	// QR code, 22 rows) fits 80x24 with it: a long label is shortened.
	label := s.acct.Label()
	before, after := "⚠ Anyone who sees this QR code can copy ", "."
	if room := s.c.width - ansi.StringWidth(before+after); ansi.StringWidth(label) > room && room > 8 {
		label = ansi.Truncate(label, room, "…")
	}
	warn := st.Danger.Render(before + label + after)
	foot := st.Muted.Render("Scan it with your phone's authenticator app · esc hides it")
	tooSmall := "The terminal is too small for this QR code: it needs " +
		strconv.Itoa(s.w) + "×" + strconv.Itoa(s.h+2) + " cells. Enlarge the window or reduce the font size."
	return qrView(s.c, s.qrArt, warn, foot, tooSmall)
}

func (s *qrScreen) keys() help.KeyMap {
	if s.ask {
		return bindings{s.show, withHelp(s.close, "esc", "cancel")}
	}
	return bindings{s.close}
}
