package tui

import (
	"errors"

	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/key"
	tea "github.com/charmbracelet/bubbletea"

	"github.com/sesame-auth/sesame/vault"
)

// editScreen renames an account: its issuer and account name. The secret
// and code parameters cannot change; delete and add again for that.
type editScreen struct {
	c    *common
	acct vault.Account
	form form
	busy bool
	err  string
}

func newEditScreen(c *common, a vault.Account) *editScreen {
	issuer := newTextField(c, "issuer", "Issuer", "e.g. GitHub", vault.MaxLabelLength)
	issuer.input.SetValue(a.Issuer)
	name := newTextField(c, "name", "Account", "e.g. you@example.com", vault.MaxLabelLength)
	name.input.SetValue(a.Name)
	return &editScreen{c: c, acct: a, form: form{c: c, fields: []*field{issuer, name}}}
}

func (s *editScreen) init() tea.Cmd { return s.form.focusField(0) }

func (s *editScreen) title() string { return "Edit " + s.acct.Label() }

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
	case tea.KeyMsg:
		if s.busy {
			return s, nil
		}
		k := s.c.formKeys
		switch {
		case key.Matches(msg, k.Back):
			return nil, nil
		case key.Matches(msg, k.Submit):
			for _, f := range s.form.fields {
				f.err = ""
			}
			s.busy, s.err = true, ""
			return s, send(renameIntent{id: s.acct.ID, issuer: s.form.fields[0].value(), name: s.form.fields[1].value()})
		}
		cmd, _ := s.form.update(msg)
		return s, cmd
	}
	return s, nil
}

func (s *editScreen) view() string {
	st := &s.c.styles
	out := "\n" + s.form.view()
	if s.err != "" {
		out += "\n\n  " + st.FieldError.Render("✗ "+s.err)
	}
	return out + "\n\n  " + st.Muted.Render("The secret cannot be edited: delete the account and add it again to change it.")
}

func (s *editScreen) keys() help.KeyMap {
	k := s.c.formKeys
	return bindings{withHelp(k.Submit, "enter", "save"), k.Next, k.Back}
}
