package transfer

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/pbkdf2"
	"crypto/sha512"
	"encoding/asn1"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/sesame-auth/sesame/vault"
)

// freeOTP2Token is one token of a FreeOTP 2 backup made by sealFreeOTP2.
type freeOTP2Token struct {
	uuid     string
	secret   []byte
	settings string // the "-token" JSON
}

// signedBytes writes b as FreeOTP's JSON does: Java signed bytes.
func signedBytes(b []byte) []int {
	out := make([]int, len(b))
	for i, x := range b {
		out[i] = int(int8(x))
	}
	return out
}

// sealFreeOTPKey encrypts plain with key as FreeOTP's EncryptedKey.
func sealFreeOTPKey(t testing.TB, key, plain []byte, token string) freeOTPEncryptedKey {
	t.Helper()
	nonce := bytes.Repeat([]byte{9}, 12)
	params, err := asn1.Marshal(struct {
		Nonce  []byte
		ICVLen int
	}{nonce, 16})
	if err != nil {
		t.Fatal(err)
	}
	block, _ := aes.NewCipher(key)
	gcm, _ := cipher.NewGCM(block)
	return freeOTPEncryptedKey{"AES/GCM/NoPadding", signedBytes(gcm.Seal(nil, nonce, plain, []byte(token))), signedBytes(params), token}
}

// sealFreeOTP2 writes a FreeOTP 2 backup of tokens: PBKDF2-HMAC-SHA512
// with iter iterations, as FreeOTP on recent Android.
func sealFreeOTP2(t testing.TB, pw string, iter int, tokens ...freeOTP2Token) []byte {
	t.Helper()
	salt := bytes.Repeat([]byte{5}, 32)
	master := bytes.Repeat([]byte{7}, 32)
	kek, err := pbkdf2.Key(sha512.New, pw, salt, iter, 32)
	if err != nil {
		t.Fatal(err)
	}
	mk, _ := json.Marshal(freeOTPMaster{"PBKDF2withHmacSHA512", sealFreeOTPKey(t, kek, master, "AES"), iter, signedBytes(salt)})
	pairs := []javaPair{{freeOTPMasterKey, string(mk)}}
	for _, tok := range tokens {
		key, _ := json.Marshal(sealFreeOTPKey(t, master, tok.secret, "HmacSHA1"))
		enc, _ := json.Marshal(map[string]string{"key": string(key)})
		pairs = append(pairs, javaPair{tok.uuid, string(enc)})
		if tok.settings != "" {
			pairs = append(pairs, javaPair{tok.uuid + freeOTPTokenSuffix, tok.settings})
		}
	}
	return javaStringMap(pairs...)
}

var freeOTP2Hello = []byte("Hello!\xde\xad\xbe\xef") // JBSWY3DPEHPK3PXP

// TestFreeOTP2Synthetic reads FreeOTP 2 backups made here and checks the
// refusals: work beyond the caps (before the password is asked), invalid
// parameters, a damaged token secret, truncation at any byte.
func TestFreeOTP2Synthetic(t *testing.T) {
	steam := freeOTP2Token{"u2", freeOTP2Hello, `{"issuerExt":"Steam","label":"gabe","type":"TOTP","digits":5,"period":30}`}
	hotp := freeOTP2Token{"u1", freeOTP2Hello, `{"algo":"SHA256","counter":4,"digits":8,"issuerExt":"Ex","label":"a","type":"HOTP"}`}
	orphan := freeOTP2Token{"u3", freeOTP2Hello, ""}
	file := sealFreeOTP2(t, "pw", 1000, hotp, steam, orphan)
	if f, err := Detect(file); err != nil || f != FormatFreeOTP2 {
		t.Fatalf("Detect = %q, %v", f, err)
	}
	res, err := Import(ImportOptions{Password: password("pw"), limits: lowWork}, Input{Name: "f.xml", Data: file})
	if err != nil {
		t.Fatal(err)
	}
	assertAccounts(t, res, []want{
		{vault.HOTP, "Ex", "a", "JBSWY3DPEHPK3PXP", vault.SHA256, 8, 0, 4},
		{vault.Steam, "Steam", "gabe", "JBSWY3DPEHPK3PXP", vault.SHA1, 5, 30, 0},
	})
	if len(res.Skipped) != 1 || !strings.Contains(res.Skipped[0].Reason, "without its token settings") {
		t.Errorf("skipped %v, want the secret without settings", res.Skipped)
	}
	if _, err := Import(ImportOptions{Password: password("px"), limits: lowWork}, Input{Data: file}); !errors.Is(err, ErrWrongPassword) {
		t.Errorf("wrong password: %v", err)
	}

	// Beyond the caps, or impossible: refused before the password is asked.
	asked := false
	opts := ImportOptions{Password: func(string, Format) ([]byte, error) { asked = true; return []byte("pw"), nil }, limits: lowWork}
	remaster := func(edit func(m *freeOTPMaster)) []byte {
		pairs, err := readJavaStringMap(file)
		if err != nil {
			t.Fatal(err)
		}
		var m freeOTPMaster
		if err := json.Unmarshal([]byte(pairs[0].Value), &m); err != nil {
			t.Fatal(err)
		}
		edit(&m)
		b, _ := json.Marshal(m)
		pairs[0].Value = string(b)
		return javaStringMap(pairs...)
	}
	refused := map[string]struct {
		data []byte
		err  error
		msg  string
	}{
		"10^9 iterations": {remaster(func(m *freeOTPMaster) { m.Iterations = 1e9 }), ErrTooMuchWork, "1000000000 PBKDF2 iterations"},
		"0 iterations":    {remaster(func(m *freeOTPMaster) { m.Iterations = 0 }), ErrCorrupt, "invalid PBKDF2 parameters"},
		"no salt":         {remaster(func(m *freeOTPMaster) { m.Salt = nil }), ErrCorrupt, "invalid PBKDF2 parameters"},
		"scrypt":          {remaster(func(m *freeOTPMaster) { m.Algorithm = "scrypt" }), ErrUnsupported, `"scrypt"`},
		"CBC":             {remaster(func(m *freeOTPMaster) { m.EncryptedKey.Cipher = "AES/CBC/PKCS5Padding" }), ErrUnsupported, "AES/CBC"},
		"bad parameters":  {remaster(func(m *freeOTPMaster) { m.EncryptedKey.Parameters = []int{48, 3, 4, 1, 0} }), ErrCorrupt, "invalid AES-GCM parameters"},
		"byte 300":        {remaster(func(m *freeOTPMaster) { m.Salt[0] = 300 }), ErrCorrupt, "out of range"},
		"no master key":   {javaStringMap(javaPair{"u1", "{}"}), ErrUnknownFormat, "not a FreeOTP 2 backup (it has no masterKey)"},
	}
	for name, tc := range refused {
		asked = false
		res, err := Import(opts, Input{Data: tc.data})
		if res != nil || !errors.Is(err, tc.err) || !strings.Contains(err.Error(), tc.msg) || asked {
			t.Errorf("%s: %v, %v (password asked: %v); want %v saying %q first", name, res, err, asked, tc.err, tc.msg)
		}
	}

	// A token secret that does not decrypt with the right master key: the
	// file is damaged, and nothing is imported.
	pairs, _ := readJavaStringMap(sealFreeOTP2(t, "pw", 1000, hotp))
	pairs[1].Value = strings.Replace(pairs[1].Value, "mCipherText\\\":[", "mCipherText\\\":[1,", 1)
	if res, err := Import(ImportOptions{Password: password("pw"), limits: lowWork}, Input{Data: javaStringMap(pairs...)}); res != nil || !errors.Is(err, ErrCorrupt) ||
		!strings.Contains(err.Error(), "does not decrypt with its master key") {
		t.Errorf("damaged token secret: %v, %v", res, err)
	}

	// Cut anywhere, the backup fails as a whole.
	small := sealFreeOTP2(t, "pw", 1, hotp)
	for n := 0; n < len(small); n += 7 {
		if res, err := Import(ImportOptions{Format: FormatFreeOTP2, Password: password("pw")}, Input{Data: small[:n]}); res != nil || err == nil {
			t.Errorf("cut to %d bytes: %v, %v; want an error", n, res, err)
		}
	}
	// Forced on another file, it says what the file is not.
	var nf *NotFormatError
	if _, err := Import(ImportOptions{Format: FormatFreeOTP2}, Input{Data: []byte(`<map></map>`)}); !errors.As(err, &nf) {
		t.Errorf("--format freeotp on XML: %v", err)
	}
}
