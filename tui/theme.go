package tui

import (
	"image/color"
	"strconv"
	"strings"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/textinput"
	"charm.land/lipgloss/v2"
)

// Shade is one colour of the palette in its light- and dark-background
// variants.
type Shade struct{ Light, Dark color.Color }

func shade(light, dark string) Shade {
	return Shade{Light: lipgloss.Color(light), Dark: lipgloss.Color(dark)}
}

// Palette is the small set of semantic colours every style is built from.
type Palette struct {
	Text     Shade // ordinary text
	Accent   Shade // titles, selection, focus
	Muted    Shade // secondary text: account names, hints
	Subtle   Shade // borders, empty bar cells
	Fresh    Shade // a code with time to spare
	Expiring Shade // a code in its last seconds
	Danger   Shade // errors, destructive choices, secret warnings
	OK       Shade // success toasts
}

// DefaultPalette is Sesame's palette: readable on light and dark terminals.
func DefaultPalette() Palette {
	return Palette{
		Text:     shade("#1F2328", "#E6EDF3"),
		Accent:   shade("#6F42C1", "#B392F0"),
		Muted:    shade("#6E7781", "#8B949E"),
		Subtle:   shade("#D0D7DE", "#30363D"),
		Fresh:    shade("#0969DA", "#79C0FF"),
		Expiring: shade("#BC4C00", "#FFA657"),
		Danger:   shade("#CF222E", "#FF7B72"),
		OK:       shade("#1A7F37", "#56D364"),
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
	Input                        textinput.Styles
}

// NewStyles builds the styles for a terminal with a dark or a light
// background. The colour profile (NO_COLOR, a terminal without colours) is
// applied when the frame is written, not here.
func NewStyles(p Palette, dark bool) Styles {
	ld := lipgloss.LightDark(dark)
	c := func(s Shade) color.Color { return ld(s.Light, s.Dark) }
	n := lipgloss.NewStyle
	s := Styles{
		Title:           n().Bold(true).Foreground(c(p.Accent)),
		Subtitle:        n().Foreground(c(p.Muted)),
		Issuer:          n().Bold(true).Foreground(c(p.Text)),
		IssuerSelected:  n().Bold(true).Foreground(c(p.Accent)),
		Name:            n().Foreground(c(p.Muted)),
		Gutter:          n().Foreground(c(p.Accent)),
		Pin:             n().Foreground(c(p.Expiring)),
		Code:            n().Bold(true).Foreground(c(p.Fresh)),
		CodeExpiring:    n().Bold(true).Foreground(c(p.Expiring)),
		NextCode:        n().Foreground(c(p.Muted)).Faint(true),
		Masked:          n().Foreground(c(p.Muted)),
		BarFull:         n().Foreground(c(p.Fresh)),
		BarFullExpiring: n().Foreground(c(p.Expiring)),
		BarEmpty:        n().Foreground(c(p.Subtle)),
		Status:          n().Foreground(c(p.Muted)),
		StatusStrong:    n().Foreground(c(p.Text)),
		ToastOK:         n().Foreground(c(p.OK)),
		ToastErr:        n().Foreground(c(p.Danger)),
		Muted:           n().Foreground(c(p.Muted)),
		Text:            n().Foreground(c(p.Text)),
		Accent:          n().Foreground(c(p.Accent)),
		Danger:          n().Foreground(c(p.Danger)).Bold(true),
		Label:           n().Foreground(c(p.Muted)),
		LabelFocused:    n().Foreground(c(p.Accent)).Bold(true),
		FieldError:      n().Foreground(c(p.Danger)),
		Dialog:          n().Border(lipgloss.RoundedBorder()).BorderForeground(c(p.Accent)).Padding(0, 2),
		DialogDanger:    n().Border(lipgloss.RoundedBorder()).BorderForeground(c(p.Danger)).Padding(0, 2),
		Button:          n().Foreground(c(p.Muted)),
		ButtonFocused:   n().Foreground(c(p.Accent)).Bold(true),
		ButtonDanger:    n().Foreground(c(p.Danger)).Bold(true),
		// QR codes are dark modules on a light field whatever the theme, or
		// phones fail to read them on light terminals.
		QR: n().Foreground(lipgloss.Color("#FFFFFF")).Background(lipgloss.Color("#000000")),
		Help: help.Styles{
			Ellipsis:       n().Foreground(c(p.Muted)),
			ShortKey:       n().Foreground(c(p.Accent)),
			ShortDesc:      n().Foreground(c(p.Muted)),
			ShortSeparator: n().Foreground(c(p.Subtle)),
			FullKey:        n().Foreground(c(p.Accent)),
			FullDesc:       n().Foreground(c(p.Muted)),
			FullSeparator:  n().Foreground(c(p.Subtle)),
		},
		Input: inputStyles(n, c(p.Accent), c(p.Text), c(p.Muted)),
	}
	return s
}

// inputStyles are the text fields' styles, focused or not, with a cursor
// that does not blink (a blinking cursor redraws the screen twice a second).
func inputStyles(n func() lipgloss.Style, accent, text, muted color.Color) textinput.Styles {
	st := textinput.StyleState{
		Prompt:      n().Foreground(accent),
		Text:        n().Foreground(text),
		Placeholder: n().Foreground(muted).Faint(true),
		Suggestion:  n().Foreground(muted).Faint(true),
	}
	return textinput.Styles{Focused: st, Blurred: st, Cursor: textinput.CursorStyle{Color: accent}}
}

// backgroundWait is how long the UI waits for the terminal to say its
// background colour. The first frame does not wait: it is drawn in the dark
// palette, and redrawn in the light one if the answer says so in time.
const backgroundWait = 300 * time.Millisecond

// backgroundTimeoutMsg ends the wait for the terminal's background colour.
type backgroundTimeoutMsg struct{}

// background is the palette the options settle without asking the
// terminal: --theme, then NO_COLOR (no colours, so nothing to choose), then
// COLORFGBG ("15;0": light text on a dark background). known is false when
// only the terminal can tell; dark is the guess until it does.
func (o *Options) background() (dark, known bool) {
	switch o.Theme {
	case "light":
		return false, true
	case "dark":
		return true, true
	}
	if o.getenv("NO_COLOR") != "" {
		return true, true
	}
	if fgbg := o.getenv("COLORFGBG"); fgbg != "" {
		fields := strings.Split(fgbg, ";")
		if bg, err := strconv.Atoi(fields[len(fields)-1]); err == nil && bg >= 0 && bg <= 15 {
			return bg < 7 || bg == 8, true // the dark ones of the 16 ANSI colours
		}
	}
	return true, false
}

// input draws a text field in the current styles: they change once the
// terminal has said whether its background is dark.
func (c *common) input(ti textinput.Model) string {
	ti.SetStyles(c.styles.Input)
	return ti.View()
}
