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
	text := strings.TrimPrefix(string(data), "\ufeff")
	found := false
	n := 0
	for line := range strings.Lines(text) {
		n++
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, "//") {
			continue
		}
		lower := strings.ToLower(line)
		switch {
		case strings.HasPrefix(lower, "otpauth-migration:"):
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
				c.skip(fmt.Sprintf("line %d", n), err.Error())
				continue
			}
			c.add(a)
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
