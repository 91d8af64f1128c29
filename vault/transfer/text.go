package transfer

import (
	"fmt"
	"strings"

	"github.com/sesame-auth/sesame/vault"
)

// readText imports a text file of links, one a line: otpauth:// URIs (plain
// lists, Ente Auth exports), Bitwarden's steam://SECRET and Google
// Authenticator otpauth-migration:// links. Blank lines and lines starting
// with '#' are ignored; any other line is skipped with a reason.
func (c *collector) readText(data []byte) error {
	text := string(data)
	found := false
	n := 0
	for raw := range strings.Lines(text) {
		n++
		// A last line without a line end may be a file cut off in the middle.
		cut := !strings.HasSuffix(raw, "\n")
		line := strings.TrimSpace(raw)
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, "//") {
			continue
		}
		lower := strings.ToLower(line)
		switch {
		case IsMigrationLink(line):
			found = true
			p, err := ParseMigrationURI(line)
			if err != nil {
				return fmt.Errorf("line %d: %w", n, err)
			}
			if err := c.addMigration(p); err != nil {
				return fmt.Errorf("line %d: %w", n, err)
			}
		case strings.HasPrefix(lower, "otpauth://"), strings.HasPrefix(lower, "steam://"):
			found = true
			a, err := vault.ParseURI(line)
			if err != nil {
				if cut {
					return truncatedLine(n, err.Error())
				}
				c.skip(fmt.Sprintf("line %d", n), err.Error())
				continue
			}
			c.add(a)
		case cut && isLinkPrefix(lower):
			return truncatedLine(n, "an unfinished link")
		default:
			c.skip(fmt.Sprintf("line %d", n), "not an otpauth:// or otpauth-migration:// link")
		}
		if len(c.accounts) > MaxAccounts {
			return fmt.Errorf("%w: more than %d accounts", ErrTooLarge, MaxAccounts)
		}
	}
	if !found {
		return fmt.Errorf("%w: no otpauth:// or otpauth-migration:// links in the text", ErrUnknownFormat)
	}
	return nil
}

// truncatedLine is the error for a last line, without a line end, that
// cannot be read: most likely the file was cut off.
func truncatedLine(n int, why string) error {
	return fmt.Errorf("line %d, the last, has no line end and cannot be read (%s): %w", n, why, ErrCorrupt)
}

// isLinkPrefix reports whether s is the start of a link scheme readText knows.
func isLinkPrefix(s string) bool {
	for _, scheme := range []string{"otpauth-migration:", "otpauth://", "steam://"} {
		if strings.HasPrefix(scheme, s) {
			return true
		}
	}
	return false
}
