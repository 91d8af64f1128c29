package tui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"github.com/sesame-auth/sesame/vault"
)

// field is one line of a form: a text input, or a choice among a few values.
type field struct {
	name    string // the vault.FieldError name it reports errors for
	label   string
	input   textinput.Model
	choices []string
	choice  int
	err     string
	hidden  bool
	// check validates the value as it is typed; "" means fine.
	check func(string) string
}

func (f *field) value() string {
	if f.choices != nil {
		return f.choices[f.choice]
	}
	return strings.TrimSpace(f.input.Value())
}

// form is a vertical list of fields with one focused.
type form struct {
	c      *common
	fields []*field
	focus  int
}

func newTextField(c *common, name, label, placeholder string, limit int) *field {
	ti := textinput.New()
	ti.Prompt = ""
	ti.Placeholder = placeholder
	ti.CharLimit = limit
	ti.SetWidth(40)
	ti.SetStyles(c.styles.Input)

	return &field{name: name, label: label, input: ti}
}

func newChoiceField(name, label string, choices ...string) *field {
	return &field{name: name, label: label, choices: choices}
}

// focusField moves the focus to field i and returns the cursor command.
func (f *form) focusField(i int) tea.Cmd {
	for _, fl := range f.fields {
		fl.input.Blur()
	}
	f.focus = i
	if fl := f.fields[i]; fl.choices == nil {
		return fl.input.Focus()
	}
	return nil
}

func (f *form) byName(name string) int {
	for i, fl := range f.fields {
		if fl.name == name {
			return i
		}
	}
	return -1
}

// step moves the focus by d, skipping hidden fields.
func (f *form) step(d int) tea.Cmd {
	n := len(f.fields)
	i := f.focus
	for range n {
		i = (i + d + n) % n
		if !f.fields[i].hidden {
			break
		}
	}
	return f.focusField(i)
}

// update handles navigation and typing. It reports whether the value of a
// field changed.
func (f *form) update(msg tea.Msg) (tea.Cmd, bool) {
	km := keyOf(msg)
	k := f.c.formKeys
	fl := f.fields[f.focus]
	switch {
	case key.Matches(km, k.Next):
		return f.step(1), false
	case key.Matches(km, k.Prev):
		return f.step(-1), false
	case fl.choices != nil && key.Matches(km, k.Left):
		fl.choice = (fl.choice + len(fl.choices) - 1) % len(fl.choices)
		f.revalidate()
		return nil, true
	case fl.choices != nil && key.Matches(km, k.Right):
		fl.choice = (fl.choice + 1) % len(fl.choices)
		f.revalidate()
		return nil, true
	case key.Matches(km, k.Reveal) && fl.input.EchoMode != textinput.EchoNormal:
		fl.input.EchoMode = textinput.EchoNormal
		return nil, false
	case key.Matches(km, k.Reveal) && fl.name == "secret":
		fl.input.EchoMode = textinput.EchoPassword
		return nil, false
	}
	if fl.choices != nil {
		return nil, false
	}
	before := fl.input.Value()
	var cmd tea.Cmd
	fl.input, cmd = fl.input.Update(msg)
	changed := fl.input.Value() != before
	if changed {
		f.revalidate()
	}
	return cmd, changed
}

// liveErr is what the field's own check says about its current value; an
// empty value is not judged while typing.
func (fl *field) liveErr() string {
	if fl.check == nil || fl.hidden || fl.choices != nil {
		return ""
	}
	if v := fl.input.Value(); strings.TrimSpace(v) != "" {
		return fl.check(v)
	}
	return ""
}

// revalidate recomputes every field's error from the current values. Errors
// reported by the last submit (an empty account name, a duplicate, anything
// the vault said) may depend on several fields, so any change clears them:
// the next submit checks again. Nothing shown is older than the values.
func (f *form) revalidate() {
	for _, fl := range f.fields {
		fl.err = fl.liveErr()
	}
}

// firstErr is the first visible field whose own check rejects its current
// value, as a *vault.FieldError, or nil.
func (f *form) firstErr() error {
	for _, fl := range f.fields {
		if e := fl.liveErr(); e != "" {
			return &vault.FieldError{Field: fl.name, Reason: e}
		}
	}
	return nil
}

// view draws the fields, each with its inline error.
func (f *form) view() string {
	s := &f.c.styles
	lw := 0
	for _, fl := range f.fields {
		lw = max(lw, len(fl.label))
	}
	var lines []string
	for i, fl := range f.fields {
		if fl.hidden {
			continue
		}
		ls := s.Label
		mark := "  "
		if i == f.focus {
			ls, mark = s.LabelFocused, s.Accent.Render("› ")
		}
		var val string
		if fl.choices != nil {
			parts := make([]string, len(fl.choices))
			for j, c := range fl.choices {
				if j == fl.choice {
					parts[j] = s.ButtonFocused.Render("[" + c + "]")
				} else {
					parts[j] = s.Button.Render(" " + c + " ")
				}
			}
			val = strings.Join(parts, "")
			if i == f.focus {
				val = s.Muted.Render("‹") + val + s.Muted.Render("›")
			}
		} else {
			val = f.c.input(fl.input)
		}
		lines = append(lines, mark+ls.Render(pad(fl.label, lw))+"  "+val)
		if fl.err != "" {
			indent := strings.Repeat(" ", lw+4)
			msg := wrap("✗ "+fl.label+" "+fl.err, max(f.c.width-lw-6, 20))
			for _, l := range strings.Split(msg, "\n") {
				lines = append(lines, indent+s.FieldError.Render(l))
			}
		}
	}
	return strings.Join(lines, "\n")
}

// menuItem is one choice of a screen's opening menu, picked with its key.
type menuItem struct{ key, label, hint string }

// menuKey moves the menu's selection or picks a choice: enter, or the
// choice's own key. It returns the selection and whether it was picked.
func menuKey(km tea.KeyPressMsg, items []menuItem, choice int) (int, bool) {
	k := DefaultMenuKeys()
	switch {
	case key.Matches(km, k.Up):
		return (choice + len(items) - 1) % len(items), false
	case key.Matches(km, k.Down):
		return (choice + 1) % len(items), false
	case key.Matches(km, k.Pick):
		return choice, true
	}
	for i, it := range items {
		if key.Matches(km, key.NewBinding(key.WithKeys(it.key))) {
			return i, true
		}
	}
	return choice, false
}

// menuView draws the menu, each choice with its key and a hint below it.
func menuView(st *Styles, items []menuItem, choice int) string {
	var b strings.Builder
	for i, it := range items {
		mark, ls := "  ", st.Text
		if i == choice {
			mark, ls = st.Gutter.Render("▌ "), st.IssuerSelected
		}
		b.WriteString(" " + mark + st.Accent.Render(it.key) + "  " + ls.Render(it.label) + "\n")
		b.WriteString("      " + st.Muted.Render(it.hint) + "\n\n")
	}
	return b.String()
}
