package tui

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"

	"github.com/sesame-auth/sesame/vault"
	"github.com/sesame-auth/sesame/vault/transfer"
)

// exportFormat is what the export screen writes or shows, in the order of
// its menu.
type exportFormat int

const (
	exportBackup exportFormat = iota // Sesame's encrypted backup
	exportAegis                      // an encrypted Aegis vault
	exportGoogle                     // Google Authenticator migration QR codes, on screen
	exportURIs                       // a plain otpauth:// list, unencrypted
)

var exportChoices = []menuItem{
	{"b", "Encrypted Sesame backup", "passphrase-protected; restore it with 'sesame import', on any machine"},
	{"a", "Encrypted Aegis vault", "import it in Aegis with its password"},
	{"g", "Google Authenticator QR codes", "shown here one by one for a phone to scan; they reveal every secret"},
	{"u", "Plain otpauth:// list: UNENCRYPTED", "a text file most apps import; anyone who reads it can make your codes"},
}

// fileName is the default name of the export file.
func (f exportFormat) fileName() string {
	switch f {
	case exportAegis:
		return "sesame-aegis.json"
	case exportURIs:
		return "sesame-otpauth.txt"
	}
	return "sesame-backup.age"
}

func (f exportFormat) encrypted() bool { return f == exportBackup || f == exportAegis }

// describe says what was written, for the toast.
func (f exportFormat) describe() string {
	switch f {
	case exportAegis:
		return "Aegis vault, encrypted"
	case exportURIs:
		return "otpauth URIs, UNENCRYPTED: delete it once imported"
	}
	return "Sesame backup, encrypted"
}

// encode writes the accounts in format f; work is the vault's scrypt work
// factor (0: each format's default), which encrypted exports share.
func (f exportFormat) encode(accts []vault.Account, passphrase []byte, work int) ([]byte, error) {
	switch f {
	case exportBackup:
		return transfer.ExportBackup(accts, passphrase, transfer.WithWorkFactor(work))
	case exportAegis:
		return transfer.ExportAegis(accts, passphrase, transfer.WithWorkFactor(work))
	case exportURIs:
		return transfer.ExportURIs(accts), nil
	}
	return nil, errors.New("this format is shown on screen, not written to a file")
}

// Requests from the export screen to the root model, and their results.
type (
	// exportFileIntent writes the vault's accounts to a file.
	exportFileIntent struct {
		format     exportFormat
		path       string
		passphrase []byte
		force      bool // replace an existing file
	}
	// exportQRIntent makes the Google Authenticator migration links.
	exportQRIntent struct{}
	exportedMsg    struct {
		format exportFormat
		path   string // where it went (or would go)
		n      int
		exists bool // not written: the file exists and force was not set
		err    error
	}
	googleMsg struct {
		uris    []string
		skipped []transfer.Skip
		n       int // accounts in the links
		err     error
	}
)

// handleExport deals with the export messages the root model owns.
func (m *Model) handleExport(msg tea.Msg) (tea.Cmd, bool) {
	switch msg := msg.(type) {
	case exportIntent:
		if len(m.data.Accounts) == 0 {
			return send(toastMsg{text: "the vault has no accounts to export", err: true}), true
		}
		m.overlay = newExportScreen(m.c, len(m.data.Accounts))
		return nil, true
	case exportFileIntent:
		return exportFile(msg, m.data.Clone().Accounts, m.o.VaultOptions.ScryptWorkFactor), true
	case exportQRIntent:
		return exportQR(m.data.Clone().Accounts), true
	case exportedMsg:
		if msg.err != nil || msg.exists {
			if _, ok := m.overlay.(*exportScreen); ok {
				var cmd tea.Cmd
				m.overlay, cmd = m.overlay.update(msg)
				return cmd, true
			}
			if msg.err != nil {
				m.fail(msg.err)
			}
			return nil, true
		}
		m.overlay = nil
		m.toast = toast{text: fmt.Sprintf("exported %s to %s (%s)", count(msg.n), tildePath(msg.path), msg.format.describe()),
			until: m.c.now.Add(8 * time.Second)}
		return nil, true
	}
	return nil, false
}

// count is "1 account" or "n accounts".
func count(n int) string {
	if n == 1 {
		return "1 account"
	}
	return fmt.Sprintf("%d accounts", n)
}

// qrCodes is "1 QR code" or "n QR codes".
func qrCodes(n int) string {
	if n == 1 {
		return "1 QR code"
	}
	return fmt.Sprintf("%d QR codes", n)
}

// exportFile encodes the accounts and writes them to a new 0600 file
// (atomically, through vault.WriteFile). An existing file is left alone
// unless force is set; a folder gets the format's default file name. work
// is the scrypt work factor of encrypted formats (0: their default).
func exportFile(in exportFileIntent, accts []vault.Account, work int) tea.Cmd {
	return func() tea.Msg {
		out := exportedMsg{format: in.format, path: in.path, n: len(accts)}
		if fi, err := os.Stat(in.path); err == nil && fi.IsDir() {
			out.path = filepath.Join(in.path, in.format.fileName())
		}
		dir := filepath.Dir(out.path)
		if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
			out.err = fmt.Errorf("folder %s does not exist: create it first, or choose another", dir)
			return out
		}
		if !in.force {
			if _, err := os.Lstat(out.path); err == nil {
				out.exists = true
				return out
			}
		}
		data, err := in.format.encode(accts, in.passphrase, work)
		if err != nil {
			out.err = err
			return out
		}
		if err := vault.WriteFile(out.path, data); err != nil {
			out.err = fmt.Errorf("cannot write the export: %w", err)
		}
		return out
	}
}

// exportQR makes the Google Authenticator migration links.
func exportQR(accts []vault.Account) tea.Cmd {
	return func() tea.Msg {
		uris, skipped, err := transfer.ExportGoogle(accts)
		return googleMsg{uris: uris, skipped: skipped, n: len(accts) - len(skipped), err: err}
	}
}

type exportMode int

const (
	exportChoose       exportMode = iota
	exportForm                    // the file, and the passphrase twice
	exportPlainConfirm            // an unencrypted URI list: write it?
	exportOverwrite               // the file exists: replace it?
	exportGoogleIntro             // the warning and the accounts left out, before the first QR code
)

// Field indexes of the export form.
const (
	fieldPath = iota
	fieldPass
	fieldAgain
)

// exportScreen exports every account: to an encrypted Sesame backup or
// Aegis vault, a plain otpauth:// list, or Google Authenticator QR codes
// shown one by one. What the user typed survives every error, and the
// passphrase is never shown.
type exportScreen struct {
	c      *common
	k      ExportKeys
	n      int // accounts in the vault
	mode   exportMode
	choice int
	format exportFormat
	paths  [exportURIs + 1]pathField // one per format, each with its default file
	pass   [2]textinput.Model
	errs   [3]string // inline errors of the passphrase fields (the path has its own)
	focus  int
	target string // the file an overwrite confirmation is about
	busy   bool
	google googleMsg
}

func newExportScreen(c *common, n int) *exportScreen {
	s := &exportScreen{c: c, k: DefaultExportKeys(), n: n}
	dir := "~" + string(filepath.Separator)
	if _, err := os.UserHomeDir(); err != nil {
		dir = "" // the current folder
	}
	for f := range s.paths {
		s.paths[f] = newPathField(c, "", "where to write it (tab completes)")
		s.paths[f].SetValue(dir + exportFormat(f).fileName())
		s.paths[f].CursorEnd()
	}
	for i := range s.pass {
		ti := textinput.New()
		ti.Prompt = ""
		ti.Placeholder = []string{"to encrypt the export with", "the same again"}[i]
		ti.CharLimit = 1024
		ti.SetWidth(40)
		ti.EchoMode, ti.EchoCharacter = textinput.EchoPassword, '•'
		ti.SetStyles(c.styles.Input)

		s.pass[i] = ti
	}
	return s
}

func (s *exportScreen) title() string {
	switch {
	case s.mode == exportChoose:
		return "Export every account"
	case s.format == exportGoogle:
		return "Export · Google Authenticator QR codes"
	}
	return "Export · " + exportChoices[s.format].label
}

// path is the path field of the chosen format.
func (s *exportScreen) path() *pathField { return &s.paths[s.format] }

// fields is how many fields the form has for the chosen format.
func (s *exportScreen) fields() int {
	if s.format.encrypted() {
		return 3
	}
	return 1
}

func (s *exportScreen) focusField(i int) tea.Cmd {
	s.focus = i
	s.path().Blur()
	s.pass[0].Blur()
	s.pass[1].Blur()
	if i == fieldPath {
		return s.path().Focus()
	}
	return s.pass[i-1].Focus()
}

func (s *exportScreen) update(msg tea.Msg) (screen, tea.Cmd) {
	switch msg := msg.(type) {
	case completedMsg:
		s.path().completed(msg)
		return s, nil
	case exportedMsg:
		return s, s.failed(msg)
	case googleMsg:
		s.busy = false
		if msg.err != nil {
			s.mode, s.errs[0] = exportChoose, errorText(msg.err)
			return s, nil
		}
		s.google, s.mode = msg, exportGoogleIntro
		return s, nil
	case tea.PasteMsg:
		if !s.busy && s.mode == exportForm {
			return s, s.updateForm(msg)
		}
	case tea.KeyPressMsg:
		if s.busy {
			return s, nil
		}
		switch s.mode {
		case exportChoose:
			return s.updateChoose(msg)
		case exportForm:
			return s, s.updateForm(msg)
		case exportPlainConfirm, exportOverwrite:
			return s, s.updateConfirm(msg)
		case exportGoogleIntro:
			return s.updateGoogleIntro(msg)
		}
	}
	return s, nil
}

func (s *exportScreen) updateChoose(km tea.KeyPressMsg) (screen, tea.Cmd) {
	if key.Matches(km, s.k.Back) {
		return nil, nil
	}
	var chosen bool
	if s.choice, chosen = menuKey(km, exportChoices, s.choice); !chosen {
		return s, nil
	}
	s.format, s.errs = exportFormat(s.choice), [3]string{}
	if s.format == exportGoogle {
		s.busy = true
		return s, send(exportQRIntent{})
	}
	s.mode = exportForm
	return s, s.focusField(fieldPath)
}

func (s *exportScreen) updateForm(msg tea.Msg) tea.Cmd {
	km := keyOf(msg)
	switch {
	case key.Matches(km, s.k.Back):
		s.mode = exportChoose
		return nil
	case s.focus == fieldPath && key.Matches(km, s.k.Complete):
		return s.path().complete()
	case key.Matches(km, s.k.NextField):
		return s.focusField((s.focus + 1) % s.fields())
	case key.Matches(km, s.k.PrevField):
		return s.focusField((s.focus + s.fields() - 1) % s.fields())
	case key.Matches(km, s.k.Submit):
		// Enter moves on to the next field while it is empty, then exports.
		if next := s.focus + 1; next < s.fields() && s.pass[next-1].Value() == "" {
			return s.focusField(next)
		}
		return s.submit()
	}
	if s.focus == fieldPath {
		cmd, _ := s.path().update(msg)
		return cmd
	}
	i := s.focus - 1
	before := s.pass[i].Value()
	var cmd tea.Cmd
	s.pass[i], cmd = s.pass[i].Update(msg)
	if s.pass[i].Value() != before {
		s.errs[s.focus] = ""
	}
	return cmd
}

// submit checks the form and starts the export, or asks first.
func (s *exportScreen) submit() tea.Cmd {
	p := s.path()
	s.errs = [3]string{}
	if p.path() == "" {
		p.err = "type where to write the export (tab completes)"
		return s.focusField(fieldPath)
	}
	if s.format.encrypted() {
		p1, p2 := []byte(s.pass[0].Value()), []byte(s.pass[1].Value())
		switch {
		case len(p1) == 0:
			s.errs[fieldPass] = "type a passphrase to encrypt the export with"
			return s.focusField(fieldPass)
		case subtle.ConstantTimeCompare(p1, p2) != 1:
			s.errs[fieldAgain] = "does not match the first one: type it again (ctrl+u clears it)"
			return s.focusField(fieldAgain)
		}
	}
	if s.format == exportURIs {
		s.mode = exportPlainConfirm
		return nil
	}
	return s.write(p.path(), false)
}

func (s *exportScreen) write(path string, force bool) tea.Cmd {
	s.mode, s.busy = exportForm, true
	in := exportFileIntent{format: s.format, path: path, force: force}
	if s.format.encrypted() {
		in.passphrase = []byte(s.pass[0].Value())
	}
	return send(in)
}

// failed shows why the export was not written, keeping everything typed.
func (s *exportScreen) failed(msg exportedMsg) tea.Cmd {
	s.busy = false
	if msg.exists {
		s.mode, s.target = exportOverwrite, msg.path
		return nil
	}
	s.mode = exportForm
	s.path().err = errorText(msg.err)
	return s.focusField(fieldPath)
}

func (s *exportScreen) updateConfirm(km tea.KeyPressMsg) tea.Cmd {
	switch {
	case key.Matches(km, s.k.Yes) && s.mode == exportOverwrite:
		return s.write(s.target, true)
	case key.Matches(km, s.k.Yes):
		return s.write(s.path().path(), false)
	case key.Matches(km, s.k.No):
		s.mode = exportForm
		return s.focusField(fieldPath)
	}
	return nil
}

func (s *exportScreen) updateGoogleIntro(km tea.KeyPressMsg) (screen, tea.Cmd) {
	switch {
	case key.Matches(km, s.k.Back):
		s.mode = exportChoose
	case key.Matches(km, s.k.NextPage) && len(s.google.uris) > 0:
		return newGoogleQRScreen(s.c, s.k, s.google), nil
	}
	return s, nil
}

func (s *exportScreen) view() string {
	st := &s.c.styles
	width := min(s.c.width-4, 76)
	var b strings.Builder
	b.WriteString("\n")
	switch s.mode {
	case exportChoose:
		b.WriteString(menuView(st, exportChoices, s.choice))
		b.WriteString("  " + st.Muted.Render(fmt.Sprintf("Every account in the vault is exported (%d).", s.n)))
		if s.busy {
			b.WriteString("\n\n  " + st.Muted.Render("Making the QR codes…"))
		} else if s.errs[0] != "" {
			b.WriteString("\n\n" + para(st.FieldError, "✗ "+s.errs[0], s.c.width, 2))
		}
	case exportForm:
		b.WriteString(s.formView(width))
	case exportPlainConfirm:
		b.WriteString(s.formView(width) + "\n\n")
		b.WriteString(indent(st.DialogDanger.Render(strings.Join([]string{
			st.Danger.Render("UNENCRYPTED export"),
			"",
			st.Text.Render(wrap(fmt.Sprintf("%s will hold the secrets of all %s in plain text: anyone who reads it can make your codes. Import it, then delete it.",
				tildePath(s.path().path()), count(s.n)), width-8)),
			"",
			st.Accent.Render("y") + st.Muted.Render(" writes it · ") + st.Accent.Render("n") + st.Muted.Render(" goes back"),
		}, "\n")), 2))
	case exportOverwrite:
		b.WriteString(s.formView(width) + "\n\n")
		b.WriteString(indent(st.DialogDanger.Render(strings.Join([]string{
			st.Danger.Render("The file exists"),
			"",
			st.Text.Render(wrap(tildePath(s.target)+" is already there. Replace it with this export? Its old content is lost.", width-8)),
			"",
			st.Accent.Render("y") + st.Muted.Render(" replaces it · ") + st.Accent.Render("n") + st.Muted.Render(" goes back"),
		}, "\n")), 2))
	case exportGoogleIntro:
		b.WriteString(s.googleIntroView(width))
	}
	return b.String()
}

func (s *exportScreen) formView(width int) string {
	st := &s.c.styles
	var lines []string
	hint := exportChoices[s.format].hint
	if s.format == exportURIs {
		lines = append(lines, "  "+st.Danger.Render("UNENCRYPTED: ")+st.Muted.Render("anyone who reads this file can make your codes."))
	} else {
		lines = append(lines, para(st.Muted, strings.ToUpper(hint[:1])+hint[1:]+".", width, 2))
	}
	lines = append(lines, "")
	row := func(i int, label, input string) {
		mark, ls := "  ", st.Label
		if i == s.focus {
			mark, ls = st.Accent.Render("› "), st.LabelFocused
		}
		lines = append(lines, "  "+mark+ls.Render(pad(label, 10))+"  "+input)
	}
	errLine := func(e string) {
		if e != "" {
			lines = append(lines, para(st.FieldError, "✗ "+e, width, 16))
		}
	}
	p := s.path()
	row(fieldPath, "File", s.c.input(p.Model))
	errLine(p.err)
	if s.format.encrypted() {
		row(fieldPass, "Passphrase", s.c.input(s.pass[0]))
		errLine(s.errs[fieldPass])
		row(fieldAgain, "Again", s.c.input(s.pass[1]))
		errLine(s.errs[fieldAgain])
	}
	if m := p.matchesView(st); m != "" {
		lines = append(lines, "", "  "+m)
	}
	if s.busy {
		what := "Writing…"
		if s.format.encrypted() {
			what = "Encrypting and writing…"
		}
		lines = append(lines, "", "  "+st.Muted.Render(what))
	} else if s.mode == exportForm {
		lines = append(lines, "", para(st.Muted, "The file is readable by you only (mode 0600). An existing file is replaced only if you say so.", width, 2))
	}
	return strings.Join(lines, "\n")
}

func (s *exportScreen) googleIntroView(width int) string {
	st := &s.c.styles
	g := &s.google
	var lines []string
	lines = append(lines,
		"  "+st.Danger.Render("⚠ These QR codes hold your secrets, UNENCRYPTED."),
		para(st.Text, "Anyone who sees or photographs them can copy your accounts: make sure no one is watching and nothing records the screen.", width, 2),
		"")
	if len(g.uris) == 0 {
		lines = append(lines, para(st.FieldError, "✗ No account fits Google Authenticator's format: there is nothing to show. Use another export.", width, 2))
	} else {
		lines = append(lines, para(st.Text, fmt.Sprintf("%d of the %d accounts go in %s. In Google Authenticator: Transfer accounts › Import accounts, then scan each one.",
			g.n, s.n, qrCodes(len(g.uris))), width, 2))
	}
	if len(g.skipped) > 0 {
		lines = append(lines, "", "  "+st.Text.Render(fmt.Sprintf("Left out (%d), Google Authenticator cannot hold them:", len(g.skipped))))
		for _, sk := range g.skipped {
			lines = append(lines, bullet(st.Muted, sk.String(), width, 4))
		}
	}
	return strings.Join(lines, "\n")
}

// tildePath shortens a path in the home folder to ~/…, for display.
func tildePath(p string) string {
	h, err := os.UserHomeDir()
	if err != nil || h == "" {
		return p
	}
	if rel, err := filepath.Rel(h, p); err == nil && filepath.IsLocal(rel) {
		return filepath.Join("~", rel)
	}
	return p
}

// para is text wrapped to width cells and indented by n.
func para(style lipgloss.Style, text string, width, n int) string {
	return indent(style.Render(wrap(text, width-n)), n)
}

// bullet is text after "· ", indented by n, wrapped to width cells with a
// hanging indent: continuation lines start under the text, not the dot.
func bullet(style lipgloss.Style, text string, width, n int) string {
	body := indent(style.Render(wrap(text, width-n-2)), n+2)
	return strings.Repeat(" ", n) + style.Render("· ") + body[n+2:]
}

// indent shifts every line of block right by n cells.
func indent(block string, n int) string {
	sp := strings.Repeat(" ", n)
	return sp + strings.ReplaceAll(block, "\n", "\n"+sp)
}

func (s *exportScreen) keys() help.KeyMap {
	k := s.k
	switch s.mode {
	case exportChoose:
		return bindings{k.Choose, k.Up, withHelp(k.Back, "esc", "cancel")}
	case exportForm:
		c := k.Complete
		c.SetEnabled(s.focus == fieldPath)
		next := k.NextField
		next.SetEnabled(s.fields() > 1)
		if s.focus == fieldPath {
			next.SetHelp("↓", "next field")
		}
		return bindings{k.Submit, c, next, k.Back}
	case exportPlainConfirm:
		return bindings{k.Yes, withHelp(k.No, "n/esc", "back")}
	case exportOverwrite:
		return bindings{withHelp(k.Yes, "y", "replace it"), withHelp(k.No, "n/esc", "back")}
	}
	next := k.NextPage
	next.SetEnabled(len(s.google.uris) > 0)
	return bindings{withHelp(next, "enter", "show the first code"), k.Back}
}

// googleQRScreen shows the Google Authenticator migration QR codes one by
// one, on the whole terminal. esc hides them at once.
type googleQRScreen struct {
	c     *common
	k     ExportKeys
	pages []qrArt
	page  int
	n     int // accounts in all the codes
}

func newGoogleQRScreen(c *common, k ExportKeys, g googleMsg) *googleQRScreen {
	s := &googleQRScreen{c: c, k: k, n: g.n}
	for _, u := range g.uris {
		s.pages = append(s.pages, newQRArt(c, u))
	}
	return s
}

func (s *googleQRScreen) fullscreen() {}

func (s *googleQRScreen) update(msg tea.Msg) (screen, tea.Cmd) {
	km, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return s, nil
	}
	switch {
	case key.Matches(km, s.k.Close):
		return nil, nil
	case key.Matches(km, s.k.NextPage):
		if s.page == len(s.pages)-1 {
			return nil, send(toastMsg{text: fmt.Sprintf("showed %s in %s", count(s.n), qrCodes(len(s.pages)))})
		}
		s.page++
	case key.Matches(km, s.k.PrevPage):
		s.page = max(s.page-1, 0)
	}
	return s, nil
}

func (s *googleQRScreen) view() string {
	st := &s.c.styles
	of := fmt.Sprintf("QR code %d of %d", s.page+1, len(s.pages))
	warn := st.Danger.Render("⚠ " + of + " holds secrets UNENCRYPTED: anyone who sees it can copy your accounts.")
	next := "n/enter next"
	if s.page == len(s.pages)-1 {
		next = "enter done"
	}
	foot := st.Muted.Render("Google Authenticator › Transfer accounts › Import · " + next + " · esc closes")
	tooSmall := "The terminal is too small for " + of + ". Enlarge the window or reduce the font size, or write the codes as images with 'sesame export --format google --out DIR'."
	return qrView(s.c, s.pages[s.page], warn, foot, tooSmall)
}

func (s *googleQRScreen) keys() help.KeyMap {
	prev := s.k.PrevPage
	prev.SetEnabled(s.page > 0)
	return bindings{s.k.NextPage, prev, s.k.Close}
}
