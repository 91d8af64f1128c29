package transfer

import (
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha512"
	"encoding/asn1"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"strings"
)

// FreeOTP 2 backs up its tokens as a Java-serialized HashMap<String,String>
// (see javaser.go): "masterKey" holds a random AES key encrypted under a key
// derived from the backup password with PBKDF2 (parameters in the JSON), and
// for each token "<uuid>" holds its secret encrypted under the master key
// and "<uuid>-token" its settings as JSON, as in FreeOTP's tokens.xml. Every
// encryption is AES-GCM, with the nonce in DER-encoded GCM parameters and
// the key's kind ("AES", "HmacSHA1"...) as additional data.

// javaStreamMagic starts every Java object stream.
var javaStreamMagic = []byte{0xac, 0xed, 0x00, 0x05}

const (
	freeOTPMasterKey   = "masterKey"
	freeOTPTokenSuffix = "-token"
	freeOTPMaxSalt     = 1024
)

// freeOTPEncryptedKey is FreeOTP's EncryptedKey: a key encrypted with
// AES/GCM/NoPadding. The byte arrays are Java signed bytes.
type freeOTPEncryptedKey struct {
	Cipher     string `json:"mCipher"`
	CipherText []int  `json:"mCipherText"`
	Parameters []int  `json:"mParameters"`
	Token      string `json:"mToken"`
}

// freeOTPMaster is FreeOTP's MasterKey.
type freeOTPMaster struct {
	Algorithm    string              `json:"mAlgorithm"`
	EncryptedKey freeOTPEncryptedKey `json:"mEncryptedKey"`
	Iterations   int                 `json:"mIterations"`
	Salt         []int               `json:"mSalt"`
}

func (c *collector) readFreeOTP2(data []byte) error {
	if !bytes.HasPrefix(data, javaStreamMagic) {
		return &NotFormatError{Format: c.format, What: "FreeOTP 2 backup", Detail: "it is no Java object stream"}
	}
	pairs, err := readJavaStringMap(data)
	if err != nil {
		return fmt.Errorf("the FreeOTP 2 backup: %w", err)
	}
	values := make(map[string]string, len(pairs))
	for _, p := range pairs {
		values[p.Key] = p.Value
	}
	mkJSON, ok := values[freeOTPMasterKey]
	if !ok {
		return &NotFormatError{Format: c.format, What: "FreeOTP 2 backup", Detail: "it has no masterKey"}
	}
	var mk freeOTPMaster
	if err := json.Unmarshal([]byte(mkJSON), &mk); err != nil {
		return jsonErr("FreeOTP 2 master key", err)
	}
	master, err := c.openFreeOTPMaster(&mk)
	if err != nil {
		return err
	}
	if len(pairs) > 2*MaxAccounts+1 {
		return fmt.Errorf("%w: more than %d accounts", ErrTooLarge, MaxAccounts)
	}
	for _, p := range pairs {
		if p.Key == freeOTPMasterKey || strings.HasSuffix(p.Key, freeOTPTokenSuffix) {
			continue
		}
		settings, ok := values[p.Key+freeOTPTokenSuffix]
		if !ok {
			c.skip("", "a FreeOTP 2 secret without its token settings")
			continue
		}
		var t freeOTPToken
		if err := json.Unmarshal([]byte(settings), &t); err != nil {
			return jsonErr("FreeOTP 2 token settings", err)
		}
		var enc struct {
			Key string `json:"key"`
		}
		var key freeOTPEncryptedKey
		if err := json.Unmarshal([]byte(p.Value), &enc); err != nil {
			return jsonErr("FreeOTP 2 token secret", err)
		}
		if err := json.Unmarshal([]byte(enc.Key), &key); err != nil {
			return jsonErr("FreeOTP 2 token secret", err)
		}
		secret, err := freeOTPOpen(master, &key)
		switch {
		case errors.Is(err, ErrCorrupt), errors.Is(err, ErrUnsupported):
			return err
		case err != nil:
			return fmt.Errorf("%w: a token secret of the FreeOTP 2 backup does not decrypt with its master key", ErrCorrupt)
		}
		t.Secret = make([]int, len(secret))
		for i, b := range secret {
			t.Secret[i] = int(b)
		}
		c.addFreeOTP(&t)
	}
	return nil
}

// openFreeOTPMaster derives the password key and decrypts the master key.
// Its parameters are checked before the password is asked.
func (c *collector) openFreeOTPMaster(mk *freeOTPMaster) ([]byte, error) {
	var h func() hash.Hash
	switch strings.ToLower(mk.Algorithm) {
	case "pbkdf2withhmacsha1":
		h = sha1.New
	case "pbkdf2withhmacsha512":
		h = sha512.New
	default:
		return nil, fmt.Errorf("%w: FreeOTP 2 master key derivation %q (Sesame reads PBKDF2 with HMAC-SHA1 or -SHA512)", ErrUnsupported, mk.Algorithm)
	}
	switch {
	case mk.Iterations < 1 || len(mk.Salt) == 0 || len(mk.Salt) > freeOTPMaxSalt:
		return nil, fmt.Errorf("%w: the FreeOTP 2 master key has invalid PBKDF2 parameters (%d iterations, %d-byte salt)", ErrCorrupt, mk.Iterations, len(mk.Salt))
	case mk.Iterations > c.opts.maxPBKDF2Iter():
		return nil, fmt.Errorf("%w (%d PBKDF2 iterations; Sesame allows %d)", ErrTooMuchWork, mk.Iterations, c.opts.maxPBKDF2Iter())
	}
	salt, err := javaBytes(mk.Salt)
	if err != nil {
		return nil, err
	}
	if _, _, _, err := freeOTPCipher(&mk.EncryptedKey); err != nil {
		return nil, err
	}
	pw, err := c.password()
	if err != nil {
		return nil, err
	}
	key, err := pbkdf2.Key(h, string(pw), salt, mk.Iterations, 32)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	master, err := freeOTPOpen(key, &mk.EncryptedKey)
	if err != nil {
		return nil, ErrWrongPassword
	}
	if len(master) != 16 && len(master) != 24 && len(master) != 32 {
		return nil, fmt.Errorf("%w: the FreeOTP 2 master key is %d bytes", ErrCorrupt, len(master))
	}
	return master, nil
}

// freeOTPCipher checks an encrypted key and returns its nonce, tag size
// and ciphertext.
func freeOTPCipher(k *freeOTPEncryptedKey) (nonce []byte, tagSize int, ct []byte, err error) {
	if k.Cipher != "AES/GCM/NoPadding" {
		return nil, 0, nil, fmt.Errorf("%w: FreeOTP 2 cipher %q (Sesame reads AES/GCM/NoPadding)", ErrUnsupported, k.Cipher)
	}
	params, err := javaBytes(k.Parameters)
	if err != nil {
		return nil, 0, nil, err
	}
	// GCMParameters ::= SEQUENCE { aes-nonce OCTET STRING, aes-ICVlen INTEGER },
	// or on older Android the nonce alone as an OCTET STRING. Without a
	// length the tag is 16 bytes, Java's default.
	var p struct {
		Nonce  []byte
		ICVLen int `asn1:"optional,default:16"`
	}
	var rest []byte
	if len(params) > 0 && params[0] == asn1.TagOctetString {
		rest, err = asn1.Unmarshal(params, &p.Nonce)
		p.ICVLen = 16
	} else {
		rest, err = asn1.Unmarshal(params, &p)
	}
	if err != nil || len(rest) > 0 || len(p.Nonce) != 12 || p.ICVLen < 12 || p.ICVLen > 16 {
		return nil, 0, nil, fmt.Errorf("%w: the FreeOTP 2 backup has invalid AES-GCM parameters", ErrCorrupt)
	}
	if ct, err = javaBytes(k.CipherText); err != nil {
		return nil, 0, nil, err
	}
	return p.Nonce, p.ICVLen, ct, nil
}

// freeOTPOpen decrypts an encrypted key with key.
func freeOTPOpen(key []byte, k *freeOTPEncryptedKey) ([]byte, error) {
	nonce, tagSize, ct, err := freeOTPCipher(k)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("%w: bad key length", ErrCorrupt)
	}
	gcm, err := cipher.NewGCMWithTagSize(block, tagSize)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	return gcm.Open(nil, nonce, ct, []byte(k.Token))
}

// javaBytes converts a JSON list of Java signed bytes.
func javaBytes(v []int) ([]byte, error) {
	b := make([]byte, len(v))
	for i, x := range v {
		if x < -128 || x > 255 {
			return nil, fmt.Errorf("%w: the FreeOTP 2 backup has a byte list with a value out of range", ErrCorrupt)
		}
		b[i] = byte(x)
	}
	return b, nil
}
