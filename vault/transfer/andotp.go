package transfer

import (
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/sesame-auth/sesame/vault"
)

// andOTPEntry is one account of an andOTP JSON backup.
type andOTPEntry struct {
	Secret    string `json:"secret"`
	Issuer    string `json:"issuer"`
	Label     string `json:"label"`
	Digits    int    `json:"digits"`
	Type      string `json:"type"`
	Algorithm string `json:"algorithm"`
	Period    int    `json:"period"`
	Counter   uint64 `json:"counter"`
}

// Sizes of andOTP's encrypted backups: the current format is
// [4-byte iterations][12-byte salt][12-byte nonce][ciphertext+tag], the old
// one [12-byte nonce][ciphertext+tag].
const (
	andOTPSaltLen = 12
	andOTPNonce   = 12
	andOTPTag     = 16
	andOTPMinLen  = andOTPNonce + andOTPTag
)

func (c *collector) readAndOTP(data []byte) error {
	if err := c.jsonList(data, "andOTP backup"); err != nil {
		return err
	}
	plain := data
	if t := strings.TrimSpace(string(data)); !strings.HasPrefix(t, "[") {
		var err error
		if plain, err = c.decryptAndOTP(data); err != nil {
			return err
		}
	}
	var entries []andOTPEntry
	if err := json.Unmarshal(plain, &entries); err != nil {
		return jsonErr("andOTP backup", err)
	}
	if len(entries) > MaxAccounts {
		return fmt.Errorf("%w: more than %d accounts", ErrTooLarge, MaxAccounts)
	}
	for _, e := range entries {
		a := vault.Account{Issuer: e.Issuer, Name: e.Label, Period: e.Period}
		if a.Issuer == "" {
			// Old andOTP backups have no issuer field, only a label "Issuer - Issuer:Name".
			if iss, rest, ok := strings.Cut(e.Label, " - "); ok {
				a.Issuer, a.Name = strings.TrimSpace(iss), strings.TrimSpace(rest)
			}
		}
		switch strings.ToUpper(e.Type) {
		case "", "TOTP":
			a.Type = vault.TOTP
		case "HOTP":
			a.Type = vault.HOTP
			a.Counter = e.Counter
		case "STEAM":
			a.Type = vault.Steam
		default:
			c.skip(a.Label(), fmt.Sprintf("%s tokens are not supported", e.Type))
			continue
		}
		if err := fillCommon(&a, e.Secret, e.Algorithm, e.Digits); err != nil {
			c.skip(a.Label(), err.Error())
			continue
		}
		c.add(a)
	}
	return nil
}

// decryptAndOTP tries the current format (PBKDF2-HMAC-SHA1 key), then the
// old one (SHA-256 of the password as key).
func (c *collector) decryptAndOTP(data []byte) ([]byte, error) {
	if len(data) < andOTPMinLen {
		return nil, fmt.Errorf("%w: too short for an andOTP backup", ErrCorrupt)
	}
	pw, err := c.password()
	if err != nil {
		return nil, err
	}
	if len(data) >= 4+andOTPSaltLen+andOTPMinLen {
		iter := binary.BigEndian.Uint32(data)
		if iter >= 1 && iter <= uint32(c.opts.maxPBKDF2Iter()) {
			salt := data[4 : 4+andOTPSaltLen]
			rest := data[4+andOTPSaltLen:]
			key, err := pbkdf2.Key(sha1.New, string(pw), salt, int(iter), 32)
			if err == nil {
				if plain, err := gcmOpen(key, rest[:andOTPNonce], rest[andOTPNonce:]); err == nil {
					return plain, nil
				}
			}
		}
	}
	key := sha256.Sum256(pw)
	if plain, err := gcmOpen(key[:], data[:andOTPNonce], data[andOTPNonce:]); err == nil {
		return plain, nil
	}
	if len(data) >= 4+andOTPSaltLen+andOTPMinLen {
		if iter := binary.BigEndian.Uint32(data); iter < 1 || iter > uint32(c.opts.maxPBKDF2Iter()) {
			return nil, &andOTPIterError{iter: iter, max: c.opts.maxPBKDF2Iter(), detected: c.detected}
		}
	}
	if c.detected {
		return nil, fmt.Errorf("%w (or the file is no andOTP backup)", ErrWrongPassword)
	}
	return nil, ErrWrongPassword
}

// andOTPIterError is a backup that decrypts neither way and whose first four
// bytes, read as the current format's PBKDF2 iteration count, are out of
// range. Either it is a current-format backup with invalid or absurd work
// factor, or an old-format one (no header: those bytes are its nonce) and the
// password is wrong; the file cannot tell which, so the error says both and
// matches ErrTooMuchWork and ErrWrongPassword (a user can try again).
type andOTPIterError struct {
	iter     uint32
	max      int
	detected bool
}

func (e *andOTPIterError) Error() string {
	what := "more key-derivation work than any real export"
	if e.iter < 1 {
		what = "invalid key-derivation parameters"
	}
	msg := fmt.Sprintf("the file asks for %s: its header asks for %d PBKDF2 iterations, Sesame allows 1 to %d: refused "+
		"(if this is an old-format andOTP backup, which has no header, the password is wrong instead", what, e.iter, e.max)
	if e.detected {
		msg += ", or the file is no andOTP backup"
	}
	return msg + ")"
}

func (e *andOTPIterError) Is(target error) bool {
	return target == ErrTooMuchWork || target == ErrWrongPassword
}
