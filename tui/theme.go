package tui

import (
	"github.com/charmbracelet/bubbles/help"
	"github.com/charmbracelet/bubbles/textinput"
	"github.com/charmbracelet/lipgloss"
	"github.com/muesli/termenv"
)

// Palette is the small set of semantic colours every style is built from.
// Each colour has a light- and a dark-background variant.
type Palette struct {
	Text     lipgloss.AdaptiveColor // ordinary text
	Accent   lipgloss.AdaptiveColor // titles, selection, focus
	Muted    lipgloss.AdaptiveColor // secondary text: account names, hints
	Subtle   lipgloss.AdaptiveColor // borders, empty bar cells
	Fresh    lipgloss.AdaptiveColor // a code with time to spare
	Expiring lipgloss.AdaptiveColor // a code in its last seconds
	Danger   lipgloss.AdaptiveColor // errors, destructive choices, secret warnings
	OK       lipgloss.AdaptiveColor // success toasts
}

// DefaultPalette is Sesame's palette: readable on light and dark terminals.
func DefaultPalette() Palette {
	return Palette{
		Text:     lipgloss.AdaptiveColor{Light: "#1F2328", Dark: "#E6EDF3"},
		Accent:   lipgloss.AdaptiveColor{Light: "#6F42C1", Dark: "#B392F0"},
		Muted:    lipgloss.AdaptiveColor{Light: "#6E7781", Dark: "#8B949E"},
		Subtle:   lipgloss.AdaptiveColor{Light: "#D0D7DE", Dark: "#30363D"},
		Fresh:    lipgloss.AdaptiveColor{Light: "#0969DA", Dark: "#79C0FF"},
		Expiring: lipgloss.AdaptiveColor{Light: "#BC4C00", Dark: "#FFA657"},
		Danger:   lipgloss.AdaptiveColor{Light: "#CF222E", Dark: "#FF7B72"},
		OK:       lipgloss.AdaptiveColor{Light: "#1A7F37", Dark: "#56D364"},
	}
}

// Styles are every style the screens use, built once from a Palette.
// View functions only call Render on them.
type Styles struct {
	Title, Subtitle              lipgloss.Style
	Issuer, IssuerSelected, Name lipgloss.Style
	Gutter, Pin                  lipgloss.Style
	Code, CodeExpiring, NextCode lipgloss.Style
	Masked                       lipgloss.Style
	BarFull, BarFullExpiring     lipgloss.Style
	BarEmpty                     lipgloss.Style
	Status, StatusStrong         lipgloss.Style
	ToastOK, ToastErr            lipgloss.Style
	Muted, Text, Accent, Danger  lipgloss.Style
	Label, LabelFocused          lipgloss.Style
	FieldError                   lipgloss.Style
	Dialog, DialogDanger         lipgloss.Style
	Button, ButtonFocused        lipgloss.Style
	ButtonDanger                 lipgloss.Style
	QR                           lipgloss.Style
	Help                         help.Styles
	Input                        inputStyles
}

type inputStyles struct {
	Prompt, Text, Placeholder, Cursor lipgloss.Style
}

// NewStyles builds the styles for one renderer (one output stream).
func NewStyles(r *lipgloss.Renderer, p Palette) Styles {
	n := r.NewStyle
	s := Styles{
		Title:           n().Bold(true).Foreground(p.Accent),
		Subtitle:        n().Foreground(p.Muted),
		Issuer:          n().Bold(true).Foreground(p.Text),
		IssuerSelected:  n().Bold(true).Foreground(p.Accent),
		Name:            n().Foreground(p.Muted),
		Gutter:          n().Foreground(p.Accent),
		Pin:             n().Foreground(p.Expiring),
		Code:            n().Bold(true).Foreground(p.Fresh),
		CodeExpiring:    n().Bold(true).Foreground(p.Expiring),
		NextCode:        n().Foreground(p.Muted).Faint(true),
		Masked:          n().Foreground(p.Muted),
		BarFull:         n().Foreground(p.Fresh),
		BarFullExpiring: n().Foreground(p.Expiring),
		BarEmpty:        n().Foreground(p.Subtle),
		Status:          n().Foreground(p.Muted),
		StatusStrong:    n().Foreground(p.Text),
		ToastOK:         n().Foreground(p.OK),
		ToastErr:        n().Foreground(p.Danger),
		Muted:           n().Foreground(p.Muted),
		Text:            n().Foreground(p.Text),
		Accent:          n().Foreground(p.Accent),
		Danger:          n().Foreground(p.Danger).Bold(true),
		Label:           n().Foreground(p.Muted),
		LabelFocused:    n().Foreground(p.Accent).Bold(true),
		FieldError:      n().Foreground(p.Danger),
		Dialog:          n().Border(lipgloss.RoundedBorder()).BorderForeground(p.Accent).Padding(0, 2),
		DialogDanger:    n().Border(lipgloss.RoundedBorder()).BorderForeground(p.Danger).Padding(0, 2),
		Button:          n().Foreground(p.Muted),
		ButtonFocused:   n().Foreground(p.Accent).Bold(true),
		ButtonDanger:    n().Foreground(p.Danger).Bold(true),
		// QR codes are dark modules on a light field whatever the theme, or
		// phones fail to read them on light terminals.
		QR: n().Foreground(lipgloss.Color("#FFFFFF")).Background(lipgloss.Color("#000000")),
		Help: help.Styles{
			Ellipsis:       n().Foreground(p.Muted),
			ShortKey:       n().Foreground(p.Accent),
			ShortDesc:      n().Foreground(p.Muted),
			ShortSeparator: n().Foreground(p.Subtle),
			FullKey:        n().Foreground(p.Accent),
			FullDesc:       n().Foreground(p.Muted),
			FullSeparator:  n().Foreground(p.Subtle),
		},
		Input: inputStyles{
			Prompt:      n().Foreground(p.Accent),
			Text:        n().Foreground(p.Text),
			Placeholder: n().Foreground(p.Muted).Faint(true),
			Cursor:      n().Foreground(p.Accent),
		},
	}
	return s
}

// newRenderer returns the renderer for out, honouring NO_COLOR and a theme
// override ("light" or "dark"; anything else asks the terminal).
func newRenderer(o *Options) *lipgloss.Renderer {
	r := lipgloss.NewRenderer(o.Out, termenv.WithColorCache(true))
	if o.getenv("NO_COLOR") != "" {
		r.SetColorProfile(termenv.Ascii)
	}
	switch o.Theme {
	case "light":
		r.SetHasDarkBackground(false)
	case "dark":
		r.SetHasDarkBackground(true)
	default:
		// Ask the terminal now, before Bubble Tea reads the keyboard: asked
		// lazily from View, the terminal's answer would race with key input.
		r.SetHasDarkBackground(r.HasDarkBackground())
	}
	return r
}

// styleInput applies Sesame's styles to a text input.
func (s *Styles) styleInput(ti *textinput.Model) {
	ti.PromptStyle = s.Input.Prompt
	ti.TextStyle = s.Input.Text
	ti.PlaceholderStyle = s.Input.Placeholder
	ti.CompletionStyle = s.Input.Placeholder
	ti.Cursor.Style = s.Input.Cursor
	ti.Cursor.TextStyle = s.Input.Text
}
