package tui

import (
	"context"
	"errors"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/sesame-auth/sesame/tui/clipboard"
	screencap "github.com/sesame-auth/sesame/tui/screen"
	"github.com/sesame-auth/sesame/vault"
	"github.com/sesame-auth/sesame/vault/transfer"
)

// codeSource is where the add dialog reads QR codes from.
type codeSource int

const (
	fromScreen codeSource = iota
	fromClipboard
)

func (c codeSource) String() string {
	if c == fromClipboard {
		return "the clipboard"
	}
	return "the screen"
}

// screenCapturer is how the add dialog captures the screen: Options.Screen,
// else screen.Detect.
func (o Options) screenCapturer() func() (screencap.Capturer, error) {
	if o.Screen != nil {
		return o.Screen
	}
	return func() (screencap.Capturer, error) { return screencap.Detect(screencap.Env{Getenv: o.Getenv}) }
}

// clipboardCodes reads the codes on the clipboard (Options.Paste, else
// clipboard.DetectSource).
func (o Options) clipboardCodes() func(context.Context) ([]string, error) {
	paste := o.Paste
	if paste == nil {
		paste = func() (clipboard.Source, error) { return clipboard.DetectSource(clipboard.Env{Getenv: o.Getenv}) }
	}
	return func(ctx context.Context) ([]string, error) {
		src, err := paste()
		if err != nil {
			return nil, err
		}
		content, err := src.Paste(ctx)
		if err != nil {
			return nil, err
		}
		return clipboard.Codes(content)
	}
}

// scannedMsg is what reading the screen or the clipboard found.
type scannedMsg struct {
	from codeSource
	res  *transfer.Result
	err  error
	// aside is set for a capture taken with the UI stepped aside.
	aside bool
}

// foundCodes imports what the codes read from hold.
func foundCodes(from codeSource, texts []string, err error) scannedMsg {
	if err != nil {
		return scannedMsg{from: from, err: err}
	}
	res, err := transfer.FromCodes(transfer.ImportOptions{}, from.String(), texts)
	return scannedMsg{from: from, res: res, err: err}
}

// readClipboard reads the clipboard's codes, in a Cmd.
func readClipboard(read func(context.Context) ([]string, error)) tea.Cmd {
	return func() tea.Msg {
		texts, err := read(context.Background())
		return foundCodes(fromClipboard, texts, err)
	}
}

// asideMsg asks the root model to step aside (leave the alternate screen)
// and then capture with c.
type asideMsg struct{ c screencap.Capturer }

// scanScreen captures the screen and reads its codes, in a Cmd. When the UI
// fills the terminal's alternate screen (canAside), the terminal's place
// decides (screen.AsideFor): a terminal covering every screen steps aside
// before capturing; one that may be in the picture steps aside and captures
// again when the first capture found no code.
func scanScreen(capture func() (screencap.Capturer, error), canAside bool) tea.Cmd {
	return func() tea.Msg {
		ctx := context.Background()
		c, err := capture()
		if err != nil {
			return scannedMsg{from: fromScreen, err: err}
		}
		rule := screencap.StayPut
		if canAside {
			rule = screencap.AsideFor(screencap.Where(ctx, c))
		}
		if rule == screencap.AsideFirst {
			return asideMsg{c: c}
		}
		texts, err := screencap.Scan(ctx, c)
		if rule == screencap.AsideIfNone && errors.Is(err, screencap.ErrNoCode) {
			return asideMsg{c: c}
		}
		return foundCodes(fromScreen, texts, err)
	}
}

// scanAside captures with c while the UI has stepped aside, in a Cmd.
func scanAside(c screencap.Capturer) tea.Cmd {
	return func() tea.Msg {
		texts, err := screencap.Scan(context.Background(), c)
		msg := foundCodes(fromScreen, texts, err)
		msg.aside = true
		return msg
	}
}

// pick is one account found, in the list to choose from.
type pick struct {
	acct vault.Account
	have bool // already in the vault
	on   bool
}

// pickKeys move through the list of accounts found and choose them.
type pickKeys struct {
	Up, Down, Toggle key.Binding
}

func defaultPickKeys() pickKeys {
	return pickKeys{
		Up:     key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/↓", "move")),
		Down:   key.NewBinding(key.WithKeys("down", "j")),
		Toggle: key.NewBinding(key.WithKeys("space", "x"), key.WithHelp("space", "choose")),
	}
}

// newPicks lists the accounts found, each chosen unless it is already in
// the vault.
func newPicks(found, have []vault.Account) []pick {
	out := make([]pick, len(found))
	for i, a := range found {
		a.Normalize()
		in := false
		for j := range have {
			if have[j].SameAs(&a) {
				in = true
				break
			}
		}
		out[i] = pick{acct: a, have: in, on: !in}
	}
	return out
}

// scanned handles what the screen or the clipboard held: one new account is
// saved at once; several are listed to choose from.
func (s *addScreen) scanned(msg scannedMsg) tea.Cmd {
	s.busy = ""
	switch {
	case msg.err != nil:
		s.err = errorText(msg.err)
		return nil
	case len(msg.res.Accounts) == 1:
		return s.save(saveIntent{accts: msg.res.Accounts, merge: true, skipped: len(msg.res.Skipped), warnings: msg.res.Warnings})
	case len(msg.res.Accounts) == 0:
		s.err = "no account could be read from " + msg.from.String()
		return nil
	}
	s.picks, s.pickAt, s.pickFrom, s.mode = newPicks(msg.res.Accounts, s.have), 0, msg.from, addPick
	s.pickWarn = msg.res.Warnings
	return nil
}

func (s *addScreen) updatePick(msg tea.Msg) tea.Cmd {
	km := keyOf(msg)
	switch {
	case key.Matches(km, s.pickKeys.Up):
		s.pickAt = (s.pickAt + len(s.picks) - 1) % len(s.picks)
	case key.Matches(km, s.pickKeys.Down):
		s.pickAt = (s.pickAt + 1) % len(s.picks)
	case key.Matches(km, s.pickKeys.Toggle):
		s.picks[s.pickAt].on = !s.picks[s.pickAt].on
	case key.Matches(km, s.c.formKeys.Submit):
		var chosen []vault.Account
		for _, p := range s.picks {
			if p.on {
				chosen = append(chosen, p.acct)
			}
		}
		if len(chosen) == 0 {
			s.err = "nothing chosen: press space on the accounts to add"
			return nil
		}
		return s.save(saveIntent{accts: chosen, merge: true, warnings: s.pickWarn})
	}
	return nil
}

func (s *addScreen) pickView() string {
	st := &s.c.styles
	var b strings.Builder
	b.WriteString("  " + st.Text.Render(strconv.Itoa(len(s.picks))+" accounts found on "+s.pickFrom.String()+":") + "\n\n")
	for i, p := range s.picks {
		mark, ls := "  ", st.Text
		if i == s.pickAt {
			mark, ls = st.Gutter.Render("▌ "), st.IssuerSelected
		}
		box := "[ ]"
		if p.on {
			box = "[x]"
		}
		line := " " + mark + box + " " + ls.Render(p.acct.Label())
		if p.have {
			line += "  " + st.Muted.Render("already in the vault")
		}
		b.WriteString(line + "\n")
	}
	return b.String()
}
