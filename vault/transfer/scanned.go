package transfer

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// ErrWebLink means a QR code holds a web link rather than an account: it is
// named and refused, never opened.
var ErrWebLink = errors.New("the QR code holds a web link, not an account")

// FromCodes imports what QR codes read from the screen or the clipboard
// hold (or a link pasted as text); source names where they came from ("the
// screen"). Each must be an otpauth:// link or a Google Authenticator
// otpauth-migration:// link, which goes through Import with its batch rules;
// a web link is refused with ErrWebLink and its address, anything else with
// ErrUnknownFormat. Nothing is imported unless every code can be.
func FromCodes(opts ImportOptions, source string, texts []string) (*Result, error) {
	var b strings.Builder
	for i, t := range texts {
		t = strings.TrimSpace(t)
		lower := strings.ToLower(t)
		switch {
		case strings.HasPrefix(lower, "otpauth://"), IsMigrationLink(t):
		case strings.HasPrefix(lower, "http://"), strings.HasPrefix(lower, "https://"):
			return nil, fmt.Errorf("%s, code %d: %w (%s): Sesame adds only otpauth:// codes; look for the QR code of the sign-in app set-up", source, i+1, ErrWebLink, linkHost(t))
		default:
			return nil, fmt.Errorf("%s, code %d: %w: it holds no otpauth:// or otpauth-migration:// link", source, i+1, ErrUnknownFormat)
		}
		b.WriteString(t)
		b.WriteByte('\n')
	}
	if b.Len() == 0 {
		return nil, ErrNoQRCode
	}
	opts.Format = FormatURIList
	return Import(opts, Input{Name: source, Data: []byte(b.String())})
}

// linkHost names a web link by its host only: its path and query may carry
// tokens that have no place in an error.
func linkHost(s string) string {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" {
		return "a link Sesame cannot parse"
	}
	return u.Scheme + "://" + u.Host
}
