package vault

// The vault file format: the envelope, reading and checking it, and encoding
// and decoding the encrypted contents.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"filippo.io/age"
)

// What the vault file says it is.
const (
	envelopeFormat  = "sesame-vault"
	envelopeVersion = 1

	maxFileSize = 64 << 20 // far above 1,000 accounts; refuse anything bigger as damaged
)

// envelope is the vault file. Only Data and WrappedKey carry secrets, and
// both are age-encrypted: Data to the vault's X25519 key, WrappedKey (the
// X25519 key itself) to a passphrase with scrypt. The cleartext fields say
// only how to find the key.
type envelope struct {
	Format     string    `json:"format"`
	Version    int       `json:"version"`
	Store      StoreKind `json:"store"`
	KeyringID  string    `json:"keyring_id,omitempty"`  // keyring item user name, for keyring vaults
	WrappedKey []byte    `json:"wrapped_key,omitempty"` // the vault key under the (recovery) passphrase
	Data       []byte    `json:"data"`                  // age ciphertext of the JSON Data
}

// newerFormatError says the vault file was written by a newer Sesame.
type newerFormatError int

func (e newerFormatError) Error() string {
	return fmt.Sprintf("the vault was written by a newer Sesame (format %d): upgrade Sesame; nothing was changed", int(e))
}

// Is matches ErrNewerFormat.
func (e newerFormatError) Is(target error) bool { return target == ErrNewerFormat }

// CorruptError says the vault file cannot be read, and where the previous version is.
type CorruptError struct {
	Path, Backup string
	Err          error
}

func (e *CorruptError) Error() string {
	msg := fmt.Sprintf("%v: %s: %v", ErrCorrupt, e.Path, e.Err)
	if _, err := os.Stat(e.Backup); err == nil {
		msg += fmt.Sprintf("; the previous version is kept in %s: move the damaged file aside and copy the backup in its place", e.Backup)
	}
	return msg
}

// Unwrap lets errors.Is(err, ErrCorrupt) match.
func (e *CorruptError) Unwrap() error { return ErrCorrupt }

// readEnvelope reads and parses the vault file. It returns the file's
// FileInfo for change detection.
func (v *Vault) readEnvelope() (envelope, fs.FileInfo, error) {
	var env envelope
	path := v.Path()
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		if names := leftovers(v.dir); len(names) > 0 {
			return env, nil, &backupOnlyError{dir: v.dir, names: names, open: true}
		}
		return env, nil, fmt.Errorf("%w (looked in %s)", ErrNoVault, v.dir)
	}
	if err != nil {
		return env, nil, fmt.Errorf("read the vault: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return env, nil, fmt.Errorf("read the vault: %w", err)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxFileSize+1))
	if err != nil {
		return env, nil, fmt.Errorf("read the vault: %w", err)
	}
	corrupt := func(why string) (envelope, fs.FileInfo, error) {
		return envelope{}, nil, &CorruptError{Path: path, Backup: v.BackupPath(), Err: errors.New(why)}
	}
	if len(b) > maxFileSize {
		return corrupt("it is larger than any vault could be")
	}
	// The format and version first: a newer format may change any other field.
	var head struct {
		Format  string `json:"format"`
		Version int    `json:"version"`
	}
	if err := json.Unmarshal(b, &head); err != nil {
		return corrupt("it is not a Sesame vault or it is truncated")
	}
	switch {
	case head.Format != envelopeFormat:
		return corrupt("it is not a Sesame vault")
	case head.Version > envelopeVersion:
		return envelope{}, nil, newerFormatError(head.Version)
	case head.Version != envelopeVersion:
		return corrupt("it names no valid format version")
	}
	if err := json.Unmarshal(b, &env); err != nil {
		return corrupt("it is not a Sesame vault or it is truncated")
	}
	switch {
	case env.Store != StoreKeyring && env.Store != StorePassphrase:
		return corrupt("it names no key store")
	case env.Store == StoreKeyring && env.KeyringID == "":
		return corrupt("it names no keyring item")
	case env.Store == StorePassphrase && len(env.WrappedKey) == 0:
		return corrupt("its passphrase-protected key is missing")
	}
	return env, st, nil
}

// errOtherKey is the reason of a CorruptError for contents that are not
// encrypted to the key used.
var errOtherKey = errors.New("its contents are not encrypted to this vault's key")

func (v *Vault) decrypt(env envelope, id *age.X25519Identity) (Data, error) {
	var d Data
	corrupt := func(why string) (Data, error) {
		return Data{}, &CorruptError{Path: v.Path(), Backup: v.BackupPath(), Err: errors.New(why)}
	}
	r, err := age.Decrypt(bytes.NewReader(env.Data), id)
	var noMatch *age.NoIdentityMatchError
	if errors.As(err, &noMatch) {
		return Data{}, &CorruptError{Path: v.Path(), Backup: v.BackupPath(), Err: errOtherKey}
	}
	if err != nil {
		return corrupt("its encrypted contents are damaged")
	}
	b, err := io.ReadAll(io.LimitReader(r, maxFileSize))
	if err != nil {
		return corrupt("its encrypted contents are damaged or truncated")
	}
	if err := json.Unmarshal(b, &d); err != nil {
		return corrupt("its contents do not parse")
	}
	if d.Accounts == nil {
		d.Accounts = []Account{}
	}
	return d, nil
}

// encodeFile encrypts d to id into env.Data and returns the vault file's bytes.
func encodeFile(env *envelope, id *age.X25519Identity, d Data) ([]byte, error) {
	plain, err := json.Marshal(d)
	if err != nil {
		return nil, err
	}
	var ct bytes.Buffer
	w, err := age.Encrypt(&ct, id.Recipient())
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(plain); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	env.Data = ct.Bytes()
	return json.MarshalIndent(env, "", "  ")
}
