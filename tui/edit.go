package tui

import (
	"errors"
	"fmt"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"github.com/sesame-auth/sesame/vault"
)

// editScreen renames an account: its issuer and account name. The secret
// and code parameters cannot change; delete and add again for that.
//
// Another process may rename the account while the form is open. Nothing
// is lost either way: when the reload arrives, fields the user has not
// touched take the new values and a note says what changed; a field the
// user did edit keeps the user's text, and the note says the save will
// replace the other window's value for it. The save itself writes only the
// fields the user changed, by ID, inside the vault's Update (which re-reads
// the file), so a rename that lands after the last reload survives too.
type editScreen struct {
	c *common
	// base is the account as the form last saw it: when it opened, or at
	// the last reload. A field whose value differs from base was edited.
	base vault.Account
	form form
	busy bool
	err  string
	note string // what another window changed, while the form was open
	gone bool   // the account was removed in another window
}

func newEditScreen(c *common, a vault.Account) *editScreen {
	issuer := newTextField(c, "issuer", "Issuer", "e.g. GitHub", vault.MaxLabelLength)
	issuer.input.SetValue(a.Issuer)
	name := newTextField(c, "name", "Account", "e.g. you@example.com", vault.MaxLabelLength)
	name.input.SetValue(a.Name)
	return &editScreen{c: c, base: a, form: form{c: c, fields: []*field{issuer, name}}}
}

func (s *editScreen) init() tea.Cmd { return s.form.focusField(0) }

func (s *editScreen) title() string { return "Edit " + s.base.Label() }

// edits are the new values of the fields the user changed; nil means
// unchanged, and the save leaves that field as it is on disk.
func (s *editScreen) edits() (issuer, name *string) {
	if v := s.form.fields[0].value(); v != s.base.Issuer {
		issuer = &v
	}
	if v := s.form.fields[1].value(); v != s.base.Name {
		name = &v
	}
	return issuer, name
}

// reloaded takes the vault as another process left it.
func (s *editScreen) reloaded(d vault.Data) {
	a, err := d.Account(s.base.ID)
	if err != nil {
		s.gone = true
		s.note = s.base.Label() + " was removed in another window: there is nothing left to rename (esc closes)"
		return
	}
	if a.Issuer == s.base.Issuer && a.Name == s.base.Name {
		return
	}
	issuer, name := s.edits()
	var kept []string
	if issuer == nil {
		s.form.fields[0].input.SetValue(a.Issuer)
	} else if a.Issuer != s.base.Issuer {
		kept = append(kept, "issuer")
	}
	if name == nil {
		s.form.fields[1].input.SetValue(a.Name)
	} else if a.Name != s.base.Name {
		kept = append(kept, "account name")
	}
	old := s.base.Label()
	s.base.Issuer, s.base.Name = a.Issuer, a.Name
	s.note = fmt.Sprintf("%s was changed in another window: it is now %s.", old, a.Label())
	switch len(kept) {
	case 0:
		s.note += " The form shows the new values; your edits apply to them."
	case 1:
		s.note += " Saving replaces its " + kept[0] + " with yours; esc keeps theirs."
	default:
		s.note += " Saving replaces both with yours; esc keeps theirs."
	}
	s.form.revalidate()
}

func (s *editScreen) update(msg tea.Msg) (screen, tea.Cmd) {
	switch msg := msg.(type) {
	case savedMsg:
		s.busy = false
		var fe *vault.FieldError
		if errors.As(msg.err, &fe) && s.form.byName(fe.Field) >= 0 {
			i := s.form.byName(fe.Field)
			s.form.fields[i].err = fe.Reason
			return s, s.form.focusField(i)
		}
		s.err = errorText(msg.err)
		return s, nil
	case tea.KeyPressMsg:
		if s.busy {
			return s, nil
		}
		k := s.c.formKeys
		switch {
		case key.Matches(msg, k.Back):
			return nil, nil
		case key.Matches(msg, k.Submit):
			if s.gone {
				return nil, send(toastMsg{text: s.base.Label() + " was removed in another window: nothing was saved", err: true})
			}
			issuer, name := s.edits()
			if issuer == nil && name == nil {
				return nil, nil // nothing to save
			}
			for _, f := range s.form.fields {
				f.err = ""
			}
			s.busy, s.err = true, ""
			return s, send(renameIntent{base: s.base, issuer: issuer, name: name})
		}
		cmd, _ := s.form.update(msg)
		return s, cmd
	case tea.PasteMsg:
		if s.busy {
			return s, nil
		}
		cmd, _ := s.form.update(msg)
		return s, cmd
	}
	return s, nil
}

func (s *editScreen) view() string {
	st := &s.c.styles
	out := "\n" + s.form.view()
	w := min(s.c.width, 80)
	if s.note != "" {
		out += "\n\n" + para(st.Accent, "! "+s.note, w, 2)
	}
	if s.err != "" {
		out += "\n\n" + para(st.FieldError, "✗ "+s.err, w, 2)
	}
	return out + "\n\n" + para(st.Muted, "The secret cannot be edited: delete the account and add it again to change it.", w, 2)
}

func (s *editScreen) keys() help.KeyMap {
	k := s.c.formKeys
	return bindings{withHelp(k.Submit, "enter", "save"), k.Next, k.Back}
}

// renameIntent asks to rename an account. Only the fields the user changed
// are set; base is the account as the form last saw it.
type renameIntent struct {
	base         vault.Account
	issuer, name *string
}

// rename applies a renameIntent inside the vault's Update, which re-reads
// the file first: the account is found by ID and only the edited fields are
// written, so a change another process made to the other field is kept.
func rename(v *vault.Vault, in renameIntent) tea.Cmd {
	return func() tea.Msg {
		var before vault.Account
		d, err := v.Update(func(d *vault.Data) error {
			a, err := d.Account(in.base.ID)
			if errors.Is(err, vault.ErrNotFound) {
				return fmt.Errorf("%s was removed in another window: nothing was saved", in.base.Label())
			}
			if err != nil {
				return err
			}
			before = *a
			_, err = d.Rename(in.base.ID, in.issuer, in.name)
			return err
		})
		if err != nil {
			return savedMsg{err: err}
		}
		a, _ := d.Account(in.base.ID)
		note := "saved " + a.Label()
		if before.Issuer != in.base.Issuer || before.Name != in.base.Name {
			note += " (it had been renamed in another window: unedited fields keep that)"
		}
		return savedMsg{added: []vault.Account{*a}, data: d, note: note}
	}
}
