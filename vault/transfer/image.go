package transfer

import (
	"bytes"
	"errors"
	"fmt"
	"strings"

	"github.com/sesame-auth/sesame/vault"
	"github.com/sesame-auth/sesame/vault/qrcode"
)

// readImage decodes the QR codes in an image and imports what they hold:
// Google Authenticator migration links or otpauth:// URIs.
func (c *collector) readImage(data []byte) error {
	texts, err := qrcode.Decode(bytes.NewReader(data))
	if err != nil {
		switch {
		case errors.Is(err, qrcode.ErrNoCode):
			return ErrNoQRCode
		case errors.Is(err, qrcode.ErrImageTooLarge):
			return fmt.Errorf("%w: %w", ErrTooLarge, err)
		case errors.Is(err, qrcode.ErrUnsupportedImage):
			return fmt.Errorf("%w: %w", ErrUnknownFormat, err)
		}
		return fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	if len(texts) == 0 {
		return ErrNoQRCode
	}
	for _, t := range texts {
		t = strings.TrimSpace(t)
		lower := strings.ToLower(t)
		switch {
		case IsMigrationLink(t):
			c.format = FormatGoogle
			p, err := ParseMigrationURI(t)
			if err != nil {
				return err
			}
			if err := c.addMigration(p); err != nil {
				return err
			}
		case strings.HasPrefix(lower, "otpauth://"):
			c.format = FormatURIList
			a, err := vault.ParseURI(t)
			if err != nil {
				return fmt.Errorf("the QR code holds an otpauth link that Sesame cannot use: %w", err)
			}
			c.add(a)
		default:
			return fmt.Errorf("%w: the QR code holds no otpauth:// or otpauth-migration:// link", ErrUnknownFormat)
		}
	}
	return nil
}
