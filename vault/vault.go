package vault

// The Vault: opening, creating, reloading and changing it. The file format is
// in format.go, the key wrapping in keywrap.go, atomic writes in atomic.go,
// copies left in the folder in leftovers.go and the lock in lock.go.

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"sync"
	"time"

	"filippo.io/age"
)

// File names inside the vault folder.
const (
	FileName   = "vault.sesame"
	BackupName = "vault.sesame.bak"
)

// Vault is an unlocked vault. Its methods are safe for concurrent use, and
// every change goes through Update, which locks the file against other
// processes and re-reads it before writing.
type Vault struct {
	ctx     context.Context // bounds waits for the lock
	dir     string
	keyring Keyring
	cache   KeyCache // where a passphrase vault's key may be kept; nil: nowhere
	work    int

	mu       sync.Mutex
	identity *age.X25519Identity
	env      envelope
	cont     *contents // as read from the file
	data     *Data     // built from cont on first use, or as written
	stat     fs.FileInfo
}

// Path is the vault file's path.
func (v *Vault) Path() string { return filepath.Join(v.dir, FileName) }

// BackupPath is the path of the previous version of the vault file.
func (v *Vault) BackupPath() string { return filepath.Join(v.dir, BackupName) }

// Dir is the folder that holds the vault.
func (v *Vault) Dir() string { return v.dir }

// Keyring is the keyring this vault uses.
func (v *Vault) Keyring() Keyring { return v.keyring }

// Store says where the vault key lives.
func (v *Vault) Store() StoreKind {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.env.Store
}

// HasRecovery reports whether a keyring vault also has a recovery passphrase.
func (v *Vault) HasRecovery() bool {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.env.Store == StoreKeyring && len(v.env.WrappedKey) > 0
}

// Data returns a deep copy of the vault's contents as last read or written.
func (v *Vault) Data() Data {
	v.mu.Lock()
	defer v.mu.Unlock()
	return v.dataLocked().Clone()
}

// dataLocked returns the vault's contents, decoding them on first use. v.mu
// must be held.
func (v *Vault) dataLocked() *Data {
	if v.data == nil {
		d := v.cont.data()
		if d.Accounts == nil {
			d.Accounts = []Account{}
		}
		v.data, v.cont = &d, nil
	}
	return v.data
}

// Find resolves a user's query to one account by the rules of Data.Find and
// returns a copy of it. Until something needs all of the vault's contents,
// it decodes only what a query matches on (IDs, issuers and names) and the
// account it returns, so that printing one code builds one account.
func (v *Vault) Find(query string) (Account, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.data != nil {
		a, err := v.data.Find(query)
		if err != nil {
			return Account{}, err
		}
		c := *a
		c.Secret = slices.Clone(a.Secret)
		return c, nil
	}
	i, err := find(query, v.cont.len(), v.cont.labels) // labels decodes three fields, in place
	if err != nil {
		return Account{}, err
	}
	return v.cont.account(i), nil
}

func options(opts Options) (Options, error) {
	if opts.Dir == "" {
		d, err := DefaultDir()
		if err != nil {
			return opts, fmt.Errorf("find the vault folder: %w (set SESAME_HOME)", err)
		}
		opts.Dir = d
	}
	if opts.Keyring == nil {
		opts.Keyring = SystemKeyring{}
	}
	if opts.ScryptWorkFactor == 0 {
		opts.ScryptWorkFactor = defaultWorkFactor
	}
	if opts.Context == nil {
		opts.Context = context.Background()
	}
	return opts, nil
}

// Exists reports whether a vault file is present in dir (DefaultDir when empty).
func Exists(dir string) bool {
	o, err := options(Options{Dir: dir})
	if err != nil {
		return false
	}
	_, err = os.Stat(filepath.Join(o.Dir, FileName))
	return err == nil
}

// CanCreate reports why Create would refuse to make a vault in dir
// (DefaultDir when empty): dir is a file, a vault is there already
// (ErrExists), or only copies of one are (ErrBackupOnly). It touches
// neither the folder nor the keyring, so a caller can check the folder
// before it asks anything of the keyring.
func CanCreate(dir string) error {
	o, err := options(Options{Dir: dir})
	if err != nil {
		return err
	}
	return checkNew(o.Dir)
}

// Create makes a new, empty vault. With StoreAuto it uses the OS keyring when
// ProbeKeyring succeeds, fails with its error when the keyring is locked
// (ErrKeyringLocked), and uses a passphrase when there is no working keyring;
// a passphrase vault needs opts.Passphrase. It fails with ErrExists if a vault is already there, and
// with ErrBackupOnly if the vault file is missing but its backup (or another
// copy of a vault) is in the folder, changing nothing on disk. A folder that
// Create makes, or that is empty, is made 0700; one that holds other files
// keeps its mode. The vault's files are 0600, and every write makes them so.
func Create(opts Options, kind StoreKind) (*Vault, error) {
	opts, err := options(opts)
	if err != nil {
		return nil, err
	}
	// The folder first: a keyring prompt or error must not hide a problem
	// there. Checked again under the lock.
	if err := checkNew(opts.Dir); err != nil {
		return nil, err
	}
	if kind == StoreAuto {
		kind = StoreKeyring
		if err := ProbeKeyring(opts.Keyring); errors.Is(err, ErrKeyringLocked) {
			return nil, err
		} else if err != nil {
			kind = StorePassphrase
		}
	}
	if kind == StorePassphrase && len(opts.Passphrase) == 0 {
		return nil, ErrPassphraseRequired
	}
	if kind != StoreKeyring && kind != StorePassphrase {
		return nil, fmt.Errorf("unknown key store %q: use keyring or passphrase", kind)
	}
	// A folder Create makes, or one that holds nothing yet, is the vault's
	// own: make it 0700 whatever the umask or its old mode. A folder that
	// holds the user's other files keeps its mode.
	tighten := folderIsNew(opts.Dir)
	if err := os.MkdirAll(opts.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("create the vault folder: %w", err)
	}
	if tighten && runtime.GOOS != "windows" {
		if err := os.Chmod(opts.Dir, 0o700); err != nil {
			return nil, fmt.Errorf("protect the vault folder: %w", err)
		}
	}
	unlock, err := lock(opts.Context, opts.Dir)
	if err != nil {
		return nil, err
	}
	defer unlock()
	if err := checkNew(opts.Dir); err != nil {
		return nil, err
	}

	id, err := age.GenerateX25519Identity()
	if err != nil {
		return nil, err
	}
	v := &Vault{ctx: opts.Context, dir: opts.Dir, keyring: opts.Keyring, cache: opts.KeyCache, work: opts.ScryptWorkFactor, identity: id}
	v.env = envelope{Format: envelopeFormat, Version: envelopeVersion, Store: kind}
	if kind == StorePassphrase {
		if v.env.WrappedKey, err = wrapKey(id, opts.Passphrase, v.work); err != nil {
			return nil, err
		}
	} else {
		v.env.KeyringID = "vault-" + NewID()
		if err := opts.Keyring.Set(KeyringService, v.env.KeyringID, id.String()); err != nil {
			return nil, fmt.Errorf("%w: %v", ErrKeyringUnavailable, err)
		}
	}
	if placed, err := v.save(v.env, id, Data{Accounts: []Account{}}, false); err != nil {
		if kind == StoreKeyring && !placed {
			_ = opts.Keyring.Delete(KeyringService, v.env.KeyringID)
		}
		return nil, err
	}
	return v, nil
}

// Open reads and decrypts the vault. Keyring vaults fetch their key from the
// keyring (one call); passphrase vaults need opts.Passphrase, and so does a
// keyring vault whose keyring item is gone but that has a recovery passphrase.
// Without a vault file it fails with ErrNoVault; when the backup (or another
// copy of a vault) is in the folder, that error also matches ErrBackupOnly
// and says how to restore it.
func Open(opts Options) (*Vault, error) {
	opts, err := options(opts)
	if err != nil {
		return nil, err
	}
	v := &Vault{ctx: opts.Context, dir: opts.Dir, keyring: opts.Keyring, cache: opts.KeyCache, work: opts.ScryptWorkFactor}
	// A keyring that can connects before the file is read, asks for the
	// key as soon as the header names it, and answers while the rest of the
	// file is decoded.
	var read *KeyRead
	if k, ok := opts.Keyring.(Connector); ok {
		read = k.Connect()
	}
	defer read.Cancel() // unless asked and waited for: a passphrase vault, a damaged file
	env, st, err := v.readEnvelope(func(env envelope) {
		if read != nil && env.Store == StoreKeyring {
			read.Ask(KeyringService, env.KeyringID)
		}
	})
	if err != nil {
		return nil, err
	}
	if id, cont, ok := v.openKept(env); ok {
		v.identity, v.env, v.cont, v.stat = id, env, cont, st
		return v, nil
	}
	if v.identity, err = unlockKey(env, opts, read); err != nil {
		return nil, err
	}
	cont, err := v.decrypt(env, v.identity)
	if err != nil {
		return nil, err
	}
	v.env, v.cont, v.stat = env, cont, st
	return v, nil
}

// Reload re-reads the vault if another process changed it, and reports
// whether it did. It is cheap (one stat) when nothing changed.
func (v *Vault) Reload() (Data, bool, error) {
	// Stat under v.mu, so that a write of our own that lands in between is
	// never mistaken for another process's change.
	v.mu.Lock()
	defer v.mu.Unlock()
	st, err := os.Stat(v.Path())
	if err != nil {
		return v.dataLocked().Clone(), false, fmt.Errorf("read the vault: %w", err)
	}
	if sameFile(v.stat, st) {
		return v.dataLocked().Clone(), false, nil
	}
	if err := v.refreshLocked(); err != nil {
		return v.dataLocked().Clone(), false, err
	}
	return v.dataLocked().Clone(), true, nil
}

func sameFile(a, b fs.FileInfo) bool {
	return a != nil && b != nil && os.SameFile(a, b) && a.Size() == b.Size() && a.ModTime().Equal(b.ModTime())
}

// refreshLocked re-reads the file into v. v.mu must be held.
//
// If another process changed the passphrase, the file names a new vault key
// (see SetPassphrase): a keyring vault fetches it from the keyring; a
// passphrase vault cannot follow without the new passphrase and fails with
// ErrPassphraseChanged.
func (v *Vault) refreshLocked() error {
	env, st, err := v.readEnvelope(nil)
	if err != nil {
		return err
	}
	id := v.identity
	cont, err := v.decrypt(env, id)
	var ce *CorruptError
	if errors.As(err, &ce) && ce.Err == errOtherKey && keyChanged(v.env, env) {
		if env.Store != StoreKeyring {
			return ErrPassphraseChanged
		}
		if id, err = unlockKey(env, Options{Keyring: v.keyring}, nil); err != nil {
			return err
		}
		cont, err = v.decrypt(env, id)
	}
	if err != nil {
		return err
	}
	v.env, v.identity, v.cont, v.data, v.stat = env, id, cont, nil, st
	return nil
}

// Update applies fn to the vault's contents and saves the result. It locks
// the vault against other processes, re-reads the file so that no one's
// change is lost, and writes atomically, keeping the previous version as a
// backup. If fn returns an error, or changes nothing, nothing is written.
func (v *Vault) Update(fn func(*Data) error) (Data, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	unlock, err := lock(v.ctx, v.dir)
	if err != nil {
		return v.dataLocked().Clone(), err
	}
	defer unlock()
	if err := v.refreshLocked(); err != nil {
		return v.dataLocked().Clone(), err
	}
	d := v.dataLocked().Clone()
	if err := fn(&d); err != nil {
		return v.dataLocked().Clone(), err
	}
	if reflect.DeepEqual(d, *v.dataLocked()) {
		// Nothing changed: rewriting would only push the real previous
		// version out of the backup.
		return d, nil
	}
	if err := v.write(d); err != nil {
		return v.dataLocked().Clone(), err
	}
	return v.dataLocked().Clone(), nil
}

// NextHOTP returns the code for an HOTP account's current counter and saves
// the advanced counter before returning it, so a code is never shown twice.
func (v *Vault) NextHOTP(id string) (Code, error) {
	var code Code
	_, err := v.Update(func(d *Data) error {
		a, err := d.Account(id)
		if err != nil {
			return err
		}
		if a.Type != HOTP {
			return fmt.Errorf("%s is not an HOTP account", a.Label())
		}
		if code, err = a.Code(time.Time{}); err != nil {
			return err
		}
		a.Counter++
		return nil
	})
	return code, err
}

// SetPassphrase sets the passphrase that protects the vault key: the
// passphrase of a passphrase vault, or the recovery passphrase of a keyring
// vault. An empty passphrase removes a keyring vault's recovery passphrase.
//
// It rotates the vault key, so that the old passphrase opens neither the new
// file nor its backup: a new key is generated, the contents are encrypted to
// it, it is wrapped with the new passphrase (if any), and the backup is
// replaced by the new version, before the vault file is: a kill between the
// two leaves the old vault, which the old passphrase still opens, with a
// backup that opens with the new one, and never the new vault beside a
// backup the old passphrase opens. A keyring vault's new key goes into a new
// keyring item before the file that names it is written, and the old item is
// deleted afterwards, so a crash at any point leaves a vault that opens.
// Copies of the vault file made earlier (by hand, by backup or sync tools)
// still open with the old passphrase: nothing can change that.
func (v *Vault) SetPassphrase(passphrase []byte) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	unlock, err := lock(v.ctx, v.dir)
	if err != nil {
		return err
	}
	defer unlock()
	if err := v.refreshLocked(); err != nil {
		return err
	}
	if len(passphrase) == 0 && v.env.Store == StorePassphrase {
		return errors.New("a passphrase vault needs a passphrase: give one")
	}
	id, err := age.GenerateX25519Identity()
	if err != nil {
		return err
	}
	env := v.env
	env.WrappedKey = nil
	if len(passphrase) > 0 {
		if env.WrappedKey, err = wrapKey(id, passphrase, v.work); err != nil {
			return err
		}
	}
	oldItem := ""
	if env.Store == StoreKeyring {
		oldItem, env.KeyringID = env.KeyringID, "vault-"+NewID()
		if err := v.keyring.Set(KeyringService, env.KeyringID, id.String()); err != nil {
			return fmt.Errorf("%w (%v); nothing was changed", ErrKeyringUnavailable, err)
		}
	}
	placed, err := v.save(env, id, *v.dataLocked(), true)
	if !placed {
		if env.Store == StoreKeyring {
			_ = v.keyring.Delete(KeyringService, env.KeyringID)
		}
		return err
	}
	v.forgetKept() // the key that 'sesame unlock' kept opens nothing now
	if err != nil {
		// The new file is in place but may not be durable yet: keep the old
		// keyring item, which the old file needs.
		return err
	}
	if oldItem != "" {
		if err := v.keyring.Delete(KeyringService, oldItem); err != nil && !errors.Is(err, ErrKeyringItemNotFound) {
			return fmt.Errorf("the passphrase was changed, but the old vault key could not be removed from the OS keyring (%v): delete the item %s/%s with your keyring manager", err, KeyringService, oldItem)
		}
	}
	return nil
}

// RestoreKeyring puts the vault key back into the OS keyring, for a keyring
// vault that was opened with its recovery passphrase after the item was lost.
func (v *Vault) RestoreKeyring() error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.env.Store != StoreKeyring {
		return errors.New("this vault is protected by a passphrase, not the keyring")
	}
	if err := v.keyring.Set(KeyringService, v.env.KeyringID, v.identity.String()); err != nil {
		return fmt.Errorf("%w (%v)", ErrKeyringUnavailable, err)
	}
	return nil
}

// write encrypts d and replaces the vault file atomically, keeping the
// previous version as the backup. v.mu and the file lock must be held.
func (v *Vault) write(d Data) error {
	_, err := v.save(v.env, v.identity, d, false)
	return err
}

// save encrypts d to id into env and replaces the vault file atomically: a
// temporary file is written and synced, the current file becomes the backup,
// the temporary file is renamed into place and the folder is synced. A crash
// at any point leaves either the old or the new vault in place. With fresh,
// the backup becomes a copy of the new version instead, before the rename,
// for a new key whose old version must not stay behind (see atomicWrite).
// v.mu and the file lock must be held.
//
// Temporary files that writers killed mid-way left behind are removed
// first: each is a whole encrypted copy of an old version, and none can
// belong to a live writer while the lock is held.
//
// placed reports whether the new file was renamed into place, even when a
// later step failed; v then holds env, id and d.
func (v *Vault) save(env envelope, id *age.X25519Identity, d Data, fresh bool) (placed bool, err error) {
	b, err := encodeFile(&env, id, &d)
	if err != nil {
		return false, err
	}
	removeStaleTemps(v.dir)
	placed, err = atomicWrite(v.dir, FileName, BackupName, b, fresh)
	if placed {
		v.env, v.identity, v.cont, v.data = env, id, nil, &d
		v.stat, _ = os.Stat(v.Path()) // nil makes the next Reload re-read
	}
	if err != nil {
		if placed {
			return true, fmt.Errorf("save the vault: %w (the new version is in place; check the folder and try again)", err)
		}
		return false, fmt.Errorf("save the vault: %w (nothing was changed)", err)
	}
	return true, nil
}
