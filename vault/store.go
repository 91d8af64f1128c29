package vault

import (
	"context"
	"errors"
	"os"
	"path/filepath"
)

// StoreKind says where the key that opens the vault is kept.
type StoreKind string

// The key stores. StoreAuto picks the keyring when a write-read-delete probe
// succeeds and the passphrase otherwise.
const (
	StoreAuto       StoreKind = ""
	StoreKeyring    StoreKind = "keyring"
	StorePassphrase StoreKind = "passphrase"
)

// Errors from opening and writing the vault. Each message says what to do.
var (
	ErrNoVault            = errors.New("no vault yet: add an account with 'sesame add' to create one")
	ErrExists             = errors.New("a vault already exists here")
	ErrPassphraseRequired = errors.New("the vault is protected by a passphrase: enter it, or set SESAME_PASSPHRASE or --passphrase-file")
	ErrWrongPassphrase    = errors.New("wrong passphrase: check it and try again")
	ErrKeyringUnavailable = errors.New("the OS keyring is locked or not running: unlock it (or start it) and try again")
	ErrKeyMissing         = errors.New("the vault key is missing from the OS keyring")
	// ErrNoRecovery is matched, with ErrKeyMissing, when the key is gone from
	// the keyring and the vault has no recovery passphrase to open it with.
	ErrNoRecovery = errors.New("this vault has no recovery passphrase")
	ErrCorrupt    = errors.New("the vault file is damaged")
	ErrLocked     = errors.New("another Sesame process is writing the vault")
	// ErrNewerFormat is matched when the vault file was written by a newer
	// Sesame; the message names the format.
	ErrNewerFormat = errors.New("the vault was written by a newer Sesame: upgrade Sesame; nothing was changed")
	// ErrPassphraseChanged is returned by Update and Reload of a passphrase
	// vault whose key another process changed with SetPassphrase.
	ErrPassphraseChanged = errors.New("the vault's passphrase was changed by another Sesame process: open the vault again with the new passphrase")
	// ErrBackupOnly is matched when vault.sesame is missing but its backup
	// (or another copy of a vault) is in the folder. Open's error matches
	// ErrNoVault too; Create refuses to start a new vault there, whose next
	// write would replace the backup. The message says what to do.
	ErrBackupOnly = errors.New("the vault file is missing but a copy of it is in its folder")
)

// Keyring is the part of the OS keyring the vault uses. The system keyring is
// SystemKeyring; tests pass an in-memory one.
type Keyring interface {
	Get(service, user string) (string, error)
	Set(service, user, secret string) error
	Delete(service, user string) error
}

// Options say where the vault lives and how to unlock it.
type Options struct {
	// Dir is the folder that holds the vault; DefaultDir when empty.
	Dir string
	// Keyring holds the vault key for keyring vaults; SystemKeyring when nil.
	Keyring Keyring
	// Passphrase, when set, is used for passphrase vaults, for recovery when
	// the keyring item is missing, and when creating a passphrase vault.
	Passphrase []byte
	// KeyCache, when set, is where 'sesame unlock' keeps the key of a
	// passphrase vault for a while; Open looks there before it needs the
	// passphrase. Nil: keys are never kept.
	KeyCache KeyCache
	// ScryptWorkFactor is the log2 scrypt cost for new passphrase wrappings;
	// 0 means the default (18). Tests lower it.
	ScryptWorkFactor int
	// Context, when set, ends the vault's waits for the lock of another
	// process (in Create, Update and SetPassphrase) as soon as it is done;
	// they then fail with its cause and change nothing.
	Context context.Context
}

// DefaultDir is $SESAME_HOME, or "sesame" inside the user's config folder.
func DefaultDir() (string, error) {
	if d := os.Getenv("SESAME_HOME"); d != "" {
		return d, nil
	}
	base, err := os.UserConfigDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(base, "sesame"), nil
}
