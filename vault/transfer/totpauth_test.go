package transfer

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/sesame-auth/sesame/vault"
)

// sealTOTPAuth encrypts plain as TOTP Authenticator does: AES-256-CBC under
// the SHA-256 of the password, zero IV, PKCS#7, base64.
func sealTOTPAuth(plain []byte, pw string) []byte {
	key := sha256.Sum256([]byte(pw))
	pad := aes.BlockSize - len(plain)%aes.BlockSize
	padded := append(bytes.Clone(plain), bytes.Repeat([]byte{byte(pad)}, pad)...)
	block, _ := aes.NewCipher(key[:])
	cipher.NewCBCEncrypter(block, make([]byte, aes.BlockSize)).CryptBlocks(padded, padded)
	return []byte(base64.StdEncoding.EncodeToString(padded))
}

// TestTOTPAuthSynthetic reads TOTP Authenticator backups made here: accounts
// as objects or as JSON strings, secrets in base 16, 32 and 64, and checks
// that damaged and foreign files fail as a whole with a clear error.
func TestTOTPAuthSynthetic(t *testing.T) {
	list := `[{"base":16,"key":"48656C6C6F21DEADBEEF","name":"alice","issuer":"Hex","digits":"8","period":"60"},` +
		`"{\"base\":32,\"key\":\"JBSWY3DPEHPK3PXP\",\"name\":\"bob\",\"issuer\":\"B32\"}",` +
		`{"base":64,"key":"SGVsbG8h3q2+7w==","name":"carol","issuer":"B64"},` +
		`{"base":10,"key":"123","name":"dave","issuer":"Odd"}]`
	key, _ := json.Marshal(list)
	backup := sealTOTPAuth([]byte(`{`+string(key)+`:"1608293023"}`), "pw")
	if f, err := Detect(backup); err != nil || f != FormatTOTPAuth {
		t.Fatalf("Detect = %q, %v", f, err)
	}
	res, err := Import(ImportOptions{Password: password("pw")}, Input{Name: "t.bin", Data: backup})
	if err != nil {
		t.Fatal(err)
	}
	const secret = "JBSWY3DPEHPK3PXP"
	assertAccounts(t, res, []want{
		{vault.TOTP, "Hex", "alice", secret, vault.SHA1, 6, 30, 0},
		{vault.TOTP, "B32", "bob", secret, vault.SHA1, 6, 30, 0},
		{vault.TOTP, "B64", "carol", secret, vault.SHA1, 6, 30, 0},
	})
	if len(res.Skipped) != 1 || !strings.Contains(res.Skipped[0].Reason, "base 10") || strings.Contains(res.Skipped[0].String(), "123") {
		t.Errorf("skipped %v, want dave's base 10 secret named, not shown", res.Skipped)
	}

	broken := map[string]struct {
		data []byte
		err  error
		msg  string
	}{
		"base64 cut mid-group":     {backup[:len(backup)-3], ErrCorrupt, "not whole base64"},
		"a cipher block short":     {[]byte(base64.StdEncoding.EncodeToString(mustB64(t, backup)[:72])), ErrCorrupt, "whole cipher block"},
		"last block lost":          {[]byte(base64.StdEncoding.EncodeToString(mustB64(t, backup)[:len(mustB64(t, backup))-16])), ErrWrongPassword, "wrong password"},
		"other JSON inside":        {sealTOTPAuth([]byte(`{"a":"`+strings.Repeat("x", 80)+`"}`), "pw"), ErrUnknownFormat, "no account list"},
		"not JSON inside":          {sealTOTPAuth([]byte(strings.Repeat("hello", 20)), "pw"), ErrWrongPassword, "no TOTP Authenticator backup"},
		"preferences without list": {[]byte(`<map><string name="SORT_ACCOUNT_BY">CUSTOM</string><string name="STATIC_TOTP_CODES_LIST">[{"base":16,"key":"4865</string></map>`), ErrCorrupt, "ends early"},
	}
	for name, tc := range broken {
		res, err := Import(ImportOptions{Password: password("pw")}, Input{Name: "t.bin", Data: tc.data})
		if res != nil || !errors.Is(err, tc.err) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("%s: %v, %v; want %v saying %q", name, res, err, tc.err, tc.msg)
		}
	}
	// Forced on a file of another kind, it says so.
	res, err = Import(ImportOptions{Format: FormatTOTPAuth, Password: password("pw")}, Input{Data: []byte("otpauth://totp/a?secret=" + secret + "\n")})
	var nf *NotFormatError
	if res != nil || !errors.As(err, &nf) || !strings.Contains(err.Error(), "not a TOTP Authenticator backup") {
		t.Errorf("--format %s on a URI list: %v, %v", FormatTOTPAuth, res, err)
	}
	res, err = Import(ImportOptions{Format: FormatTOTPAuth}, Input{Data: []byte(`<map><string name="a">b</string></map>`)})
	if res != nil || !errors.As(err, &nf) || !strings.Contains(err.Error(), "STATIC_TOTP_CODES_LIST") {
		t.Errorf("--format %s on other preferences: %v, %v", FormatTOTPAuth, res, err)
	}
	// A bare secret is not taken for a backup.
	if f, err := Detect([]byte(secret + secret + "\n")); err == nil {
		t.Errorf("a bare secret detected as %s", f)
	}
}

func mustB64(t *testing.T, b []byte) []byte {
	t.Helper()
	out, err := base64.StdEncoding.DecodeString(string(b))
	if err != nil {
		t.Fatal(err)
	}
	return out
}
