package tui

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"unicode"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/sesame-auth/sesame/vault"
	"github.com/sesame-auth/sesame/vault/transfer"
)

type addMode int

const (
	addChoose addMode = iota
	addLink
	addFile
	addManual
	addPassphrase // the first account creates the vault, and there is no keyring
	addPick       // several accounts found on the screen or the clipboard
)

// addScreen enrols accounts: by otpauth link, from a QR image or another
// app's export file, or by hand. Nothing the user typed is lost on an error:
// each mode keeps its inputs, and going back to the menu keeps them too.
type addScreen struct {
	c       *common
	mode    addMode
	back    addMode // where esc goes from the passphrase step
	choice  int
	link    textinput.Model
	linkErr string
	linkOK  string
	path    pathField
	pathPw  textinput.Model
	needPw  bool
	busy    string // what the screen is doing (“Saving…”), "" when idle
	manual  form
	pass    form
	pending saveIntent
	// cancelSave cancels the pending save, if any (esc while saving).
	cancelSave context.CancelFunc
	err        string
	// have is the vault's accounts when the dialog opened, to mark those
	// found on the screen that are already there.
	have     []vault.Account
	picks    []pick
	pickAt   int
	pickFrom codeSource
	pickWarn []transfer.Warning // the scan's warnings, shown for the accounts picked
	pickKeys pickKeys
}

var addChoices = []menuItem{
	{"l", "Paste an otpauth:// link", "the link behind a site's QR code, or a Google Authenticator export link"},
	{"f", "Read a QR image or import a file", "a QR code screenshot, or an export from Aegis, 2FAS, andOTP, Bitwarden…"},
	{"m", "Type it in", "issuer, account name and the secret key the site shows"},
	{"s", "Scan the screen", "the QR code on the site's page, wherever it is on your screen"},
	{"v", "From the clipboard", "a copied QR code image, or a copied otpauth:// link"},
}

// addMenuModes is what each entry of addChoices opens.
var addMenuModes = []addMode{addLink, addFile, addManual}

func newAddScreen(c *common) *addScreen {
	s := &addScreen{c: c, pickKeys: defaultPickKeys()}
	input := func(prompt, placeholder string, limit int) textinput.Model {
		ti := textinput.New()
		ti.Prompt = prompt
		ti.Placeholder = placeholder
		ti.CharLimit = limit
		ti.SetWidth(max(min(c.width-12, 90), 20))
		ti.SetStyles(c.styles.Input)

		return ti
	}
	s.link = input("Link: ", "otpauth://totp/Example:you@example.com?secret=…", vault.MaxURILength)
	s.path = newPathField(c, "File: ", "~/Pictures/qr.png")
	s.pathPw = input("Password: ", "the export's password", 1024)
	s.pathPw.EchoMode, s.pathPw.EchoCharacter = textinput.EchoPassword, '•'

	secret := newTextField(c, "secret", "Secret", "base32, e.g. JBSW Y3DP EHPK 3PXP", vault.MaxSecretBytes*2)
	secret.input.EchoMode, secret.input.EchoCharacter = textinput.EchoPassword, '•'
	secret.check = func(v string) string {
		if _, err := vault.ParseSecret(v); err != nil {
			return reason(err)
		}
		return ""
	}
	period := newTextField(c, "period", "Period", "30", 4)
	period.input.SetValue("30")
	period.check = func(v string) string {
		if n, err := strconv.Atoi(strings.TrimSpace(v)); err != nil || n < 1 || n > vault.MaxPeriod {
			return fmt.Sprintf("must be a whole number of seconds from 1 to %d", vault.MaxPeriod)
		}
		return ""
	}
	counter := newTextField(c, "counter", "Counter", "0", 20)
	counter.input.SetValue("0")
	counter.check = func(v string) string {
		if _, err := strconv.ParseUint(strings.TrimSpace(v), 10, 64); err != nil {
			return "must be a whole number from 0 up"
		}
		return ""
	}
	s.manual = form{c: c, fields: []*field{
		newTextField(c, "issuer", "Issuer", "e.g. GitHub", vault.MaxLabelLength),
		newTextField(c, "name", "Account", "e.g. you@example.com", vault.MaxLabelLength),
		secret,
		newChoiceField("type", "Type", "TOTP", "HOTP", "Steam"),
		newChoiceField("algorithm", "Algorithm", "SHA1", "SHA256", "SHA512"),
		newChoiceField("digits", "Digits", "6", "7", "8"),
		period,
		counter,
	}}
	s.syncManual()
	p1 := newTextField(c, "passphrase", "Passphrase", fmt.Sprintf("at least %d characters", vault.MinPassphraseLength), 1024)
	p2 := newTextField(c, "confirm", "Again", "the same passphrase", 1024)
	for _, f := range []*field{p1, p2} {
		f.input.EchoMode, f.input.EchoCharacter = textinput.EchoPassword, '•'
	}
	s.pass = form{c: c, fields: []*field{p1, p2}}
	return s
}

func (s *addScreen) init() tea.Cmd { return nil }

func (s *addScreen) title() string {
	switch s.mode {
	case addLink:
		return "Add an account · link"
	case addFile:
		return "Add accounts · QR image or export file"
	case addManual:
		return "Add an account · by hand"
	case addPassphrase:
		return "Protect the new vault"
	case addPick:
		return "Add accounts · choose"
	}
	return "Add an account"
}

// reason is a vault.FieldError's reason, or the whole error.
func reason(err error) string {
	var fe *vault.FieldError
	if errors.As(err, &fe) {
		return fe.Reason
	}
	return errorText(err)
}

// syncManual shows the fields that apply to the chosen type.
func (s *addScreen) syncManual() {
	f := s.manual.fields
	typ := f[3].value()
	f[s.manual.byName("digits")].hidden = typ == "Steam"
	f[s.manual.byName("period")].hidden = typ == "HOTP"
	f[s.manual.byName("counter")].hidden = typ != "HOTP"
}

// Results of the add screen's own I/O.
type (
	importedMsg struct {
		path string
		res  *transfer.Result
		err  error
	}
)

func (s *addScreen) update(msg tea.Msg) (screen, tea.Cmd) {
	switch msg := msg.(type) {
	case savedMsg:
		if errors.Is(msg.err, errSaveCancelled) {
			return s, nil // esc said so already
		}
		return s, s.saveFailed(msg.err)
	case importedMsg:
		return s, s.imported(msg)
	case scannedMsg:
		return s, s.scanned(msg)
	case completedMsg:
		s.path.completed(msg)
		return s, nil
	case tea.PasteMsg:
		if s.busy != "" {
			return s, nil
		}
		if s.mode == addChoose {
			// A link pasted straight into the menu goes to the link field.
			s.mode = addLink
			s.link.SetValue(strings.TrimSpace(msg.Content))
			s.checkLink()
			return s, s.focus()
		}
		return s, s.updateText(msg)
	case tea.KeyPressMsg:
		if s.busy != "" {
			if s.cancelSave != nil && key.Matches(msg, s.c.formKeys.Back) {
				// A save can wait on the OS keyring (a prompt nobody sees):
				// esc gives up on it and keeps what was typed.
				s.cancelSave()
				s.cancelSave, s.busy = nil, ""
				s.err = errSaveCancelled.Error() + "; what you typed is kept"
				return s, s.focus()
			}
			return s, nil
		}
		if key.Matches(msg, s.c.formKeys.Back) {
			switch s.mode {
			case addChoose:
				return nil, nil
			case addPassphrase:
				s.mode = s.back
			default:
				s.mode = addChoose
			}
			s.err = ""
			return s, s.focus()
		}
		if s.mode == addChoose {
			return s.updateChoose(msg)
		}
		return s, s.updateText(msg)
	}
	return s, nil
}

// updateText gives a key or a paste to the mode's fields.
func (s *addScreen) updateText(msg tea.Msg) tea.Cmd {
	switch s.mode {
	case addLink:
		return s.updateLink(msg)
	case addFile:
		return s.updateFile(msg)
	case addManual:
		return s.updateManual(msg)
	case addPassphrase:
		return s.updatePassphrase(msg)
	case addPick:
		return s.updatePick(msg)
	}
	return nil
}

func (s *addScreen) focus() tea.Cmd {
	s.link.Blur()
	s.path.Blur()
	s.pathPw.Blur()
	switch s.mode {
	case addLink:
		return s.link.Focus()
	case addFile:
		if s.needPw {
			return s.pathPw.Focus()
		}
		return s.path.Focus()
	case addManual:
		return s.manual.focusField(s.manual.focus)
	case addPassphrase:
		return s.pass.focusField(0)
	}
	return nil
}

func (s *addScreen) updateChoose(km tea.KeyPressMsg) (screen, tea.Cmd) {
	if typedText(km) && !isMenuKey(km, addChoices) {
		// Printable text that is not a menu key is the start of a link
		// typed, or pasted by a terminal without bracketed paste: the "l"
		// of "alice" must not open the link form and lose "a".
		s.mode = addLink
		s.link.SetValue(km.Text)
		s.link.CursorEnd()
		s.checkLink()
		return s, s.focus()
	}
	var chosen bool
	if s.choice, chosen = menuKey(km, addChoices, s.choice); chosen {
		if s.choice < len(addMenuModes) {
			s.mode = addMenuModes[s.choice]
			return s, s.focus()
		}
		s.busy, s.err = "Scanning the screen…", ""
		if addChoices[s.choice].key == "v" {
			s.busy = "Reading the clipboard…"
			return s, readClipboard(s.c.clipboardCodes)
		}
		return s, scanScreen(s.c.capture, s.c.altScreen)
	}
	return s, nil
}

// typedText reports whether a key press is printable text, not a
// navigation or control key.
func typedText(km tea.KeyPressMsg) bool {
	if km.Text == "" || km.Mod&(tea.ModCtrl|tea.ModAlt) != 0 {
		return false
	}
	for _, r := range km.Text {
		if !unicode.IsPrint(r) || unicode.IsSpace(r) {
			return false
		}
	}
	return true
}

// isMenuKey reports whether km picks or moves in the menu.
func isMenuKey(km tea.KeyPressMsg, items []menuItem) bool {
	_, chosen := menuKey(km, items, 0)
	moved, _ := menuKey(km, items, 1)
	return chosen || moved != 1
}

// checkLink parses the link as it is typed and previews the account.
func (s *addScreen) checkLink() {
	s.linkErr, s.linkOK = "", ""
	v := strings.TrimSpace(s.link.Value())
	if v == "" {
		return
	}
	if transfer.IsMigrationLink(v) {
		s.linkOK = "a Google Authenticator export link: enter imports every account in it"
		return
	}
	a, err := vault.ParseURI(v)
	if err != nil {
		s.linkErr = errorText(err)
		return
	}
	s.linkOK = summary(&a)
}

// summary describes an account without its secret.
func summary(a *vault.Account) string {
	s := a.Label() + " · " + strings.ToUpper(string(a.Type)) + " · " + string(a.Algorithm) + " · " + strconv.Itoa(a.Digits) + " digits"
	if a.Type != vault.HOTP {
		s += " · " + strconv.Itoa(a.Period) + " s"
	} else {
		s += " · counter " + strconv.FormatUint(a.Counter, 10)
	}
	return s
}

func (s *addScreen) updateLink(msg tea.Msg) tea.Cmd {
	km := keyOf(msg)
	if key.Matches(km, s.c.formKeys.Submit) {
		v := strings.TrimSpace(s.link.Value())
		if v == "" {
			s.linkErr = "paste a link first: it starts with otpauth://"
			return nil
		}
		if transfer.IsMigrationLink(v) {
			s.busy = "Reading the link…"
			return importText("link", []byte(v))
		}
		a, err := vault.ParseURI(v)
		if err != nil {
			s.linkErr = errorText(err)
			return nil
		}
		return s.save(saveIntent{accts: []vault.Account{a}})
	}
	var cmd tea.Cmd
	s.link, cmd = s.link.Update(msg)
	s.checkLink()
	return cmd
}

func (s *addScreen) save(in saveIntent) tea.Cmd {
	s.busy, s.err = "Saving…", ""
	in.ctx, s.cancelSave = context.WithCancel(context.Background())
	s.pending = in
	return send(in)
}

// saveFailed shows why saving failed, next to what the user typed.
func (s *addScreen) saveFailed(err error) tea.Cmd {
	s.busy = ""
	if s.cancelSave != nil {
		s.cancelSave() // the save is over; release its context
		s.cancelSave = nil
	}
	if errors.Is(err, errNeedPassphrase) {
		s.back, s.mode = s.mode, addPassphrase
		return s.focus()
	}
	var fe *vault.FieldError
	switch {
	case s.mode == addManual && errors.As(err, &fe) && s.manual.byName(fe.Field) >= 0:
		i := s.manual.byName(fe.Field)
		s.manual.fields[i].err = fe.Reason
		return s.manual.focusField(i)
	case s.mode == addLink:
		s.linkErr = errorText(err)
	case s.mode == addFile:
		s.path.err = errorText(err)
	default:
		s.err = errorText(err)
	}
	return nil
}

func (s *addScreen) updateManual(msg tea.Msg) tea.Cmd {
	km := keyOf(msg)
	if key.Matches(km, s.c.formKeys.Submit) {
		a, err := s.manualAccount()
		if err != nil {
			return s.saveFailed(err)
		}
		return s.save(saveIntent{accts: []vault.Account{a}})
	}
	cmd, _ := s.manual.update(msg)
	s.syncManual()
	return cmd
}

// manualAccount builds the account from the form. Errors are
// *vault.FieldError naming the field.
func (s *addScreen) manualAccount() (vault.Account, error) {
	// Judge the values as they are now, never an error left on a field by
	// an earlier attempt.
	s.manual.revalidate()
	if err := s.manual.firstErr(); err != nil {
		return vault.Account{}, err
	}
	get := func(n string) string { return s.manual.fields[s.manual.byName(n)].value() }
	a := vault.Account{
		Issuer:    get("issuer"),
		Name:      get("name"),
		Type:      vault.Type(strings.ToLower(get("type"))),
		Algorithm: vault.Algorithm(get("algorithm")),
	}
	if get("secret") == "" {
		return a, &vault.FieldError{Field: "secret", Reason: "is empty: type the key the site shows next to its QR code"}
	}
	var err error
	if a.Secret, err = vault.ParseSecret(get("secret")); err != nil {
		return a, err
	}
	if a.Type != vault.Steam {
		a.Digits, _ = strconv.Atoi(get("digits"))
	}
	switch a.Type {
	case vault.HOTP:
		if a.Counter, err = strconv.ParseUint(get("counter"), 10, 64); err != nil {
			return a, &vault.FieldError{Field: "counter", Reason: "must be a whole number from 0 up"}
		}
	default:
		if a.Period, err = strconv.Atoi(get("period")); err != nil {
			return a, &vault.FieldError{Field: "period", Reason: "must be a whole number of seconds"}
		}
	}
	a.Normalize()
	return a, a.Validate()
}

func (s *addScreen) updatePassphrase(msg tea.Msg) tea.Cmd {
	km := keyOf(msg)
	if key.Matches(km, s.c.formKeys.Submit) {
		p1, p2 := s.pass.fields[0], s.pass.fields[1]
		p1.err, p2.err = "", ""
		switch err := vault.CheckPassphrase([]byte(p1.input.Value())); {
		case err != nil:
			p1.err = err.Error()
			return s.pass.focusField(0)
		case p1.input.Value() != p2.input.Value():
			p2.err = "does not match the first one"
			p2.input.Reset()
			return s.pass.focusField(1)
		}
		in := s.pending
		in.passphrase = []byte(p1.input.Value())
		s.mode = s.back
		return s.save(in)
	}
	cmd, _ := s.pass.update(msg)
	return cmd
}

func (s *addScreen) updateFile(msg tea.Msg) tea.Cmd {
	km := keyOf(msg)
	switch {
	case key.Matches(km, s.c.formKeys.Submit):
		p := s.path.path()
		if p == "" {
			s.path.err = "type the path of an image or export file (tab completes)"
			return nil
		}
		s.busy, s.path.err, s.path.matches = "Reading the file…", "", nil
		return importFile(p, []byte(s.pathPw.Value()))
	case !s.needPw && key.Matches(km, s.c.formKeys.Complete):
		return s.path.complete()
	case s.needPw && (key.Matches(km, s.c.formKeys.Next) || key.Matches(km, s.c.formKeys.Prev)):
		if s.pathPw.Focused() {
			s.pathPw.Blur()
			return s.path.Focus()
		}
		s.path.Blur()
		return s.pathPw.Focus()
	}
	var cmd tea.Cmd
	if s.pathPw.Focused() {
		s.pathPw, cmd = s.pathPw.Update(msg)
		return cmd
	}
	cmd, changed := s.path.update(msg)
	if changed {
		if s.needPw {
			s.needPw = false
			s.pathPw.Reset()
		}
	}
	return cmd
}

func (s *addScreen) imported(msg importedMsg) tea.Cmd {
	s.busy = ""
	switch {
	case errors.Is(msg.err, transfer.ErrPasswordRequired):
		// Not an error: a question.
		s.needPw, s.path.err = true, ""
		s.path.Blur()
		return s.pathPw.Focus()
	case errors.Is(msg.err, transfer.ErrWrongPassword):
		s.needPw, s.path.err = true, "wrong password: try again"
		s.pathPw.Reset()
		return s.pathPw.Focus()
	case msg.err != nil:
		return s.saveFailed(msg.err)
	case len(msg.res.Accounts) == 0:
		why := "no account could be read from it"
		if len(msg.res.Skipped) > 0 {
			why += ": " + msg.res.Skipped[0].String()
		}
		return s.saveFailed(errors.New(why))
	}
	return s.save(saveIntent{accts: msg.res.Accounts, merge: true, skipped: len(msg.res.Skipped), warnings: msg.res.Warnings})
}

// importFile reads a QR code image or an export file: transfer knows both.
func importFile(path string, password []byte) tea.Cmd {
	return func() tea.Msg {
		if st, err := os.Stat(path); err == nil && st.IsDir() {
			return importedMsg{path: path, err: fmt.Errorf("%s is a folder: give a file in it (tab completes the names)", path)}
		}
		in, err := transfer.ReadFile(path)
		if err != nil {
			return importedMsg{path: path, err: err}
		}
		opts := transfer.ImportOptions{}
		if len(password) > 0 {
			opts.Password = func(string, transfer.Format) ([]byte, error) { return password, nil }
		}
		res, err := transfer.Import(opts, in)
		return importedMsg{path: path, res: res, err: err}
	}
}

func importText(name string, data []byte) tea.Cmd {
	return func() tea.Msg {
		res, err := transfer.Import(transfer.ImportOptions{}, transfer.Input{Name: name, Data: data})
		return importedMsg{path: name, res: res, err: err}
	}
}

func (s *addScreen) view() string {
	st := &s.c.styles
	var b strings.Builder
	b.WriteString("\n")
	switch s.mode {
	case addChoose:
		b.WriteString(menuView(st, addChoices, s.choice))
		b.WriteString("  " + st.Muted.Render("Tip: paste a link right here to add it."))
	case addLink:
		b.WriteString("  " + s.c.input(s.link) + "\n\n")
		switch {
		case s.linkErr != "":
			b.WriteString(para(st.FieldError, "✗ "+s.linkErr, s.c.width, 2))
		case s.linkOK != "":
			b.WriteString(para(st.ToastOK, "✓ "+s.linkOK, s.c.width, 2))
		default:
			b.WriteString("  " + st.Muted.Render("Paste the otpauth:// link (many sites show it under “can't scan the code?”)."))
		}
	case addFile:
		b.WriteString("  " + s.c.input(s.path.Model) + "\n")
		if s.needPw {
			b.WriteString("  " + s.c.input(s.pathPw) + "\n")
		}
		b.WriteString("\n")
		if s.path.err != "" {
			b.WriteString(para(st.FieldError, "✗ "+s.path.err, s.c.width, 2) + "\n")
		} else if s.needPw {
			b.WriteString(para(st.Accent, "This file is encrypted: type its password, then press enter.", s.c.width, 2) + "\n")
		} else {
			b.WriteString("  " + st.Muted.Render("A PNG, JPEG or GIF of a QR code, or an export file from another authenticator.") + "\n")
		}
		if m := s.path.matchesView(st); m != "" {
			b.WriteString("\n  " + m)
		}
	case addManual:
		b.WriteString(s.manual.view())
	case addPick:
		b.WriteString(s.pickView())
	case addPassphrase:
		b.WriteString(para(st.Text, "There is no working OS keyring here, so the new vault will be protected by a passphrase. You will type it each time Sesame starts (or set SESAME_PASSPHRASE).", min(s.c.width-2, 72), 2) + "\n\n")
		b.WriteString(s.pass.view())
	}
	if s.busy != "" && s.cancelSave != nil {
		b.WriteString("\n\n  " + st.Muted.Render(s.busy+" (esc cancels)"))
	} else if s.busy != "" {
		b.WriteString("\n\n  " + st.Muted.Render(s.busy))
	} else if s.err != "" {
		b.WriteString("\n\n" + para(st.FieldError, "✗ "+s.err, s.c.width, 2))
	}
	return b.String()
}

func (s *addScreen) keys() help.KeyMap {
	k := s.c.formKeys
	switch s.mode {
	case addChoose:
		return bindings{key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "choose")),
			key.NewBinding(key.WithKeys("up"), key.WithHelp("↑/↓", "move")), withHelp(k.Back, "esc", "cancel")}
	case addLink:
		return bindings{withHelp(k.Submit, "enter", "add"), k.Back}
	case addFile:
		return bindings{withHelp(k.Submit, "enter", "read it"), k.Complete, k.Back}
	case addManual:
		return bindings{withHelp(k.Submit, "enter", "add"), k.Next, k.Prev, k.Left, k.Reveal, k.Back}
	case addPick:
		return bindings{withHelp(k.Submit, "enter", "add the chosen"), s.pickKeys.Toggle, s.pickKeys.Up, k.Back}
	}
	return bindings{withHelp(k.Submit, "enter", "create the vault"), k.Next, k.Back}
}

func withHelp(b key.Binding, keyName, desc string) key.Binding {
	b.SetHelp(keyName, desc)
	return b
}
