package transfer

import (
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math/bits"
	"strings"

	"golang.org/x/crypto/scrypt"

	"github.com/sesame-auth/sesame/vault"
)

// aegisFile is an Aegis vault file (version 1), plain or encrypted.
type aegisFile struct {
	Version int             `json:"version"`
	Header  aegisHeader     `json:"header"`
	DB      json.RawMessage `json:"db"` // an object when plain, a base64 string when encrypted
}

type aegisHeader struct {
	Slots  []aegisSlot  `json:"slots"`
	Params *aegisParams `json:"params"`
}

type aegisParams struct {
	Nonce string `json:"nonce"`
	Tag   string `json:"tag"`
}

type aegisSlot struct {
	Type      int         `json:"type"` // 1 = password
	UUID      string      `json:"uuid"`
	Key       string      `json:"key"` // hex of the master key encrypted with the slot key
	KeyParams aegisParams `json:"key_params"`
	N         int         `json:"n,omitempty"`
	R         int         `json:"r,omitempty"`
	P         int         `json:"p,omitempty"`
	Salt      string      `json:"salt,omitempty"`
	Repaired  bool        `json:"repaired,omitempty"`
}

type aegisDB struct {
	Version int          `json:"version"`
	Entries []aegisEntry `json:"entries"`
	Groups  []aegisGroup `json:"groups,omitempty"`
}

type aegisGroup struct {
	UUID string `json:"uuid"`
	Name string `json:"name"`
}

type aegisEntry struct {
	Type     string    `json:"type"`
	UUID     string    `json:"uuid"`
	Name     string    `json:"name"`
	Issuer   string    `json:"issuer"`
	Note     string    `json:"note"`
	Favorite bool      `json:"favorite"`
	Icon     *string   `json:"icon"`
	Info     aegisInfo `json:"info"`
	Groups   []string  `json:"groups,omitempty"`
}

type aegisInfo struct {
	Secret  string  `json:"secret"`
	Algo    string  `json:"algo"`
	Digits  int     `json:"digits"`
	Period  *int    `json:"period,omitempty"`
	Counter *uint64 `json:"counter,omitempty"`
}

const (
	aegisSlotRaw       = 0
	aegisSlotPassword  = 1
	aegisSlotBiometric = 2
	aegisMaxDBVersion  = 3
)

func (c *collector) readAegis(data []byte) error {
	if err := c.objectKeys(data, "Aegis vault", "db"); err != nil {
		return err
	}
	var f aegisFile
	if err := json.Unmarshal(data, &f); err != nil {
		return jsonErr("Aegis vault", err)
	}
	if f.Version != 1 {
		return fmt.Errorf("%w: Aegis vault version %d (Sesame reads version 1)", ErrUnsupported, f.Version)
	}
	var plain []byte
	switch {
	case len(f.DB) > 0 && f.DB[0] == '{':
		plain = f.DB
	case len(f.DB) > 0 && f.DB[0] == '"':
		var enc string
		if err := json.Unmarshal(f.DB, &enc); err != nil {
			return jsonErr("Aegis vault", err)
		}
		var err error
		if plain, err = c.decryptAegis(&f.Header, enc); err != nil {
			return err
		}
	default:
		return fmt.Errorf("%w: Aegis vault has no entries", ErrCorrupt)
	}
	var db aegisDB
	if err := json.Unmarshal(plain, &db); err != nil {
		return jsonErr("Aegis database", err)
	}
	if db.Version < 1 || db.Version > aegisMaxDBVersion {
		return fmt.Errorf("%w: Aegis database version %d (Sesame reads 1 to %d; update Sesame)", ErrUnsupported, db.Version, aegisMaxDBVersion)
	}
	if len(db.Entries) > MaxAccounts {
		return fmt.Errorf("%w: more than %d accounts", ErrTooLarge, MaxAccounts)
	}
	for _, e := range db.Entries {
		a := vault.Account{Issuer: e.Issuer, Name: e.Name, Pinned: e.Favorite}
		switch strings.ToLower(e.Type) {
		case "totp":
			a.Type = vault.TOTP
		case "hotp":
			a.Type = vault.HOTP
		case "steam":
			a.Type = vault.Steam
		default:
			c.skip(a.Label(), fmt.Sprintf("%s tokens are not supported", e.Type))
			continue
		}
		if err := fillCommon(&a, e.Info.Secret, e.Info.Algo, e.Info.Digits); err != nil {
			c.skip(a.Label(), err.Error())
			continue
		}
		if e.Info.Period != nil {
			a.Period = *e.Info.Period
		}
		if a.Type == vault.HOTP {
			if e.Info.Counter == nil {
				c.skip(a.Label(), "HOTP entry without a counter")
				continue
			}
			a.Counter = *e.Info.Counter
		}
		c.add(a)
	}
	return nil
}

// decryptAegis opens the vault's master key with the password and decrypts the database.
func (c *collector) decryptAegis(h *aegisHeader, enc string) ([]byte, error) {
	if h.Params == nil {
		return nil, fmt.Errorf("%w: encrypted Aegis vault without encryption parameters", ErrCorrupt)
	}
	var slots []aegisSlot
	for _, s := range h.Slots {
		if s.Type == aegisSlotPassword {
			slots = append(slots, s)
		}
	}
	if len(slots) == 0 {
		return nil, fmt.Errorf("%w: the Aegis vault has no password slot (only biometric unlock): set a password in Aegis and export again", ErrUnsupported)
	}
	if err := c.checkAegisWork(slots); err != nil {
		return nil, err
	}
	ct, err := base64.StdEncoding.DecodeString(enc)
	if err != nil {
		return nil, fmt.Errorf("%w: Aegis database is not base64", ErrCorrupt)
	}
	nonce, tag, err := decodeParams(h.Params)
	if err != nil {
		return nil, err
	}
	pw, err := c.password()
	if err != nil {
		return nil, err
	}
	for _, s := range slots {
		master, err := c.openAegisSlot(&s, pw)
		if errors.Is(err, ErrWrongPassword) {
			continue
		}
		if err != nil {
			return nil, err
		}
		plain, err := gcmOpen(master, nonce, append(ct, tag...))
		if err != nil {
			return nil, fmt.Errorf("%w: the Aegis database does not match its key", ErrCorrupt)
		}
		return plain, nil
	}
	return nil, ErrWrongPassword
}

// checkAegisWork refuses, before any key is derived, password slots whose
// scrypt parameters are invalid or cost more than any real Aegis vault: each
// slot is tried in turn, so the file's total work is capped as well as each
// slot's time and memory.
func (c *collector) checkAegisWork(slots []aegisSlot) error {
	if len(slots) > maxAegisSlots {
		return fmt.Errorf("%w (%d Aegis password slots; Sesame tries at most %d)", ErrTooMuchWork, len(slots), maxAegisSlots)
	}
	maxN := min(c.opts.maxScryptN(), maxAegisScryptN)
	total := 0
	for _, s := range slots {
		if s.N < 2 || s.N&(s.N-1) != 0 || s.R < 1 || s.P < 1 {
			return fmt.Errorf("%w: an Aegis password slot has invalid scrypt parameters (n=%d r=%d p=%d)", ErrCorrupt, s.N, s.R, s.P)
		}
		if s.N > maxN || s.R > maxScryptR || s.P > maxScryptP || 128*s.N*s.R > maxAegisScryptMem {
			return fmt.Errorf("%w (an Aegis password slot asks for scrypt n=%d r=%d p=%d; Sesame allows n up to %d and %d MiB)",
				ErrTooMuchWork, s.N, s.R, s.P, maxN, maxAegisScryptMem>>20)
		}
		total += s.N * s.R * s.P
	}
	if total > maxAegisWork {
		return fmt.Errorf("%w (the Aegis password slots together ask for scrypt work %d; Sesame allows %d)", ErrTooMuchWork, total, maxAegisWork)
	}
	return nil
}

// openAegisSlot derives the slot key; checkAegisWork has capped its cost.
func (c *collector) openAegisSlot(s *aegisSlot, pw []byte) ([]byte, error) {
	salt, err := hex.DecodeString(s.Salt)
	if err != nil || len(salt) == 0 || len(salt) > 1024 {
		return nil, fmt.Errorf("%w: Aegis slot salt is not valid hex", ErrCorrupt)
	}
	key, err := hex.DecodeString(s.Key)
	if err != nil || len(key) == 0 || len(key) > 1024 {
		return nil, fmt.Errorf("%w: Aegis slot key is not valid hex", ErrCorrupt)
	}
	nonce, tag, err := decodeParams(&s.KeyParams)
	if err != nil {
		return nil, err
	}
	kek, err := scrypt.Key(pw, salt, s.N, s.R, s.P, 32)
	if err != nil {
		return nil, fmt.Errorf("%w: Aegis slot: %v", ErrCorrupt, err)
	}
	master, err := gcmOpen(kek, nonce, append(key, tag...))
	if err != nil {
		return nil, ErrWrongPassword
	}
	return master, nil
}

func decodeParams(p *aegisParams) (nonce, tag []byte, err error) {
	nonce, err1 := hex.DecodeString(p.Nonce)
	tag, err2 := hex.DecodeString(p.Tag)
	if err1 != nil || err2 != nil || len(nonce) != 12 || len(tag) != 16 {
		return nil, nil, fmt.Errorf("%w: Aegis nonce or tag is malformed", ErrCorrupt)
	}
	return nonce, tag, nil
}

// gcmOpen decrypts AES-GCM with a 12-byte nonce; ciphertext ends with the 16-byte tag.
func gcmOpen(key, nonce, ct []byte) ([]byte, error) {
	gcm, err := newGCM(key, len(nonce))
	if err != nil {
		return nil, err
	}
	return gcm.Open(nil, nonce, ct, nil)
}

func newGCM(key []byte, nonceSize int) (cipher.AEAD, error) {
	block, err := aes.NewCipher(key)
	if err != nil {
		return nil, fmt.Errorf("%w: bad key length", ErrCorrupt)
	}
	if nonceSize == 12 {
		return cipher.NewGCM(block)
	}
	if nonceSize < 1 || nonceSize > 64 {
		return nil, fmt.Errorf("%w: bad nonce length", ErrCorrupt)
	}
	return cipher.NewGCMWithNonceSize(block, nonceSize)
}

// Work factor of the Aegis vaults Sesame writes: Aegis' own defaults.
const (
	aegisScryptN = 1 << 15
	aegisScryptR = 8
	aegisScryptP = 1
)

// ExportAegis writes accounts as an encrypted Aegis vault (version 1, one
// password slot with scrypt N=32768 r=8 p=1, AES-256-GCM) that Aegis
// imports with the password.
func ExportAegis(accounts []vault.Account, password []byte, opts ...ExportOption) ([]byte, error) {
	logN, err := exportWorkFactor(bits.Len(aegisScryptN)-1, bits.Len(maxAegisScryptN)-1, opts)
	if err != nil {
		return nil, err
	}
	return exportAegis(accounts, password, 1<<logN)
}

func exportAegis(accounts []vault.Account, password []byte, n int) ([]byte, error) {
	if len(password) == 0 {
		return nil, errors.New("an Aegis export needs a password")
	}
	db := aegisDB{Version: 1, Entries: make([]aegisEntry, 0, len(accounts))}
	for _, a := range accounts {
		e := aegisEntry{
			Type: string(a.Type), UUID: newUUID(), Name: a.Name, Issuer: a.Issuer, Favorite: a.Pinned,
			Info: aegisInfo{Secret: a.Secret.Base32(), Algo: string(a.Algorithm), Digits: a.Digits},
		}
		if a.Type == vault.HOTP {
			counter := a.Counter
			e.Info.Counter = &counter
		} else {
			period := a.Period
			e.Info.Period = &period
		}
		db.Entries = append(db.Entries, e)
	}
	plain, err := json.Marshal(db)
	if err != nil {
		return nil, err
	}
	master := randomBytes(32)
	salt := randomBytes(32)
	kek, err := scrypt.Key(password, salt, n, aegisScryptR, aegisScryptP, 32)
	if err != nil {
		return nil, err
	}
	keyNonce, sealedKey := gcmSeal(kek, master)
	dbNonce, sealedDB := gcmSeal(master, plain)
	split := func(sealed []byte) (ct, tag []byte) { return sealed[:len(sealed)-16], sealed[len(sealed)-16:] }
	keyCT, keyTag := split(sealedKey)
	dbCT, dbTag := split(sealedDB)
	encDB, err := json.Marshal(base64.StdEncoding.EncodeToString(dbCT))
	if err != nil {
		return nil, err
	}
	f := aegisFile{
		Version: 1,
		Header: aegisHeader{
			Slots: []aegisSlot{{
				Type: aegisSlotPassword, UUID: newUUID(), Key: hex.EncodeToString(keyCT),
				KeyParams: aegisParams{Nonce: hex.EncodeToString(keyNonce), Tag: hex.EncodeToString(keyTag)},
				N:         n, R: aegisScryptR, P: aegisScryptP, Salt: hex.EncodeToString(salt),
			}},
			Params: &aegisParams{Nonce: hex.EncodeToString(dbNonce), Tag: hex.EncodeToString(dbTag)},
		},
		DB: encDB,
	}
	return json.MarshalIndent(f, "", "    ")
}

func gcmSeal(key, plain []byte) (nonce, sealed []byte) {
	gcm, err := newGCM(key, 12)
	if err != nil {
		panic(err) // keys are generated here with the right size
	}
	nonce = randomBytes(12)
	return nonce, gcm.Seal(nil, nonce, plain, nil)
}

func randomBytes(n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return b
}

func newUUID() string {
	b := randomBytes(16)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	h := hex.EncodeToString(b)
	return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:]
}

// fillCommon sets the secret, algorithm and digits shared by most formats.
// An empty algorithm means SHA1 and zero digits the type's default.
func fillCommon(a *vault.Account, secret, algo string, digits int) error {
	s, err := vault.ParseSecret(secret)
	if err != nil {
		return err
	}
	a.Secret = s
	if a.Algorithm, err = parseAlgo(algo); err != nil {
		return err
	}
	a.Digits = digits
	return nil
}

func parseAlgo(s string) (vault.Algorithm, error) {
	switch strings.ReplaceAll(strings.ToUpper(strings.TrimSpace(s)), "-", "") {
	case "", "SHA1", "HMACSHA1":
		return vault.SHA1, nil
	case "SHA256", "HMACSHA256":
		return vault.SHA256, nil
	case "SHA512", "HMACSHA512":
		return vault.SHA512, nil
	}
	return "", &vault.FieldError{Field: "algorithm", Reason: fmt.Sprintf("%q is not supported (SHA1, SHA256 or SHA512 only)", s)}
}

func jsonErr(what string, err error) error {
	var se *json.SyntaxError
	var te *json.UnmarshalTypeError
	switch {
	case errors.As(err, &se):
		if strings.Contains(err.Error(), "unexpected end") {
			return fmt.Errorf("%w: the %s ends early", ErrCorrupt, what)
		}
		return fmt.Errorf("%w: the %s is not valid JSON (at byte %d)", ErrCorrupt, what, se.Offset)
	case errors.As(err, &te):
		return fmt.Errorf("%w: the %s has a %s where a %s belongs (field %q)", ErrCorrupt, what, te.Value, te.Type, te.Field)
	case err.Error() == "unexpected end of JSON input":
		return fmt.Errorf("%w: the %s ends early", ErrCorrupt, what)
	}
	return fmt.Errorf("%w: the %s: %v", ErrCorrupt, what, err)
}
