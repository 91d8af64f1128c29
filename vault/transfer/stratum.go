package transfer

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/pbkdf2"
	"crypto/sha1"
	"encoding/json"
	"fmt"

	"golang.org/x/crypto/argon2"

	"github.com/sesame-auth/sesame/vault"
)

// Stratum (Authenticator Pro) writes its backups as plain JSON, or encrypted
// behind a 16-byte header that names the format. The key derivation of both
// encrypted formats is fixed by the format, not read from the file:
//
//	current: "AUTHENTICATORPRO" [16-byte salt][12-byte nonce][AES-256-GCM ciphertext||tag],
//	         key = Argon2id(password, salt, t=3, m=64 MiB, p=4)
//	legacy:  "AuthenticatorPro" [20-byte salt][16-byte IV][AES-256-CBC ciphertext, PKCS#7],
//	         key = PBKDF2-HMAC-SHA1(password, salt, 64000)
const (
	stratumHeader        = "AUTHENTICATORPRO"
	stratumLegacyHeader  = "AuthenticatorPro"
	stratumSaltLen       = 16
	stratumNonceLen      = 12
	stratumArgon2Time    = 3
	stratumArgon2MemKiB  = 64 << 10
	stratumArgon2Threads = 4
	stratumLegacySaltLen = 20
	stratumLegacyIter    = 64000
	stratumKeyLen        = 32
	stratumMinLen        = len(stratumHeader) + stratumSaltLen + stratumNonceLen + 16
	stratumLegacyMinLen  = len(stratumLegacyHeader) + stratumLegacySaltLen + 2*aes.BlockSize
)

// isStratumEncrypted reports whether data starts with the header of an
// encrypted Stratum backup, current or legacy.
func isStratumEncrypted(data []byte) bool {
	return bytes.HasPrefix(data, []byte(stratumHeader)) || bytes.HasPrefix(data, []byte(stratumLegacyHeader))
}

// readStratum reads a Stratum (Authenticator Pro) backup: plain JSON, or
// encrypted in the current or the legacy format.
func (c *collector) readStratum(data []byte) error {
	what := "Stratum backup"
	if isStratumEncrypted(data) {
		plain, err := c.decryptStratum(data)
		if err != nil {
			return err
		}
		data, what = plain, "decrypted Stratum backup"
	}
	if err := c.objectKeys(data, what, "Authenticators"); err != nil {
		return err
	}
	var f struct {
		Authenticators []struct {
			Type      int    `json:"Type"`
			Issuer    string `json:"Issuer"`
			Username  string `json:"Username"`
			Secret    string `json:"Secret"`
			Algorithm int    `json:"Algorithm"`
			Digits    int    `json:"Digits"`
			Period    int    `json:"Period"`
			Counter   uint64 `json:"Counter"`
		} `json:"Authenticators"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		return jsonErr(what, err)
	}
	if len(f.Authenticators) > MaxAccounts {
		return fmt.Errorf("%w: more than %d accounts", ErrTooLarge, MaxAccounts)
	}
	for _, e := range f.Authenticators {
		a := vault.Account{Issuer: e.Issuer, Name: e.Username, Digits: e.Digits, Period: e.Period}
		switch e.Type {
		case 1:
			a.Type, a.Counter = vault.HOTP, e.Counter
		case 2:
			a.Type = vault.TOTP
		case 4:
			a.Type = vault.Steam
		default:
			c.skip(a.Label(), fmt.Sprintf("Stratum token type %d (mOTP or Yandex) is not supported", e.Type))
			continue
		}
		algos := []vault.Algorithm{vault.SHA1, vault.SHA256, vault.SHA512}
		if e.Algorithm < 0 || e.Algorithm >= len(algos) {
			c.skip(a.Label(), fmt.Sprintf("algorithm %d is not supported", e.Algorithm))
			continue
		}
		a.Algorithm = algos[e.Algorithm]
		s, err := vault.ParseSecret(e.Secret)
		if err != nil {
			c.skip(a.Label(), err.Error())
			continue
		}
		a.Secret = s
		c.add(a)
	}
	return nil
}

// decryptStratum opens an encrypted Stratum backup and returns its JSON.
// The length of the file is checked, and the work its format asks for, before
// the password is.
func (c *collector) decryptStratum(data []byte) ([]byte, error) {
	legacy := bytes.HasPrefix(data, []byte(stratumLegacyHeader))
	switch {
	case !legacy && len(data) < stratumMinLen, legacy && len(data) < stratumLegacyMinLen:
		return nil, fmt.Errorf("%w: the %s is cut short (%d bytes)", ErrCorrupt, "encrypted Stratum backup", len(data))
	case legacy && (len(data)-len(stratumLegacyHeader)-stratumLegacySaltLen)%aes.BlockSize != 0:
		return nil, fmt.Errorf("%w: the %s does not end on a whole cipher block (is it truncated?)", ErrCorrupt, "encrypted Stratum backup")
	case !legacy && stratumArgon2MemKiB > c.opts.maxArgon2MemKiB():
		return nil, fmt.Errorf("%w (Argon2id with %d MiB; Sesame allows %d MiB)", ErrTooMuchWork, stratumArgon2MemKiB>>10, c.opts.maxArgon2MemKiB()>>10)
	case legacy && stratumLegacyIter > c.opts.maxPBKDF2Iter():
		return nil, fmt.Errorf("%w (%d PBKDF2 iterations; Sesame allows %d)", ErrTooMuchWork, stratumLegacyIter, c.opts.maxPBKDF2Iter())
	}
	pw, err := c.password()
	if err != nil {
		return nil, err
	}
	var plain []byte
	if legacy {
		rest := data[len(stratumLegacyHeader):]
		salt, iv, ct := rest[:stratumLegacySaltLen], rest[stratumLegacySaltLen:stratumLegacySaltLen+aes.BlockSize], rest[stratumLegacySaltLen+aes.BlockSize:]
		key, err := pbkdf2.Key(sha1.New, string(pw), salt, stratumLegacyIter, stratumKeyLen)
		if err != nil {
			return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
		}
		if plain, err = cbcOpen(key, iv, ct); err != nil {
			return nil, err
		}
	} else {
		rest := data[len(stratumHeader):]
		salt, nonce, ct := rest[:stratumSaltLen], rest[stratumSaltLen:stratumSaltLen+stratumNonceLen], rest[stratumSaltLen+stratumNonceLen:]
		key := argon2.IDKey(pw, salt, stratumArgon2Time, stratumArgon2MemKiB, stratumArgon2Threads, stratumKeyLen)
		if plain, err = gcmOpen(key, nonce, ct); err != nil {
			return nil, ErrWrongPassword
		}
	}
	return plain, nil
}

// cbcOpen decrypts AES-CBC with PKCS#7 padding. Without authentication a
// wrong key shows only as bad padding or as plaintext that is not what the
// format holds, so a bad padding is reported as a wrong password and
// anything not JSON too: the importers that use it are all JSON inside.
func cbcOpen(key, iv, ct []byte) ([]byte, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("%w: bad key length", ErrCorrupt)
	}
	if len(iv) != aes.BlockSize || len(ct) == 0 || len(ct)%aes.BlockSize != 0 {
		return nil, fmt.Errorf("%w: the encrypted data does not end on a whole cipher block (is it truncated?)", ErrCorrupt)
	}
	plain := make([]byte, len(ct))
	cipher.NewCBCDecrypter(block, iv).CryptBlocks(plain, ct)
	pad := int(plain[len(plain)-1])
	if pad < 1 || pad > aes.BlockSize {
		return nil, ErrWrongPassword
	}
	for _, b := range plain[len(plain)-pad:] {
		if int(b) != pad {
			return nil, ErrWrongPassword
		}
	}
	plain = plain[:len(plain)-pad]
	if !json.Valid(plain) {
		return nil, ErrWrongPassword
	}
	return plain, nil
}
