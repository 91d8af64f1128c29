// Package vault holds Sesame's accounts and pairings, generates their codes and
// keeps them encrypted at rest. It never reads the clock: callers pass the time.
package vault

import (
	"encoding/base32"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/sesame-auth/sesame/vault/safetext"
)

// Type is the kind of one-time password an account produces.
type Type string

// The account types Sesame generates codes for.
const (
	TOTP  Type = "totp"  // RFC 6238, time-based
	HOTP  Type = "hotp"  // RFC 4226, counter-based
	Steam Type = "steam" // Steam Guard: TOTP rendered as 5 characters
)

// Algorithm is the HMAC hash an account uses.
type Algorithm string

// The supported HMAC algorithms.
const (
	SHA1   Algorithm = "SHA1"
	SHA256 Algorithm = "SHA256"
	SHA512 Algorithm = "SHA512"
)

// Limits on account parameters. Anything outside them is refused rather than clamped.
const (
	MinDigits      = 6
	MaxDigits      = 8
	SteamDigits    = 5
	DefaultPeriod  = 30
	MaxPeriod      = 3600
	MaxSecretBytes = 1024 // far above any real key; stops a hostile import from ballooning the vault
	MaxLabelLength = 512  // issuer and name, in bytes
)

// Secret is the shared key of an account, as raw bytes. It formats as
// "[secret]" so that it cannot leak through fmt, logs or error messages; call
// Base32 to reveal it on purpose.
type Secret []byte

// String hides the secret.
func (Secret) String() string { return "[secret]" }

// GoString hides the secret from %#v too.
func (Secret) GoString() string { return "vault.Secret{[secret]}" }

// Base32 returns the secret as unpadded upper-case base32, the form used in otpauth URIs.
func (s Secret) Base32() string {
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(s)
}

// ParseSecret decodes a base32 secret as users and sites write it: any case,
// with or without '=' padding, grouped with spaces or dashes.
func ParseSecret(s string) (Secret, error) {
	grouping := func(r rune) bool { return r == ' ' || r == '-' || r == '\t' || r == '=' }
	upper := strings.ToUpper(s)
	if i := strings.IndexFunc(upper, func(r rune) bool { return !grouping(r) && notBase32(r) }); i >= 0 {
		r, _ := utf8.DecodeRuneInString(upper[i:])
		return nil, &FieldError{Field: "secret", Reason: fmt.Sprintf("is not valid base32: character %d is %s%s; use letters A-Z and digits 2-7",
			utf8.RuneCountInString(upper[:i])+1, quoteRune(r), base32Hint(r))}
	}
	clean := strings.Map(func(r rune) rune {
		if grouping(r) {
			return -1
		}
		return r
	}, upper)
	if clean == "" {
		return nil, &FieldError{Field: "secret", Reason: "is empty"}
	}
	if len(clean) > MaxSecretBytes*8/5+8 {
		return nil, &FieldError{Field: "secret", Reason: "is too long"}
	}
	// 1, 3 or 6 characters past the last full group of 8 cannot hold whole
	// bytes. Go's unpadded decoder drops them silently (it decodes "AAAAAA" to
	// nothing, without an error), which would turn a mistyped secret into
	// wrong codes, so such lengths are refused here.
	switch len(clean) % 8 {
	case 1, 3, 6:
		return nil, &FieldError{Field: "secret", Reason: "is not valid base32 (it has a character too many or too few)"}
	}
	b, err := base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(clean)
	if err != nil {
		return nil, &FieldError{Field: "secret", Reason: "is not valid base32 (letters A-Z and digits 2-7)"}
	}
	if len(b) == 0 {
		return nil, &FieldError{Field: "secret", Reason: "is empty"}
	}
	return b, nil
}

// notBase32 reports whether r is outside the base32 alphabet (upper case).
func notBase32(r rune) bool { return (r < 'A' || r > 'Z') && (r < '2' || r > '7') }

// quoteRune shows one character of a refused secret: printable ones quoted,
// others as their code point, so that nothing invisible reaches a terminal.
func quoteRune(r rune) string {
	if unicode.IsPrint(r) && r < utf8.RuneSelf {
		return fmt.Sprintf("%q", r)
	}
	return fmt.Sprintf("%U", r)
}

// base32Hint names the letter a digit that base32 lacks is usually mistaken for.
func base32Hint(r rune) string {
	switch r {
	case '0':
		return " (did you mean the letter O?)"
	case '1':
		return " (did you mean the letter I or L?)"
	case '8':
		return " (did you mean the letter B?)"
	}
	return ""
}

// Account is one enrolled authenticator account.
type Account struct {
	ID        string    `json:"id"`
	Type      Type      `json:"type"`
	Issuer    string    `json:"issuer,omitempty"`
	Name      string    `json:"name,omitempty"`
	Secret    Secret    `json:"secret"`
	Algorithm Algorithm `json:"algorithm"`
	Digits    int       `json:"digits"`
	Period    int       `json:"period,omitempty"`  // seconds; TOTP and Steam
	Counter   uint64    `json:"counter,omitempty"` // next HOTP counter to use
	Pinned    bool      `json:"pinned,omitempty"`
	Added     time.Time `json:"added,omitzero"`
}

// FieldError says which field of an account is wrong and why.
type FieldError struct {
	Field  string
	Reason string
}

func (e *FieldError) Error() string { return e.Field + " " + e.Reason }

// maxQuoted caps how much of an offending value an error message repeats, so
// that a hostile input cannot blow up the message and a secret pasted into the
// wrong field (real ones are at least 16 base32 characters) is never repeated whole.
const maxQuoted = 12

// quoteShort quotes v for an error message, cut to maxQuoted bytes at a rune boundary.
func quoteShort(v string) string {
	if len(v) <= maxQuoted {
		return fmt.Sprintf("%q", v)
	}
	cut := maxQuoted
	for cut > 0 && !utf8.RuneStart(v[cut]) {
		cut--
	}
	return fmt.Sprintf("%q...", v[:cut])
}

// ErrInvalid is matched by every FieldError, for callers that only need to know the input was bad.
var ErrInvalid = errors.New("invalid account")

// Is lets errors.Is(err, ErrInvalid) match any FieldError.
func (e *FieldError) Is(target error) bool { return target == ErrInvalid }

// Normalize fills defaults (SHA1, 6 digits, 30 s; Steam's fixed shape) without
// overriding anything that is set.
func (a *Account) Normalize() {
	if a.Type == "" {
		a.Type = TOTP
	}
	if a.Algorithm == "" {
		a.Algorithm = SHA1
	}
	switch a.Type {
	case Steam:
		if a.Digits == 0 {
			a.Digits = SteamDigits
		}
		if a.Period == 0 {
			a.Period = DefaultPeriod
		}
	case TOTP:
		if a.Digits == 0 {
			a.Digits = MinDigits
		}
		if a.Period == 0 {
			a.Period = DefaultPeriod
		}
	case HOTP:
		if a.Digits == 0 {
			a.Digits = MinDigits
		}
		a.Period = 0
	}
	a.Issuer = strings.TrimSpace(a.Issuer)
	a.Name = strings.TrimSpace(a.Name)
}

// Validate reports the first field that makes the account unusable. Labels
// (issuer and name) must be valid UTF-8 without control characters or
// invisible format characters other than the zero-width joiner; Steam
// accounts must use SHA1.
func (a *Account) Validate() error {
	switch a.Type {
	case TOTP, HOTP, Steam:
	default:
		return &FieldError{Field: "type", Reason: fmt.Sprintf("%s is not supported (use totp, hotp or steam)", quoteShort(string(a.Type)))}
	}
	switch a.Algorithm {
	case SHA1, SHA256, SHA512:
	default:
		return &FieldError{Field: "algorithm", Reason: fmt.Sprintf("%s is not supported (use SHA1, SHA256 or SHA512)", quoteShort(string(a.Algorithm)))}
	}
	if len(a.Secret) == 0 {
		return &FieldError{Field: "secret", Reason: "is empty"}
	}
	if len(a.Secret) > MaxSecretBytes {
		return &FieldError{Field: "secret", Reason: "is too long"}
	}
	if a.Type == Steam {
		if a.Algorithm != SHA1 {
			return &FieldError{Field: "algorithm", Reason: "must be SHA1 for Steam accounts (Steam Guard uses HMAC-SHA1)"}
		}
		if a.Digits != SteamDigits {
			return &FieldError{Field: "digits", Reason: fmt.Sprintf("must be %d for Steam accounts", SteamDigits)}
		}
	} else if a.Digits < MinDigits || a.Digits > MaxDigits {
		return &FieldError{Field: "digits", Reason: fmt.Sprintf("must be between %d and %d, not %d", MinDigits, MaxDigits, a.Digits)}
	}
	if a.Type != HOTP && (a.Period < 1 || a.Period > MaxPeriod) {
		return &FieldError{Field: "period", Reason: fmt.Sprintf("must be between 1 and %d seconds, not %d", MaxPeriod, a.Period)}
	}
	for _, f := range [...]struct{ field, v string }{{"issuer", a.Issuer}, {"name", a.Name}} {
		if len(f.v) > MaxLabelLength {
			return &FieldError{Field: f.field, Reason: fmt.Sprintf("is longer than %d bytes", MaxLabelLength)}
		}
		if !utf8.ValidString(f.v) {
			return &FieldError{Field: f.field, Reason: "is not valid UTF-8"}
		}
		// Labels are printed to terminals: an ESC or newline from a hostile
		// QR code or import must not reach them, nor invisible characters
		// with which "Git\u200bHub" or a reversed name could pose as another
		// account. safetext holds the rule; the two kinds get their own words.
		if strings.IndexFunc(f.v, safetext.IsControl) >= 0 {
			return &FieldError{Field: f.field, Reason: "contains control characters (tabs, newlines or terminal escapes): remove them"}
		}
		if !safetext.IsClean(f.v) {
			return &FieldError{Field: f.field, Reason: "contains invisible or unprintable characters (such as zero-width spaces, text direction overrides or private-use characters): remove them"}
		}
	}
	if a.Issuer == "" && a.Name == "" {
		return &FieldError{Field: "name", Reason: "is empty (give an issuer or a name)"}
	}
	return nil
}

// Label is the account as users see it: "Issuer (name)", or whichever is set.
func (a *Account) Label() string { return label(a.Issuer, a.Name) }

func label(issuer, name string) string {
	switch {
	case issuer == "":
		return name
	case name == "":
		return issuer
	}
	return issuer + " (" + name + ")"
}

// SameAs reports whether b is the same account as a: the same secret, type,
// issuer and name. Imports and adds use it to refuse duplicates.
func (a *Account) SameAs(b *Account) bool {
	return a.Type == b.Type && a.Issuer == b.Issuer && a.Name == b.Name && string(a.Secret) == string(b.Secret)
}
