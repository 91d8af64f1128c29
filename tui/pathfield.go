package tui

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
)

// pathField is a file path input with tab completion, shared by the add
// screen (files to import) and the export screen (files to write). The
// completion reads the folder in a Cmd; the screen hands the completedMsg
// back to completed.
type pathField struct {
	textinput.Model
	err     string   // why the path cannot be used; shown under the field
	matches []string // completions, when tab found several
}

// completedMsg lists the folder entries that complete what was typed.
type completedMsg struct {
	typed   string
	matches []string
}

func newPathField(c *common, prompt, placeholder string) pathField {
	ti := textinput.New()
	ti.Prompt = prompt
	ti.Placeholder = placeholder
	ti.CharLimit = 4096
	ti.SetWidth(max(min(c.width-12, 90), 20))
	ti.SetStyles(c.styles.Input)

	return pathField{Model: ti}
}

// path is the typed path, trimmed, with a leading ~ expanded.
func (p *pathField) path() string { return expandHome(strings.TrimSpace(p.Value())) }

// complete starts completing what was typed.
func (p *pathField) complete() tea.Cmd { return completePath(p.Value()) }

// update types into the field. Changing the path clears its error and the
// listed completions; it reports whether the path changed.
func (p *pathField) update(msg tea.Msg) (tea.Cmd, bool) {
	before := p.Value()
	var cmd tea.Cmd
	p.Model, cmd = p.Model.Update(msg)
	if p.Value() == before {
		return cmd, false
	}
	p.matches, p.err = nil, ""
	return cmd, true
}

// completed extends the path by the longest common prefix of the matches and
// lists them when there are several. An answer for an older value is ignored.
func (p *pathField) completed(msg completedMsg) {
	typed := p.Value()
	if msg.typed != typed {
		return
	}
	dir, _ := filepath.Split(typed)
	if len(msg.matches) == 0 {
		p.err = "no file starts with that"
		return
	}
	common := msg.matches[0]
	for _, m := range msg.matches[1:] {
		for !strings.HasPrefix(m, common) {
			common = common[:len(common)-1]
		}
	}
	p.SetValue(dir + common)
	p.CursorEnd()
	p.matches = nil
	if len(msg.matches) > 1 {
		p.matches = msg.matches
	}
}

// matchesView lists the completions, at most eight of them; "" when none.
func (p *pathField) matchesView(st *Styles) string {
	if len(p.matches) == 0 {
		return ""
	}
	shown := p.matches[:min(len(p.matches), 8)]
	out := st.Muted.Render(strings.Join(shown, "  "))
	if len(p.matches) > len(shown) {
		out += st.Muted.Render(fmt.Sprintf("  … %d more", len(p.matches)-len(shown)))
	}
	return out
}

func expandHome(p string) string {
	if p == "~" || strings.HasPrefix(p, "~/") {
		if h, err := os.UserHomeDir(); err == nil {
			return filepath.Join(h, p[1:])
		}
	}
	return p
}

// completePath lists the entries that complete what was typed.
func completePath(typed string) tea.Cmd {
	return func() tea.Msg {
		p := expandHome(typed)
		dir, base := filepath.Split(p)
		if dir == "" {
			dir = "."
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			return completedMsg{typed: typed}
		}
		var out []string
		for _, e := range entries {
			n := e.Name()
			if !strings.HasPrefix(n, base) || (strings.HasPrefix(n, ".") && !strings.HasPrefix(base, ".")) {
				continue
			}
			if e.IsDir() {
				n += string(filepath.Separator)
			}
			out = append(out, n)
			if len(out) == 200 {
				break
			}
		}
		return completedMsg{typed: typed, matches: out}
	}
}
