package transfer

import (
	"crypto/pbkdf2"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"strings"

	"github.com/sesame-auth/sesame/vault"
)

// twoFASFile is a 2FAS backup (.2fas), schema versions 1 to 4.
type twoFASFile struct {
	SchemaVersion     int             `json:"schemaVersion"`
	Services          []twoFASService `json:"services"`
	ServicesEncrypted string          `json:"servicesEncrypted"`
}

type twoFASService struct {
	Name   string `json:"name"`
	Secret string `json:"secret"`
	Type   string `json:"type"` // schema 1 and 2: "Unknown", or a manual entry kind
	OTP    struct {
		Label     string `json:"label"`
		Account   string `json:"account"`
		Issuer    string `json:"issuer"`
		Digits    int    `json:"digits"`
		Period    int    `json:"period"`
		Algorithm string `json:"algorithm"`
		Counter   uint64 `json:"counter"`
		TokenType string `json:"tokenType"` // schema 3+: TOTP, HOTP, STEAM
	} `json:"otp"`
}

// 2FAS derives its backup key with fixed parameters.
const (
	twoFASIterations = 10000
	twoFASMaxSchema  = 4
)

func (c *collector) read2FAS(data []byte) error {
	var services []twoFASService
	if trimmed := strings.TrimSpace(string(data)); strings.HasPrefix(trimmed, "[") {
		// The decrypted services array on its own, as decryption tools write it.
		if err := json.Unmarshal(data, &services); err != nil {
			return jsonErr("2FAS services list", err)
		}
	} else {
		if err := c.objectKeys(data, "2FAS backup", "services", "servicesEncrypted"); err != nil {
			return err
		}
		var f twoFASFile
		if err := json.Unmarshal(data, &f); err != nil {
			return jsonErr("2FAS backup", err)
		}
		if f.SchemaVersion > twoFASMaxSchema {
			return fmt.Errorf("%w: 2FAS backup schema %d (Sesame reads 1 to %d; update Sesame)", ErrUnsupported, f.SchemaVersion, twoFASMaxSchema)
		}
		services = f.Services
		if f.ServicesEncrypted != "" {
			plain, err := c.decrypt2FAS(f.ServicesEncrypted)
			if err != nil {
				return err
			}
			if err := json.Unmarshal(plain, &services); err != nil {
				return jsonErr("decrypted 2FAS services", err)
			}
		}
	}
	if len(services) > MaxAccounts {
		return fmt.Errorf("%w: more than %d accounts", ErrTooLarge, MaxAccounts)
	}
	for _, s := range services {
		a := vault.Account{Issuer: s.OTP.Issuer, Name: s.OTP.Account}
		if a.Issuer == "" {
			a.Issuer = s.Name
		}
		if a.Name == "" {
			a.Name = s.OTP.Label
			if a.Issuer != "" {
				if rest, ok := strings.CutPrefix(a.Name, a.Issuer+":"); ok {
					a.Name = strings.TrimSpace(rest)
				}
			}
		}
		// Before schema 3 2FAS had no token type: every service is TOTP.
		switch strings.ToUpper(s.OTP.TokenType) {
		case "", "TOTP":
			a.Type = vault.TOTP
		case "HOTP":
			a.Type = vault.HOTP
			a.Counter = s.OTP.Counter
		case "STEAM":
			a.Type = vault.Steam
		default:
			c.skip(a.Label(), fmt.Sprintf("%s tokens are not supported", s.OTP.TokenType))
			continue
		}
		if err := fillCommon(&a, s.Secret, s.OTP.Algorithm, s.OTP.Digits); err != nil {
			c.skip(a.Label(), err.Error())
			continue
		}
		a.Period = s.OTP.Period
		c.add(a)
	}
	return nil
}

// decrypt2FAS opens "ciphertext:salt:iv" (each base64): AES-256-GCM with a
// key from PBKDF2-HMAC-SHA256 (10000 iterations).
func (c *collector) decrypt2FAS(enc string) ([]byte, error) {
	parts := strings.Split(enc, ":")
	if len(parts) != 3 {
		return nil, fmt.Errorf("%w: 2FAS encrypted services are not ciphertext:salt:iv", ErrCorrupt)
	}
	var raw [3][]byte
	for i, p := range parts {
		b, err := base64.StdEncoding.DecodeString(p)
		if err != nil {
			return nil, fmt.Errorf("%w: 2FAS encrypted services are not base64", ErrCorrupt)
		}
		raw[i] = b
	}
	ct, salt, iv := raw[0], raw[1], raw[2]
	if len(ct) < 16 || len(salt) == 0 || len(iv) != 12 {
		return nil, fmt.Errorf("%w: 2FAS encrypted services are too short", ErrCorrupt)
	}
	pw, err := c.password()
	if err != nil {
		return nil, err
	}
	key, err := pbkdf2.Key(sha256.New, string(pw), salt, twoFASIterations, 32)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	plain, err := gcmOpen(key, iv, ct)
	if err != nil {
		return nil, ErrWrongPassword
	}
	return plain, nil
}
