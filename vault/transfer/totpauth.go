package transfer

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/sesame-auth/sesame/vault"
)

// TOTP Authenticator (BinaryBoot, com.authenticator.authservice2) keeps its
// accounts as a JSON list under one key of its Android shared preferences,
// and its backup file is that list, wrapped in a JSON object as the one key
// (the value is a timestamp), encrypted with AES-256-CBC under the SHA-256 of
// the password and a zero IV, in base64. There is no key derivation to cap:
// the key is one hash of the password. Every account is TOTP with SHA-1, 6
// digits and 30 s; the app stores no algorithm.
const totpAuthPrefKey = "STATIC_TOTP_CODES_LIST"

// totpAuthEntry is one account of TOTP Authenticator.
type totpAuthEntry struct {
	Base   int    `json:"base"` // how Key is written: 16, 32 or 64
	Key    string `json:"key"`
	Name   string `json:"name"`
	Issuer string `json:"issuer"`
}

// totpAuthMinText is the shortest text detected as a TOTP Authenticator
// backup: a backup of one account is some 400 characters, a secret on its own
// (base32 is base64's alphabet too) rarely over 50.
const totpAuthMinText = 64

// isTOTPAuthBackup reports whether text looks like a TOTP Authenticator
// backup: nothing but base64 characters, more of them than a secret has.
// A backup cut short is detected too, and then refused as damaged.
func isTOTPAuthBackup(text string) bool {
	n := 0
	for _, r := range text {
		switch {
		case r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z', r >= '0' && r <= '9', r == '+', r == '/', r == '=':
			n++
		case r == '\n', r == '\r', r == ' ', r == '\t':
		default:
			return false
		}
	}
	return n >= totpAuthMinText
}

// decodeBase64Text decodes standard base64 that may be broken over lines.
func decodeBase64Text(text string) ([]byte, error) {
	clean := strings.Map(func(r rune) rune {
		if r == '\n' || r == '\r' || r == ' ' || r == '\t' {
			return -1
		}
		return r
	}, text)
	return base64.StdEncoding.DecodeString(clean)
}

func (c *collector) readTOTPAuth(data []byte) error {
	trimmed := bytes.TrimSpace(data)
	var list []byte
	if bytes.HasPrefix(trimmed, []byte("<")) {
		var err error
		if list, err = totpAuthPrefs(trimmed); err != nil {
			return err
		}
	} else {
		ct, err := decodeBase64Text(string(trimmed))
		switch {
		case err != nil && isTOTPAuthBackup(string(trimmed)):
			return fmt.Errorf("%w: the TOTP Authenticator backup is not whole base64 (is it truncated?)", ErrCorrupt)
		case err != nil:
			return &NotFormatError{Format: c.format, What: "TOTP Authenticator backup", Detail: "it is not base64 text"}
		}
		if len(ct) == 0 || len(ct)%16 != 0 {
			return fmt.Errorf("%w: the TOTP Authenticator backup does not end on a whole cipher block (is it truncated?)", ErrCorrupt)
		}
		pw, err := c.password()
		if err != nil {
			return err
		}
		key := sha256.Sum256(pw)
		plain, err := cbcOpen(key[:], make([]byte, 16), ct)
		if err != nil {
			if c.detected && errors.Is(err, ErrWrongPassword) {
				return fmt.Errorf("%w (or the file is no TOTP Authenticator backup)", err)
			}
			return err
		}
		if list, err = totpAuthList(plain); err != nil {
			return err
		}
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(list, &raw); err != nil {
		return jsonErr("TOTP Authenticator account list", err)
	}
	if len(raw) > MaxAccounts {
		return fmt.Errorf("%w: more than %d accounts", ErrTooLarge, MaxAccounts)
	}
	for i, r := range raw {
		// Older versions store each account as a JSON string holding the object.
		var s string
		if json.Unmarshal(r, &s) == nil {
			r = json.RawMessage(s)
		}
		var e totpAuthEntry
		if err := json.Unmarshal(r, &e); err != nil {
			c.skip(fmt.Sprintf("entry %d", i+1), "not a TOTP Authenticator account: "+jsonErr("entry", err).Error())
			continue
		}
		c.addTOTPAuth(&e)
	}
	return nil
}

// totpAuthPrefs returns the account list of the app's shared preferences.
func totpAuthPrefs(data []byte) ([]byte, error) {
	strs, err := androidPrefs(data, "TOTP Authenticator preferences file")
	if err != nil {
		return nil, err
	}
	for _, s := range strs {
		if s.Name == totpAuthPrefKey {
			return []byte(s.Value), nil
		}
	}
	return nil, &NotFormatError{Format: FormatTOTPAuth, What: "TOTP Authenticator preferences file", Detail: "it has no " + totpAuthPrefKey}
}

// totpAuthList returns the account list of a decrypted backup: the one key
// of its JSON object that is a JSON list.
func totpAuthList(plain []byte) ([]byte, error) {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(plain, &obj); err != nil {
		return nil, &NotFormatError{Format: FormatTOTPAuth, What: "TOTP Authenticator backup", Detail: "the decrypted data is not a JSON object"}
	}
	keys := make([]string, 0, len(obj))
	for k := range obj {
		if strings.HasPrefix(strings.TrimSpace(k), "[") {
			keys = append(keys, k)
		}
	}
	if len(keys) == 0 {
		return nil, &NotFormatError{Format: FormatTOTPAuth, What: "TOTP Authenticator backup", Detail: "the decrypted data holds no account list"}
	}
	slices.Sort(keys)
	return []byte(keys[0]), nil
}

func (c *collector) addTOTPAuth(e *totpAuthEntry) {
	a := vault.Account{Type: vault.TOTP, Issuer: e.Issuer, Name: e.Name, Algorithm: vault.SHA1, Digits: 6, Period: 30}
	var err error
	switch e.Base {
	case 16:
		a.Secret, err = hex.DecodeString(strings.TrimSpace(e.Key))
	case 32:
		a.Secret, err = vault.ParseSecret(e.Key)
	case 64:
		a.Secret, err = base64.StdEncoding.DecodeString(strings.TrimSpace(e.Key))
	default:
		c.skip(a.Label(), fmt.Sprintf("the secret is written in base %d, which TOTP Authenticator does not use", e.Base))
		return
	}
	if err != nil {
		c.skip(a.Label(), fmt.Sprintf("the secret is not valid base %d", e.Base))
		return
	}
	c.add(a)
}
