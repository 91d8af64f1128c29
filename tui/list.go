package tui

import (
	"cmp"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"github.com/sesame-auth/sesame/vault"
)

// maxListWidth caps the code list's width on wide terminals, so that codes
// stay close to their names.
const maxListWidth = 110

// expiringSecs is when a code turns to the expiring colour and the next code
// appears beside it.
const expiringSecs = 5

// listScreen is the main screen: every account with its code.
type listScreen struct {
	c      *common
	k      ListKeys
	fk     FilterKeys
	rows   []row
	shown  []int // indexes into rows after filtering, in display order
	cursor int   // index into shown
	offset int   // first shown row on screen
	// periods are the distinct periods of the shown TOTP rows, most common
	// first; the first bars of them have a countdown in the header (set when
	// the header is drawn, before the rows), the others one on each row.
	periods   []int
	bars      int
	filter    textinput.Model
	filtering bool
	loaded    bool // the vault was read (or found missing)
	noVault   bool
	// hasPairings enables the sign-in history and pause keys.
	hasPairings bool
	height      int // rows that fit, from the last body call
}

func newListScreen(c *common) *listScreen {
	ti := textinput.New()
	ti.Prompt = "/ "
	ti.Placeholder = "type to filter by issuer or name"
	ti.CharLimit = 128
	ti.SetStyles(c.styles.Input)

	return &listScreen{c: c, k: DefaultListKeys(), fk: DefaultFilterKeys(), filter: ti}
}

// setData replaces the accounts, keeping cached codes, the selection and the filter.
func (l *listScreen) setData(d vault.Data) {
	sel := l.selectedID()
	rows := newRows(d.Accounts)
	carry(rows, l.rows)
	l.rows, l.loaded, l.noVault = rows, true, false
	l.applyFilter()
	l.selectID(sel)
}

func (l *listScreen) count() int { return len(l.rows) }

func (l *listScreen) applyFilter() {
	l.shown = filterRows(l.rows, l.filter.Value())
	counts := map[int]int{}
	for _, i := range l.shown {
		if a := &l.rows[i].acct; a.Type != vault.HOTP && a.Period > 0 {
			counts[a.Period]++
		}
	}
	l.periods = l.periods[:0]
	for p := range counts {
		l.periods = append(l.periods, p)
	}
	slices.SortFunc(l.periods, func(a, b int) int {
		if c := cmp.Compare(counts[b], counts[a]); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	l.clamp()
}

func (l *listScreen) selected() *row {
	if l.cursor < 0 || l.cursor >= len(l.shown) {
		return nil
	}
	return &l.rows[l.shown[l.cursor]]
}

func (l *listScreen) selectedID() string {
	if r := l.selected(); r != nil {
		return r.acct.ID
	}
	return ""
}

func (l *listScreen) selectID(id string) {
	for i, ri := range l.shown {
		if l.rows[ri].acct.ID == id {
			l.cursor = i
			l.clamp()
			return
		}
	}
	l.clamp()
}

func (l *listScreen) row(id string) *row {
	for i := range l.rows {
		if l.rows[i].acct.ID == id {
			return &l.rows[i]
		}
	}
	return nil
}

func (l *listScreen) clamp() {
	l.cursor = max(min(l.cursor, len(l.shown)-1), 0)
	h := max(l.height, 1)
	if l.cursor < l.offset {
		l.offset = l.cursor
	}
	if l.cursor >= l.offset+h {
		l.offset = l.cursor - h + 1
	}
	l.offset = max(min(l.offset, len(l.shown)-h), 0)
}

func (l *listScreen) keys() help.KeyMap {
	if l.filtering {
		return l.fk
	}
	k := l.k
	k.ClearFilter.SetEnabled(l.filter.Value() != "")
	has := l.selected() != nil
	for _, b := range []*key.Binding{&k.Copy, &k.CopyC, &k.Edit, &k.Delete, &k.QR, &k.Pin, &k.MoveUp, &k.MoveDown} {
		b.SetEnabled(has)
	}
	k.Filter.SetEnabled(len(l.rows) > 0)
	k.Export.SetEnabled(len(l.rows) > 0)
	k.History.SetEnabled(l.hasPairings)
	k.Pause.SetEnabled(l.hasPairings)
	return k
}

// Messages the list sends to the root model.
type (
	copyIntent    struct{ id string }
	hotpIntent    struct{ id string }
	pinIntent     struct{ id string }
	moveIntent    struct{ id, other string }
	addIntent     struct{}
	editIntent    struct{ acct vault.Account }
	deleteIntent  struct{ acct vault.Account }
	undoIntent    struct{}
	qrIntent      struct{ acct vault.Account }
	exportIntent  struct{}
	helpIntent    struct{}
	historyIntent struct{}
	pauseIntent   struct{}
)

func send(msg tea.Msg) tea.Cmd { return func() tea.Msg { return msg } }

func (l *listScreen) update(msg tea.Msg) (screen, tea.Cmd) {
	if _, ok := msg.(tea.PasteMsg); ok && l.filtering {
		return l, l.updateFilter(msg)
	}
	km, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return l, nil
	}
	if l.filtering {
		return l, l.updateFilter(km)
	}
	k := l.keys().(ListKeys)
	sel := l.selected()
	switch {
	case key.Matches(km, k.Quit):
		return l, tea.Quit
	case key.Matches(km, k.Up):
		l.cursor--
	case key.Matches(km, k.Down):
		l.cursor++
	case key.Matches(km, k.Top):
		l.cursor = 0
	case key.Matches(km, k.Bottom):
		l.cursor = len(l.shown) - 1
	case key.Matches(km, k.PageUp):
		l.cursor -= max(l.height-1, 1)
	case key.Matches(km, k.PageDown):
		l.cursor += max(l.height-1, 1)
	case key.Matches(km, k.Filter):
		l.filtering = true
		return l, l.filter.Focus()
	case key.Matches(km, k.ClearFilter):
		l.clearFilter()
	case key.Matches(km, k.Copy):
		return l, l.copySelected(false)
	case key.Matches(km, k.CopyC):
		return l, l.copySelected(true)
	case key.Matches(km, k.Pin):
		return l, send(pinIntent{sel.acct.ID})
	case key.Matches(km, k.MoveUp), key.Matches(km, k.MoveDown):
		return l, l.move(key.Matches(km, k.MoveUp))
	case key.Matches(km, k.Add):
		return l, send(addIntent{})
	case key.Matches(km, k.Edit):
		return l, send(editIntent{sel.acct})
	case key.Matches(km, k.Delete):
		return l, send(deleteIntent{sel.acct})
	case key.Matches(km, k.Undo):
		return l, send(undoIntent{})
	case key.Matches(km, k.QR):
		return l, send(qrIntent{sel.acct})
	case key.Matches(km, k.Export):
		return l, send(exportIntent{})
	case key.Matches(km, k.Privacy):
		l.c.privacy = !l.c.privacy
	case key.Matches(km, k.Help):
		return l, send(helpIntent{})
	case key.Matches(km, k.History):
		return l, send(historyIntent{})
	case key.Matches(km, k.Pause):
		return l, send(pauseIntent{})
	case key.Matches(km, l.k.History), key.Matches(km, l.k.Pause):
		// Disabled above: say why rather than do nothing.
		return l, send(toastMsg{text: errNoPairings.Error(), err: true})
	}
	l.clamp()
	return l, nil
}

// copySelected copies the selected code. Enter on an HOTP account always
// generates the next code (advancing the counter); c re-copies the code
// already shown, if there is one.
func (l *listScreen) copySelected(reuse bool) tea.Cmd {
	r := l.selected()
	if r == nil {
		return nil
	}
	if r.acct.Type == vault.HOTP && (!reuse || r.hotp == "") {
		return send(hotpIntent{r.acct.ID})
	}
	return send(copyIntent{r.acct.ID})
}

func (l *listScreen) move(up bool) tea.Cmd {
	if l.filter.Value() != "" {
		return send(toastMsg{text: "clear the filter (esc) to reorder accounts", err: true})
	}
	j := l.cursor + 1
	if up {
		j = l.cursor - 1
	}
	if j < 0 || j >= len(l.shown) {
		return nil
	}
	a, b := &l.rows[l.shown[l.cursor]].acct, &l.rows[l.shown[j]].acct
	if a.Pinned != b.Pinned {
		// Pinned accounts stay above the others: say so rather than do nothing.
		why := a.Label() + " is the first unpinned account: pin it (p) to move it among the pinned ones"
		if a.Pinned {
			why = a.Label() + " is the last pinned account: unpin it (p) to move it below"
		}
		return send(toastMsg{text: why, err: true})
	}
	l.cursor = j
	return send(moveIntent{id: a.ID, other: b.ID})
}

func (l *listScreen) updateFilter(msg tea.Msg) tea.Cmd {
	km := keyOf(msg)
	switch {
	case key.Matches(km, l.fk.Cancel):
		l.clearFilter()
		return nil
	case key.Matches(km, l.fk.Accept):
		l.filtering = false
		l.filter.Blur()
		if l.filter.Value() == "" {
			return nil
		}
		return l.copySelected(false) // "/ git ⏎" copies the best match
	case key.Matches(km, l.fk.Up):
		l.cursor--
		l.clamp()
		return nil
	case key.Matches(km, l.fk.Down):
		l.cursor++
		l.clamp()
		return nil
	}
	before := l.filter.Value()
	var cmd tea.Cmd
	l.filter, cmd = l.filter.Update(msg)
	if l.filter.Value() != before {
		l.applyFilter()
		l.cursor, l.offset = 0, 0
	}
	return cmd
}

func (l *listScreen) clearFilter() {
	sel := l.selectedID()
	l.filtering = false
	l.filter.Blur()
	l.filter.SetValue("")
	l.applyFilter()
	l.selectID(sel)
}

// layout is the width of each column of a row.
type layout struct {
	issuer, name, code, next, tag int
}

// layout fits the columns to the terminal: wide terminals get roomy columns
// (capped, so codes stay near the names), narrow ones drop the account name
// and tags before the code.
func (l *listScreen) layout() layout {
	w := min(l.c.width, maxListWidth)
	lay := layout{code: 9, next: 13, tag: 6} // next: "  → " and an 8-digit code; tag: a space and "120s"
	if w < 60 {
		lay.next, lay.tag = 0, 0
		if len(l.periods) > l.bars {
			lay.tag = 5 // " ▅12s" on rows whose period has no bar
		}
	}
	rest := w - 4 - 1 - lay.code - lay.next - lay.tag - 1 // gutter+pin, gaps
	if w < 60 {
		lay.issuer = max(rest, 4)
		return lay
	}
	lay.issuer = min(max(rest*2/5, 8), 28)
	lay.name = max(rest-lay.issuer-1, 0)
	return lay
}

// view is unused: the root asks for body with the height it has.
func (l *listScreen) view() string { return l.body(l.c.height - 3) }

// body draws the filter bar and the rows that fit in h lines.
func (l *listScreen) body(h int) string {
	s := &l.c.styles
	var b strings.Builder
	if len(l.rows) == 0 && l.loaded {
		return l.welcome()
	}
	if l.filtering || l.filter.Value() != "" {
		if l.filtering {
			b.WriteString(" " + l.c.input(l.filter))
		} else {
			b.WriteString(" " + s.Muted.Render("filter: ") + s.Accent.Render(l.filter.Value()) +
				s.Muted.Render(fmt.Sprintf("  (%d of %d · esc clears)", len(l.shown), len(l.rows))))
		}
		b.WriteString("\n")
		h--
	} else {
		b.WriteString("\n")
		h--
	}
	l.height = max(h, 1)
	l.clamp()
	if len(l.shown) == 0 {
		b.WriteString("\n  " + s.Muted.Render("No account matches “"+l.filter.Value()+"”. esc clears the filter."))
		return b.String()
	}
	lay := l.layout()
	dominant := 0
	if len(l.periods) > 0 {
		dominant = l.periods[0]
	}
	end := min(l.offset+l.height, len(l.shown))
	for i := l.offset; i < end; i++ {
		r := &l.rows[l.shown[i]]
		r.refresh(l.c.now) // only rows on screen compute codes
		b.WriteString(l.renderRow(r, i == l.cursor, lay, dominant))
		if i < end-1 {
			b.WriteByte('\n')
		}
	}
	return b.String()
}

func (l *listScreen) renderRow(r *row, selected bool, lay layout, dominant int) string {
	s := &l.c.styles
	a := &r.acct
	var b strings.Builder
	if selected {
		b.WriteString(s.Gutter.Render("▌ "))
	} else {
		b.WriteString("  ")
	}
	if a.Pinned {
		b.WriteString(s.Pin.Render("★ "))
	} else {
		b.WriteString("  ")
	}
	issuer, name := a.Issuer, a.Name
	if issuer == "" {
		issuer, name = name, ""
	}
	is := s.Issuer
	if selected {
		is = s.IssuerSelected
	}
	b.WriteString(is.Render(pad(issuer, lay.issuer)))
	b.WriteByte(' ')
	if lay.name > 0 {
		b.WriteString(s.Name.Render(pad(name, lay.name)))
		b.WriteByte(' ')
	}

	masked := l.c.privacy && !selected
	var code, next, tag string
	switch {
	case r.err != nil:
		code = s.Danger.Render(padLeft("error", lay.code))
		next = s.Muted.Render(" " + pad(shortErr(r.err), max(lay.next-1, 0)))
	case a.Type == vault.HOTP && r.hotp == "":
		code = s.Muted.Render(padLeft("⏎ to show", lay.code))
		next = strings.Repeat(" ", lay.next)
		tag = "hotp"
	case a.Type == vault.HOTP:
		c := r.hotp
		if masked {
			c = mask(c, a.Digits)
		}
		code = s.Code.Render(padLeft(c, lay.code))
		next = strings.Repeat(" ", lay.next)
		tag = "hotp"
	default:
		rem := remaining(l.c.now, a.Period)
		c, n := r.code, r.next
		if masked {
			c, n = mask(c, a.Digits), mask(n, a.Digits)
		}
		cs := s.Code
		if masked {
			cs = s.Masked
		} else if rem <= expiringSecs {
			cs = s.CodeExpiring
		}
		code = cs.Render(padLeft(c, lay.code))
		if rem <= expiringSecs && lay.next > 0 {
			next = s.NextCode.Render(pad("  → "+n, lay.next))
		} else {
			next = strings.Repeat(" ", lay.next)
		}
		switch {
		case !l.hasBar(a.Period):
			cd := rowCountdown(rem, a.Period)
			st := s.BarFull
			if rem <= expiringSecs {
				st = s.BarFullExpiring
			}
			tag = st.Render(cd)
		case a.Period != dominant:
			tag = s.Muted.Render(strconv.Itoa(a.Period) + "s")
		}
	}
	b.WriteString(code)
	if lay.next > 0 {
		b.WriteString(next)
	}
	if lay.tag > 0 {
		// The tag's column starts with a space: an 8-digit next code fills
		// its column to the last cell.
		if tag != "" {
			tag = " " + tag
		}
		b.WriteString(pad(tag, lay.tag))
	}
	return b.String()
}

func shortErr(err error) string {
	var fe *vault.FieldError
	if errors.As(err, &fe) {
		return fe.Field + " " + fe.Reason
	}
	return err.Error()
}

// countdowns draws one bar per period in use, within avail cells: accounts
// with the same period share it. Bars shrink to make room for every period;
// periods that still do not fit (and, below 60 columns, every period but the
// most common) get no bar, and their rows show their own countdown instead.
// It records how many periods got a bar, for the rows.
func (l *listScreen) countdowns(avail int) string {
	s := &l.c.styles
	l.bars = 0
	if len(l.periods) == 0 {
		return ""
	}
	bar := func(p, width int, label bool) string {
		rem := remaining(l.c.now, p)
		full := (rem*width + p - 1) / p
		fs := s.BarFull
		if rem <= expiringSecs {
			fs = s.BarFullExpiring
		}
		out := fs.Render(strings.Repeat("━", full)) + s.BarEmpty.Render(strings.Repeat("─", width-full)) +
			fs.Render(fmt.Sprintf(" %2ds", rem))
		if label {
			out = s.Muted.Render(strconv.Itoa(p)+"s ") + out
		}
		return out
	}
	if len(l.periods) == 1 || l.c.width < 60 {
		// One bar, unlabelled: it times the rows that carry no countdown of their own.
		width := 20
		if len(l.periods) > 1 || l.c.width < 60 {
			width = 8
		}
		width = min(width, avail-5)
		if width < 2 {
			return ""
		}
		l.bars = 1
		return bar(l.periods[0], width, false)
	}
	partWidth := func(p, width int) int { return len(strconv.Itoa(p)) + 2 + width + 4 }
	for _, width := range []int{8, 6, 4} {
		total := -2
		for _, p := range l.periods {
			total += partWidth(p, width) + 2
		}
		if total <= avail {
			parts := make([]string, len(l.periods))
			for i, p := range l.periods {
				parts[i] = bar(p, width, true)
			}
			l.bars = len(parts)
			return strings.Join(parts, "  ")
		}
	}
	// Not all fit: the most common periods get the smallest bars.
	var parts []string
	used := -2
	for _, p := range l.periods {
		if used+2+partWidth(p, 4) > avail {
			break
		}
		used += 2 + partWidth(p, 4)
		parts = append(parts, bar(p, 4, true))
	}
	l.bars = len(parts)
	return strings.Join(parts, "  ")
}

// hasBar reports whether period p has a countdown in the header.
func (l *listScreen) hasBar(p int) bool {
	i := slices.Index(l.periods, p)
	return i >= 0 && i < l.bars
}

// rowCountdown is a row's own countdown, for periods without a bar in the
// header: a one-cell gauge and the seconds left, like "▅12s".
func rowCountdown(rem, period int) string {
	const gauge = "▁▂▃▄▅▆▇█"
	level := min(max((rem*8+period-1)/period-1, 0), 7)
	g := string([]rune(gauge)[level])
	if rem < 100 {
		return g + strconv.Itoa(rem) + "s"
	}
	return g + strconv.Itoa((rem+59)/60) + "m"
}

// welcome is the first-run screen.
func (l *listScreen) welcome() string {
	s := &l.c.styles
	lines := []string{
		"",
		"  " + s.Title.Render("Welcome to Sesame"),
		"",
		"  " + s.Text.Render("There are no accounts yet. Press ") + s.Accent.Render("a") + s.Text.Render(" to add one:"),
		"    " + s.Muted.Render("· paste the otpauth:// link behind a site's QR code,"),
		"    " + s.Muted.Render("· read the QR code from a screenshot or image file,"),
		"    " + s.Muted.Render("· or type the secret key the site shows."),
		"",
		"  " + s.Muted.Render("From a shell: ") + s.Text.Render("sesame add 'otpauth://totp/Example:you?secret=…'"),
	}
	if l.noVault {
		lines = append(lines, "", "  "+s.Muted.Render("The vault is created, encrypted, when you add the first account."))
	}
	return strings.Join(lines, "\n")
}

// pad cuts or pads s to exactly w cells.
func pad(s string, w int) string {
	if w <= 0 {
		return ""
	}
	sw := ansi.StringWidth(s)
	if sw > w {
		return ansi.Truncate(s, w, "…")
	}
	return s + strings.Repeat(" ", w-sw)
}

// padLeft right-aligns s in w cells.
func padLeft(s string, w int) string {
	sw := ansi.StringWidth(s)
	if sw > w {
		return ansi.Truncate(s, w, "…")
	}
	return strings.Repeat(" ", w-sw) + s
}
