package tui

import (
	"fmt"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
)

// ListKeys are the main screen's bindings.
type ListKeys struct {
	Up, Down, Top, Bottom, PageUp, PageDown key.Binding
	Copy, CopyC                             key.Binding
	Filter, ClearFilter                     key.Binding
	Pin, MoveUp, MoveDown                   key.Binding
	Add, Edit, Delete, Undo, QR, Export     key.Binding
	Privacy, History, Pause                 key.Binding
	Help, Quit                              key.Binding
}

// DefaultListKeys returns the main screen's default bindings.
func DefaultListKeys() ListKeys {
	return ListKeys{
		Up:          key.NewBinding(key.WithKeys("up", "k"), key.WithHelp("↑/k", "up")),
		Down:        key.NewBinding(key.WithKeys("down", "j"), key.WithHelp("↓/j", "down")),
		Top:         key.NewBinding(key.WithKeys("home", "g"), key.WithHelp("g/home", "first")),
		Bottom:      key.NewBinding(key.WithKeys("end", "G"), key.WithHelp("G/end", "last")),
		PageUp:      key.NewBinding(key.WithKeys("pgup", "ctrl+b"), key.WithHelp("pgup", "page up")),
		PageDown:    key.NewBinding(key.WithKeys("pgdown", "ctrl+f"), key.WithHelp("pgdn", "page down")),
		Copy:        key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter/c", "copy")),
		CopyC:       key.NewBinding(key.WithKeys("c"), key.WithHelp("c", "copy")),
		Filter:      key.NewBinding(key.WithKeys("/"), key.WithHelp("/", "filter")),
		ClearFilter: key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "clear filter")),
		Pin:         key.NewBinding(key.WithKeys("p"), key.WithHelp("p", "pin")),
		MoveUp:      key.NewBinding(key.WithKeys("K", "shift+up"), key.WithHelp("K", "move up")),
		MoveDown:    key.NewBinding(key.WithKeys("J", "shift+down"), key.WithHelp("J", "move down")),
		Add:         key.NewBinding(key.WithKeys("a"), key.WithHelp("a", "add")),
		Edit:        key.NewBinding(key.WithKeys("e"), key.WithHelp("e", "edit")),
		Delete:      key.NewBinding(key.WithKeys("d", "delete"), key.WithHelp("d", "delete")),
		Undo:        key.NewBinding(key.WithKeys("u"), key.WithHelp("u", "undo delete")),
		QR:          key.NewBinding(key.WithKeys("x"), key.WithHelp("x", "show QR")),
		Export:      key.NewBinding(key.WithKeys("E"), key.WithHelp("E", "export all")),
		Privacy:     key.NewBinding(key.WithKeys("m"), key.WithHelp("m", "mask codes")),
		History:     key.NewBinding(key.WithKeys("H"), key.WithHelp("H", "sign-in history")),
		Pause:       key.NewBinding(key.WithKeys("P"), key.WithHelp("P", "pause sign-ins")),
		Help:        key.NewBinding(key.WithKeys("?"), key.WithHelp("?", "all keys")),
		Quit:        key.NewBinding(key.WithKeys("q", "ctrl+c"), key.WithHelp("q", "quit")),
	}
}

// ShortHelp implements help.KeyMap.
func (k ListKeys) ShortHelp() []key.Binding {
	return []key.Binding{k.Copy, k.Filter, k.Add, k.ClearFilter, k.Help, k.Quit}
}

// FullHelp implements help.KeyMap.
func (k ListKeys) FullHelp() [][]key.Binding {
	return [][]key.Binding{
		{k.Up, k.Down, k.Top, k.Bottom, k.PageUp, k.PageDown},
		{k.Copy, k.Filter, k.ClearFilter, k.Privacy, k.Help, k.Quit},
		{k.Add, k.Edit, k.Delete, k.Undo, k.QR, k.Export},
		{k.Pin, k.MoveUp, k.MoveDown, k.History, k.Pause},
	}
}

// FilterKeys are active while the filter has the focus.
type FilterKeys struct {
	Accept, Cancel, Up, Down key.Binding
}

// DefaultFilterKeys returns the filter's default bindings.
func DefaultFilterKeys() FilterKeys {
	return FilterKeys{
		Accept: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "copy best match")),
		Cancel: key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "clear")),
		Up:     key.NewBinding(key.WithKeys("up", "ctrl+p"), key.WithHelp("↑", "up")),
		Down:   key.NewBinding(key.WithKeys("down", "ctrl+n"), key.WithHelp("↓", "down")),
	}
}

// ShortHelp implements help.KeyMap.
func (k FilterKeys) ShortHelp() []key.Binding { return []key.Binding{k.Accept, k.Cancel, k.Up, k.Down} }

// FullHelp implements help.KeyMap.
func (k FilterKeys) FullHelp() [][]key.Binding { return [][]key.Binding{k.ShortHelp()} }

// FormKeys are the bindings of the add, edit and unlock forms.
type FormKeys struct {
	Next, Prev, Submit, Back, Left, Right, Complete, Reveal key.Binding
}

// DefaultFormKeys returns the forms' default bindings.
func DefaultFormKeys() FormKeys {
	return FormKeys{
		Next:     key.NewBinding(key.WithKeys("tab", "down"), key.WithHelp("tab", "next field")),
		Prev:     key.NewBinding(key.WithKeys("shift+tab", "up"), key.WithHelp("shift+tab", "previous")),
		Submit:   key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "save")),
		Back:     key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
		Left:     key.NewBinding(key.WithKeys("left"), key.WithHelp("←/→", "change")),
		Right:    key.NewBinding(key.WithKeys("right", "space")),
		Complete: key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "complete")),
		Reveal:   key.NewBinding(key.WithKeys("ctrl+r"), key.WithHelp("ctrl+r", "show secret")),
	}
}

// ShortHelp implements help.KeyMap.
func (k FormKeys) ShortHelp() []key.Binding {
	return []key.Binding{k.Submit, k.Next, k.Prev, k.Left, k.Reveal, k.Complete, k.Back}
}

// FullHelp implements help.KeyMap.
func (k FormKeys) FullHelp() [][]key.Binding { return [][]key.Binding{k.ShortHelp()} }

// MenuKeys move through a screen's opening menu; each choice is also
// picked with its own key.
type MenuKeys struct {
	Up, Down, Pick key.Binding
}

// DefaultMenuKeys returns the menus' default bindings.
func DefaultMenuKeys() MenuKeys {
	return MenuKeys{
		Up:   key.NewBinding(key.WithKeys("up", "k", "shift+tab")),
		Down: key.NewBinding(key.WithKeys("down", "j", "tab")),
		Pick: key.NewBinding(key.WithKeys("enter")),
	}
}

// ExportKeys are the bindings of the export screen and of the Google
// Authenticator QR codes it shows.
type ExportKeys struct {
	Up, Down, Choose          key.Binding // the menu of formats
	NextField, PrevField      key.Binding
	Complete, Submit          key.Binding
	Yes, No, Back             key.Binding
	NextPage, PrevPage, Close key.Binding // the QR codes
}

// DefaultExportKeys returns the export screen's default bindings.
func DefaultExportKeys() ExportKeys {
	return ExportKeys{
		Up:        key.NewBinding(key.WithKeys("up", "k", "shift+tab"), key.WithHelp("↑/↓", "move")),
		Down:      key.NewBinding(key.WithKeys("down", "j", "tab")),
		Choose:    key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "choose")),
		NextField: key.NewBinding(key.WithKeys("down", "tab"), key.WithHelp("↓/tab", "next field")),
		PrevField: key.NewBinding(key.WithKeys("up", "shift+tab"), key.WithHelp("↑", "previous")),
		Complete:  key.NewBinding(key.WithKeys("tab"), key.WithHelp("tab", "complete")),
		Submit:    key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "export")),
		Yes:       key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "yes, write it")),
		No:        key.NewBinding(key.WithKeys("n", "esc"), key.WithHelp("n", "no")),
		Back:      key.NewBinding(key.WithKeys("esc"), key.WithHelp("esc", "back")),
		NextPage:  key.NewBinding(key.WithKeys("n", "enter", "space"), key.WithHelp("n/enter", "next")),
		PrevPage:  key.NewBinding(key.WithKeys("p", "left"), key.WithHelp("p", "previous")),
		Close:     key.NewBinding(key.WithKeys("esc", "q"), key.WithHelp("esc", "close")),
	}
}

// ShortHelp implements help.KeyMap.
func (k ExportKeys) ShortHelp() []key.Binding {
	return []key.Binding{k.Choose, k.Up, k.Submit, k.Complete, k.NextPage, k.Close}
}

// FullHelp implements help.KeyMap.
func (k ExportKeys) FullHelp() [][]key.Binding {
	return [][]key.Binding{{k.Up, k.Down, k.Choose}, {k.NextField, k.PrevField, k.Complete, k.Submit, k.Back},
		{k.Yes, k.No}, {k.NextPage, k.PrevPage, k.Close}}
}

// DialogKeys are the bindings of confirmations, the QR view and the approval prompt.
type DialogKeys struct {
	Yes, No, Left, Right, Select, Close key.Binding
}

// DefaultDialogKeys returns the dialogs' default bindings.
func DefaultDialogKeys() DialogKeys {
	return DialogKeys{
		Yes:    key.NewBinding(key.WithKeys("y"), key.WithHelp("y", "yes")),
		No:     key.NewBinding(key.WithKeys("n"), key.WithHelp("n", "no")),
		Left:   key.NewBinding(key.WithKeys("left", "h", "shift+tab"), key.WithHelp("←/→", "choose")),
		Right:  key.NewBinding(key.WithKeys("right", "l", "tab")),
		Select: key.NewBinding(key.WithKeys("enter"), key.WithHelp("enter", "confirm")),
		Close:  key.NewBinding(key.WithKeys("esc", "q"), key.WithHelp("esc", "close")),
	}
}

// ShortHelp implements help.KeyMap.
func (k DialogKeys) ShortHelp() []key.Binding {
	return []key.Binding{k.Yes, k.No, k.Left, k.Select, k.Close}
}

// FullHelp implements help.KeyMap.
func (k DialogKeys) FullHelp() [][]key.Binding { return [][]key.Binding{k.ShortHelp()} }

// bindings is a help.KeyMap made of a fixed list, for screens whose keys
// depend on their state.
type bindings []key.Binding

func (b bindings) ShortHelp() []key.Binding  { return b }
func (b bindings) FullHelp() [][]key.Binding { return [][]key.Binding{b} }

// keyOf is the key a message presses, for key.Matches: a paste presses
// none, so that pasted text is never taken for a command.
func keyOf(msg tea.Msg) fmt.Stringer {
	if km, ok := msg.(tea.KeyPressMsg); ok {
		return km
	}
	return noKey{}
}

type noKey struct{}

func (noKey) String() string { return "" }
