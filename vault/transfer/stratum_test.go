package transfer

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/pbkdf2"
	"crypto/sha1"
	"errors"
	"strings"
	"testing"

	"golang.org/x/crypto/argon2"

	"github.com/sesame-auth/sesame/vault"
)

const stratumJSON = `{"Authenticators":[{"Type":2,"Issuer":"Example","Username":"alice@example.com","Secret":"JBSWY3DPEHPK3PXP","Algorithm":0,"Digits":6,"Period":30,"Counter":0}]}`

// sealStratum encrypts plain as Stratum does, in the current format
// (legacy false) or the legacy one, with fixed salt and nonce.
func sealStratum(t testing.TB, plain []byte, pw string, legacy bool) []byte {
	t.Helper()
	if legacy {
		salt, iv := bytes.Repeat([]byte{1}, stratumLegacySaltLen), bytes.Repeat([]byte{2}, aes.BlockSize)
		key, err := pbkdf2.Key(sha1.New, pw, salt, stratumLegacyIter, stratumKeyLen)
		if err != nil {
			t.Fatal(err)
		}
		pad := aes.BlockSize - len(plain)%aes.BlockSize
		padded := append(bytes.Clone(plain), bytes.Repeat([]byte{byte(pad)}, pad)...)
		block, _ := aes.NewCipher(key)
		cipher.NewCBCEncrypter(block, iv).CryptBlocks(padded, padded)
		return bytes.Join([][]byte{[]byte(stratumLegacyHeader), salt, iv, padded}, nil)
	}
	salt, nonce := bytes.Repeat([]byte{3}, stratumSaltLen), bytes.Repeat([]byte{4}, stratumNonceLen)
	key := argon2.IDKey([]byte(pw), salt, stratumArgon2Time, stratumArgon2MemKiB, stratumArgon2Threads, stratumKeyLen)
	block, _ := aes.NewCipher(key)
	gcm, _ := cipher.NewGCM(block)
	return bytes.Join([][]byte{[]byte(stratumHeader), salt, nonce, gcm.Seal(nil, nonce, plain, nil)}, nil)
}

// TestStratumEncrypted reads encrypted Stratum backups of both formats made
// here, and checks that damaged, truncated and foreign ones fail as a whole
// with a clear error.
func TestStratumEncrypted(t *testing.T) {
	one := []want{{vault.TOTP, "Example", "alice@example.com", "JBSWY3DPEHPK3PXP", vault.SHA1, 6, 30, 0}}
	for _, legacy := range []bool{false, true} {
		file := sealStratum(t, []byte(stratumJSON), "pw", legacy)
		if f, err := Detect(file); err != nil || f != FormatStratum {
			t.Fatalf("legacy=%v: Detect = %q, %v", legacy, f, err)
		}
		res, err := Import(ImportOptions{Password: password("pw")}, Input{Name: "s.bin", Data: file})
		if err != nil {
			t.Fatalf("legacy=%v: %v", legacy, err)
		}
		assertAccounts(t, res, one)

		cut := map[string][]byte{
			"header only":   file[:16],
			"no ciphertext": file[:16+20],
		}
		if legacy {
			cut["one byte missing"] = file[:len(file)-1] // GCM: the same as the flipped bit below
		}
		for name, data := range cut {
			res, err := Import(ImportOptions{Password: password("pw")}, Input{Name: "s.bin", Data: data})
			if res != nil || err == nil {
				t.Errorf("legacy=%v, %s: %v, %v; want an error", legacy, name, res, err)
				continue
			}
			if len(data) < 52 && (!errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "cut short")) {
				t.Errorf("legacy=%v, %s: %v; want the file reported cut short", legacy, name, err)
			}
			if legacy && !errors.Is(err, ErrCorrupt) {
				t.Errorf("legacy=%v, %s: %v; want ErrCorrupt", legacy, name, err)
			}
		}
		// A flipped bit in the ciphertext: GCM refuses it; CBC garbles
		// the JSON. Neither can tell it from a wrong password.
		flipped := bytes.Clone(file)
		flipped[len(flipped)-20] ^= 0x40
		if res, err := Import(ImportOptions{Password: password("pw")}, Input{Data: flipped}); res != nil || !errors.Is(err, ErrWrongPassword) {
			t.Errorf("legacy=%v, flipped bit: %v, %v; want ErrWrongPassword", legacy, res, err)
		}
		// Encrypted data that is not a Stratum backup inside.
		other := sealStratum(t, []byte(`{"services":[]}`), "pw", legacy)
		if res, err := Import(ImportOptions{Password: password("pw")}, Input{Data: other}); res != nil || !errors.Is(err, ErrUnknownFormat) || !strings.Contains(err.Error(), "not a decrypted Stratum backup") {
			t.Errorf("legacy=%v, other JSON inside: %v, %v; want it named no Stratum backup", legacy, res, err)
		}
	}

	// The work the format asks for is capped like any other: both formats are
	// refused before the password is asked when the caps are lower.
	for _, legacy := range []bool{false, true} {
		asked := false
		opts := ImportOptions{Password: func(string, Format) ([]byte, error) { asked = true; return []byte("pw"), nil },
			limits: limits{pbkdf2Iter: 1000, argon2KiB: 1 << 10}}
		file := append([]byte(stratumHeader), make([]byte, 64)...)
		if legacy {
			file = append([]byte(stratumLegacyHeader), make([]byte, 68)...)
		}
		if res, err := Import(opts, Input{Data: file}); res != nil || !errors.Is(err, ErrTooMuchWork) || asked {
			t.Errorf("legacy=%v under low caps: %v, %v (password asked: %v); want ErrTooMuchWork first", legacy, res, err, asked)
		}
	}
}
