// Package manpage writes troff manual pages from a cobra command tree: one
// page per command, with what --help says (synopsis, description, options,
// related commands).
//
// It replaces cobra/doc, which renders through Markdown (go-md2man and
// blackfriday, whose package initialisation, with yaml's, every run of the
// binary paid for) and lost the layout of indented lines.
package manpage

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// Header is what the .TH line of every page says.
type Header struct {
	Title   string    // SESAME
	Section string    // 1
	Date    time.Time // printed as "Jan 2006"
	Source  string    // Sesame 1.2.3
	Manual  string    // Sesame Manual
}

// WriteTree writes the page of root and of every command under it that
// --help lists, into dir, named after the command path with dashes
// (sesame-devices-pause.1).
func WriteTree(root *cobra.Command, h Header, dir string) error {
	for _, c := range root.Commands() {
		if !c.IsAvailableCommand() || c.IsAdditionalHelpTopicCommand() {
			continue
		}
		if err := WriteTree(c, h, dir); err != nil {
			return err
		}
	}
	name := dashed(root) + "." + h.Section
	return os.WriteFile(filepath.Join(dir, name), []byte(Page(root, h)), 0o644)
}

// Page is the manual page of one command.
func Page(c *cobra.Command, h Header) string {
	c.InitDefaultHelpFlag()
	var b strings.Builder
	fmt.Fprintf(&b, ".nh\n.TH %s %s %s %s %s\n\n", quote(h.Title), quote(h.Section), quote(h.Date.Format("Jan 2006")), quote(h.Source), quote(h.Manual))
	fmt.Fprintf(&b, ".SH NAME\n%s \\- %s\n\n", dashed(c), escape(c.Short))
	fmt.Fprintf(&b, ".SH SYNOPSIS\n\\fB%s\\fP\n\n", escape(c.UseLine()))
	description := c.Long
	if description == "" {
		description = c.Short
	}
	b.WriteString(".SH DESCRIPTION\n")
	text(&b, description)
	options(&b, "OPTIONS", c.NonInheritedFlags())
	options(&b, "OPTIONS INHERITED FROM PARENT COMMANDS", c.InheritedFlags())
	if c.Example != "" {
		b.WriteString("\n.SH EXAMPLE\n.nf\n" + escapeLines(c.Example) + "\n.fi\n")
	}
	var see []string
	if c.HasParent() {
		see = append(see, fmt.Sprintf("\\fB%s(%s)\\fP", dashed(c.Parent()), h.Section))
	}
	children := slices.Clone(c.Commands())
	slices.SortFunc(children, func(x, y *cobra.Command) int { return strings.Compare(x.Name(), y.Name()) })
	for _, sub := range children {
		if sub.IsAvailableCommand() && !sub.IsAdditionalHelpTopicCommand() {
			see = append(see, fmt.Sprintf("\\fB%s(%s)\\fP", dashed(sub), h.Section))
		}
	}
	if len(see) > 0 {
		b.WriteString("\n.SH SEE ALSO\n" + strings.Join(see, ", ") + "\n")
	}
	return b.String()
}

// text writes plain text: paragraphs apart, filled by the formatter, except
// indented lines (examples, tables), which keep their layout.
func text(b *strings.Builder, s string) {
	for i, para := range strings.Split(strings.TrimSpace(s), "\n\n") {
		if i > 0 {
			b.WriteString(".PP\n")
		}
		filling := true
		for _, line := range strings.Split(para, "\n") {
			indented := strings.HasPrefix(line, " ") || strings.HasPrefix(line, "\t")
			switch {
			case indented && filling:
				b.WriteString(".nf\n")
			case !indented && !filling:
				b.WriteString(".fi\n")
			}
			filling = !indented
			b.WriteString(escapeLines(line) + "\n")
		}
		if !filling {
			b.WriteString(".fi\n")
		}
	}
}

// options writes a section listing the flags of a set that --help shows.
func options(b *strings.Builder, title string, flags *pflag.FlagSet) {
	if !flags.HasAvailableFlags() {
		return
	}
	fmt.Fprintf(b, "\n.SH %s\n", title)
	first := true
	flags.VisitAll(func(f *pflag.Flag) {
		if f.Deprecated != "" || f.Hidden {
			return
		}
		if !first {
			b.WriteString(".PP\n")
		}
		first = false
		name := fmt.Sprintf("\\fB\\-\\-%s\\fP", f.Name)
		if f.Shorthand != "" && f.ShorthandDeprecated == "" {
			name = fmt.Sprintf("\\fB\\-%s\\fP, %s", f.Shorthand, name)
		}
		def := f.DefValue
		if f.Value.Type() == "string" {
			def = fmt.Sprintf("%q", def)
		}
		def = "=" + def
		if f.NoOptDefVal != "" {
			def = "[" + def + "]"
		}
		fmt.Fprintf(b, "%s%s\n.RS\n%s\n.RE\n", name, escape(def), escape(f.Usage))
	})
}

// dashed is the command's path with dashes: the page's name.
func dashed(c *cobra.Command) string { return strings.ReplaceAll(c.CommandPath(), " ", "-") }

// quote is a .TH argument.
func quote(s string) string { return `"` + strings.ReplaceAll(escape(s), `"`, `\(dq`) + `"` }

// escape makes text safe inside a troff line: a backslash is printed as
// one, and dashes stay minus signs that can be copied into a shell.
func escape(s string) string {
	return strings.NewReplacer(`\`, `\e`, "-", `\-`).Replace(s)
}

// escapeLines escapes each line of s and keeps lines that start with a dot
// or an apostrophe from being read as requests.
func escapeLines(s string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		l = escape(l)
		if strings.HasPrefix(l, ".") || strings.HasPrefix(l, "'") {
			l = `\&` + l
		}
		lines[i] = l
	}
	return strings.Join(lines, "\n")
}
