package transfer

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/bits"

	"filippo.io/age"
	"filippo.io/age/armor"

	"github.com/sesame-auth/sesame/vault"
)

// backupFormat and backupVersion mark the JSON inside a Sesame backup.
const (
	backupFormat  = "sesame-backup"
	backupVersion = 1
	// backupWorkFactor is the log2 scrypt cost of new backups (age's
	// default); a backup may ask for up to maxScryptN when read.
	backupWorkFactor = 18
)

// backupFile is the plaintext of a Sesame backup.
type backupFile struct {
	Format   string          `json:"format"`
	Version  int             `json:"version"`
	Accounts []vault.Account `json:"accounts"`
}

// ExportOption adjusts how an encrypted export is written.
type ExportOption func(*exportConfig)

type exportConfig struct {
	logN int // log2 of the scrypt cost; 0: the format's default
}

// WithWorkFactor sets the scrypt work factor (log2 of N) of an encrypted
// export, backup or Aegis vault; 0 keeps the format's default (2^18 for
// backups, Aegis' own 2^15). Tests lower it, as vault.Options'
// ScryptWorkFactor does for vaults; a reader accepts at most 2^22.
func WithWorkFactor(logN int) ExportOption {
	return func(c *exportConfig) { c.logN = logN }
}

func exportWorkFactor(def, max int, opts []ExportOption) (int, error) {
	var c exportConfig
	for _, o := range opts {
		o(&c)
	}
	switch {
	case c.logN == 0:
		return def, nil
	case c.logN < 1 || c.logN > max:
		return 0, fmt.Errorf("scrypt work factor %d is out of range (1 to %d)", c.logN, max)
	}
	return c.logN, nil
}

// ExportBackup writes accounts as Sesame's encrypted backup: an armored age
// file encrypted to the passphrase (scrypt), holding a versioned JSON
// document. Import reads it back on any machine with the passphrase.
// Pairings with sign-in servers are device-bound and not included.
func ExportBackup(accounts []vault.Account, passphrase []byte, opts ...ExportOption) ([]byte, error) {
	logN, err := exportWorkFactor(backupWorkFactor, bits.Len(maxScryptN)-1, opts)
	if err != nil {
		return nil, err
	}
	return exportBackup(accounts, passphrase, logN)
}

func exportBackup(accounts []vault.Account, passphrase []byte, logN int) ([]byte, error) {
	if len(passphrase) == 0 {
		return nil, errors.New("a backup needs a passphrase")
	}
	if accounts == nil {
		accounts = []vault.Account{}
	}
	plain, err := json.Marshal(backupFile{Format: backupFormat, Version: backupVersion, Accounts: accounts})
	if err != nil {
		return nil, err
	}
	r, err := age.NewScryptRecipient(string(passphrase))
	if err != nil {
		return nil, err
	}
	r.SetWorkFactor(logN)
	var buf bytes.Buffer
	aw := armor.NewWriter(&buf)
	w, err := age.Encrypt(aw, r)
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(plain); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	if err := aw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

func isAge(data []byte) bool {
	return bytes.HasPrefix(data, []byte(armor.Header)) || bytes.HasPrefix(data, []byte("age-encryption.org/v1\n"))
}

func (c *collector) readBackup(data []byte) error {
	var src io.Reader = bytes.NewReader(data)
	if bytes.HasPrefix(bytes.TrimSpace(data), []byte(armor.Header)) {
		src = armor.NewReader(bytes.NewReader(bytes.TrimSpace(data)))
	}
	pw, err := c.password()
	if err != nil {
		return err
	}
	id, err := age.NewScryptIdentity(string(pw))
	if err != nil {
		return err
	}
	maxLogN := bits.Len(uint(c.opts.maxScryptN())) - 1
	id.SetMaxWorkFactor(maxLogN)
	r, err := age.Decrypt(src, id)
	if err != nil {
		var nm *age.NoIdentityMatchError
		if errors.As(err, &nm) {
			for _, e := range nm.Errors {
				if !errors.Is(e, age.ErrIncorrectIdentity) {
					return fmt.Errorf("%w: %v", ErrCorrupt, e)
				}
			}
			if len(nm.StanzaTypes) > 0 && nm.StanzaTypes[0] != "scrypt" {
				return fmt.Errorf("%w: the age file is encrypted to a key, not a passphrase", ErrUnsupported)
			}
			return ErrWrongPassword
		}
		if bytes.Contains([]byte(err.Error()), []byte("work factor too large")) {
			return fmt.Errorf("%w: the backup asks for more scrypt work than Sesame allows (2^%d)", ErrTooLarge, maxLogN)
		}
		return fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	plain, err := io.ReadAll(io.LimitReader(r, MaxFileSize+1))
	if err != nil {
		return fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	if len(plain) > MaxFileSize {
		return fmt.Errorf("%w: the backup holds more than %d MiB", ErrTooLarge, MaxFileSize>>20)
	}
	var f backupFile
	if err := json.Unmarshal(plain, &f); err != nil {
		return jsonErr("Sesame backup", err)
	}
	if f.Format != backupFormat {
		return fmt.Errorf("%w: the age file does not hold a Sesame backup", ErrUnknownFormat)
	}
	if f.Version < 1 || f.Version > backupVersion {
		return fmt.Errorf("%w: Sesame backup version %d is newer than this Sesame: update Sesame", ErrUnsupported, f.Version)
	}
	if len(f.Accounts) > MaxAccounts {
		return fmt.Errorf("%w: more than %d accounts", ErrTooLarge, MaxAccounts)
	}
	for _, a := range f.Accounts {
		if b, err := hex.DecodeString(a.ID); err != nil || len(b) != 8 {
			a.ID = ""
		}
		c.add(a)
	}
	return nil
}
