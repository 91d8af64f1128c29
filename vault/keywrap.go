package vault

// Where the vault key comes from: the OS keyring, or wrapped with a
// passphrase (scrypt through age).

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"

	"filippo.io/age"
)

const (
	// KeyringService is the service name of the vault's keyring item.
	KeyringService = "sesame"

	maxScryptWorkFactor = 22 // what we accept from a file: about 4 s and 4 GiB at most
	defaultWorkFactor   = 18
)

// unlockKey finds the vault key that env names: in the keyring, or wrapped
// with opts.Passphrase (a passphrase vault, or a keyring vault whose item is
// gone and that has a recovery passphrase). read, when set, is the keyring
// read of the item that Open started.
func unlockKey(env envelope, opts Options, read *KeyRead) (*age.X25519Identity, error) {
	if env.Store == StoreKeyring {
		var s string
		var err error
		if read != nil {
			s, err = read.Wait(opts.Context)
		} else {
			s, err = opts.Keyring.Get(KeyringService, env.KeyringID)
		}
		switch {
		case err == nil:
			id, perr := age.ParseX25519Identity(s)
			if perr != nil {
				return nil, fmt.Errorf("the vault key in the OS keyring (item %s/%s) is damaged: open the vault with its recovery passphrase ('sesame recover')", KeyringService, env.KeyringID)
			}
			return id, nil
		case !errors.Is(err, ErrKeyringItemNotFound):
			return nil, fmt.Errorf("%w (%v)", ErrKeyringUnavailable, err)
		case len(env.WrappedKey) == 0:
			return nil, fmt.Errorf("%w: %w, so only restoring the item %s/%s (for example from a keyring backup) can open it", ErrKeyMissing, ErrNoRecovery, KeyringService, env.KeyringID)
		case len(opts.Passphrase) == 0:
			return nil, fmt.Errorf("%w: open the vault with its recovery passphrase ('sesame recover' also puts the key back)", ErrKeyMissing)
		}
		// The keyring item is gone: fall through to the recovery passphrase.
	} else if len(opts.Passphrase) == 0 {
		return nil, ErrPassphraseRequired
	}
	id, err := unwrapKey(env.WrappedKey, opts.Passphrase)
	if err != nil && !errors.Is(err, ErrWrongPassphrase) {
		return nil, &CorruptError{Path: filepath.Join(opts.Dir, FileName), Backup: filepath.Join(opts.Dir, BackupName), Err: err}
	}
	return id, err
}

func wrapKey(id *age.X25519Identity, passphrase []byte, work int) ([]byte, error) {
	r, err := age.NewScryptRecipient(string(passphrase))
	if err != nil {
		return nil, err
	}
	r.SetWorkFactor(work)
	var buf bytes.Buffer
	w, err := age.Encrypt(&buf, r)
	releaseScryptMemory()
	if err != nil {
		return nil, err
	}
	if _, err := io.WriteString(w, id.String()); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// unwrapKey decrypts the vault key wrapped with a passphrase. It fails with
// ErrWrongPassphrase, or with an error in Sesame's words that says why the
// wrapped key is unusable: never age's, which can quote bytes of the file.
func unwrapKey(wrapped, passphrase []byte) (*age.X25519Identity, error) {
	damaged := errors.New("its passphrase-protected key is damaged")
	// Check the work factor before age does, to say why in plain words.
	logN, ok := scryptWorkFactor(wrapped)
	if !ok {
		return nil, damaged
	}
	if logN > maxScryptWorkFactor {
		return nil, fmt.Errorf("its passphrase-protected key asks for more work than Sesame allows (scrypt work factor above %d)", maxScryptWorkFactor)
	}
	si, err := age.NewScryptIdentity(string(passphrase))
	if err != nil {
		return nil, err
	}
	si.SetMaxWorkFactor(maxScryptWorkFactor)
	r, err := age.Decrypt(bytes.NewReader(wrapped), si)
	releaseScryptMemory()
	var noMatch *age.NoIdentityMatchError
	switch {
	case errors.As(err, &noMatch):
		return nil, ErrWrongPassphrase
	case err != nil:
		return nil, damaged
	}
	b, err := io.ReadAll(io.LimitReader(r, 1024))
	if err != nil {
		return nil, damaged
	}
	id, err := age.ParseX25519Identity(string(b))
	if err != nil {
		return nil, errors.New("its passphrase-protected key is not a key")
	}
	return id, nil
}

// scryptWorkFactor reads the work factor of an age file's single scrypt
// stanza ("-> scrypt SALT LOGN" on the second line). ok is false when the
// header has no such line. A work factor too long to parse is returned as
// MaxInt.
func scryptWorkFactor(wrapped []byte) (logN int, ok bool) {
	head := wrapped[:min(len(wrapped), 256)]
	lines := bytes.SplitN(head, []byte("\n"), 3)
	if len(lines) < 3 || string(lines[0]) != "age-encryption.org/v1" {
		return 0, false
	}
	f := strings.Fields(string(lines[1]))
	if len(f) != 4 || f[0] != "->" || f[1] != "scrypt" {
		return 0, false
	}
	for _, c := range f[3] {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	n, err := strconv.Atoi(f[3])
	if err != nil {
		return math.MaxInt, true
	}
	return n, true
}

// keyChanged reports whether b names another vault key than a.
func keyChanged(a, b envelope) bool {
	return a.Store != b.Store || a.KeyringID != b.KeyringID || !bytes.Equal(a.WrappedKey, b.WrappedKey)
}

// releaseScryptMemory gives the memory of a scrypt run (256 MiB at the
// default work factor) back to the OS at once. Without it the Go runtime
// keeps it mapped for minutes, and a terminal UI unlocked with a passphrase
// stays at about 300 MiB resident; with it, at the size of its accounts.
func releaseScryptMemory() { debug.FreeOSMemory() }
