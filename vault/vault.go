package vault

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"filippo.io/age"
	"github.com/gofrs/flock"
)

// File names inside the vault folder.
const (
	FileName   = "vault.sesame"
	BackupName = "vault.sesame.bak"
	lockName   = "vault.lock"

	// KeyringService is the service name of the vault's keyring item.
	KeyringService = "sesame"

	envelopeFormat  = "sesame-vault"
	envelopeVersion = 1

	maxFileSize         = 64 << 20 // far above 1,000 accounts; refuse anything bigger as damaged
	maxScryptWorkFactor = 22       // what we accept from a file: about 4 s and 4 GiB at most
	defaultWorkFactor   = 18
	lockTimeout         = 10 * time.Second
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

// Vault is an unlocked vault. Its methods are safe for concurrent use, and
// every change goes through Update, which locks the file against other
// processes and re-reads it before writing.
type Vault struct {
	dir     string
	keyring Keyring
	work    int

	mu       sync.Mutex
	identity *age.X25519Identity
	env      envelope
	data     Data
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
	return v.data.Clone()
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
	// Check before touching the folder, and again under the lock.
	if err := checkNew(opts.Dir); err != nil {
		return nil, err
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
	unlock, err := lock(opts.Dir)
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
	v := &Vault{dir: opts.Dir, keyring: opts.Keyring, work: opts.ScryptWorkFactor, identity: id}
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

// folderIsNew reports whether dir is missing or holds nothing but a lock file.
func folderIsNew(dir string) bool {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return true
	}
	if err != nil {
		return false
	}
	for _, e := range entries {
		if e.Name() != lockName {
			return false
		}
	}
	return true
}

// checkNew returns why a new vault cannot be made in dir: one is there
// already, or copies of one are.
func checkNew(dir string) error {
	if _, err := os.Lstat(filepath.Join(dir, FileName)); err == nil {
		return fmt.Errorf("%w: %s", ErrExists, dir)
	}
	if names := leftovers(dir); len(names) > 0 {
		return &backupOnlyError{dir: dir, names: names}
	}
	return nil
}

// tempPrefix starts the names of the temporary files of vault writes.
const tempPrefix = "." + FileName + ".tmp-"

// leftovers lists the copies of a vault in dir: its backup, a backup being
// made, and temporary files of writes that were interrupted.
func leftovers(dir string) []string {
	var names []string
	for _, n := range []string{BackupName, BackupName + ".tmp"} {
		if _, err := os.Lstat(filepath.Join(dir, n)); err == nil {
			names = append(names, n)
		}
	}
	temps, _ := filepath.Glob(filepath.Join(dir, tempPrefix+"*"))
	for _, p := range temps {
		names = append(names, filepath.Base(p))
	}
	return names
}

// backupOnlyError says that the vault file is missing but copies of it are
// in its folder, and how to restore it.
type backupOnlyError struct {
	dir   string
	names []string // leftovers(dir), backups first
	open  bool     // from Open: matches ErrNoVault too
}

func (e *backupOnlyError) Error() string {
	if n := e.names[0]; n == BackupName || n == BackupName+".tmp" {
		return fmt.Sprintf("%s is missing but its previous version %s is in %s: copy it to %s to restore it, or move it away to start a new vault", FileName, n, e.dir, FileName)
	}
	return fmt.Sprintf("%s is missing but %s holds copies of a vault left by interrupted saves (%s): rename the newest to %s to try to restore it, or move them away to start a new vault", FileName, e.dir, strings.Join(e.names, ", "), FileName)
}

// Is matches ErrBackupOnly, and ErrNoVault for Open's error.
func (e *backupOnlyError) Is(target error) bool {
	return target == ErrBackupOnly || (e.open && target == ErrNoVault)
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
	v := &Vault{dir: opts.Dir, keyring: opts.Keyring, work: opts.ScryptWorkFactor}
	env, st, err := v.readEnvelope()
	if err != nil {
		return nil, err
	}
	if v.identity, err = unlockKey(env, opts); err != nil {
		return nil, err
	}
	data, err := v.decrypt(env, v.identity)
	if err != nil {
		return nil, err
	}
	v.env, v.data, v.stat = env, data, st
	return v, nil
}

func unlockKey(env envelope, opts Options) (*age.X25519Identity, error) {
	if env.Store == StoreKeyring {
		s, err := opts.Keyring.Get(KeyringService, env.KeyringID)
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

// Reload re-reads the vault if another process changed it, and reports
// whether it did. It is cheap (one stat) when nothing changed.
func (v *Vault) Reload() (Data, bool, error) {
	// Stat under v.mu, so that a write of our own that lands in between is
	// never mistaken for another process's change.
	v.mu.Lock()
	defer v.mu.Unlock()
	st, err := os.Stat(v.Path())
	if err != nil {
		return v.data.Clone(), false, fmt.Errorf("read the vault: %w", err)
	}
	if sameFile(v.stat, st) {
		return v.data.Clone(), false, nil
	}
	if err := v.refreshLocked(); err != nil {
		return v.data.Clone(), false, err
	}
	return v.data.Clone(), true, nil
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
	env, st, err := v.readEnvelope()
	if err != nil {
		return err
	}
	id := v.identity
	data, err := v.decrypt(env, id)
	var ce *CorruptError
	if errors.As(err, &ce) && ce.Err == errOtherKey && keyChanged(v.env, env) {
		if env.Store != StoreKeyring {
			return ErrPassphraseChanged
		}
		if id, err = unlockKey(env, Options{Keyring: v.keyring}); err != nil {
			return err
		}
		data, err = v.decrypt(env, id)
	}
	if err != nil {
		return err
	}
	v.env, v.identity, v.data, v.stat = env, id, data, st
	return nil
}

// keyChanged reports whether b names another vault key than a.
func keyChanged(a, b envelope) bool {
	return a.Store != b.Store || a.KeyringID != b.KeyringID || !bytes.Equal(a.WrappedKey, b.WrappedKey)
}

// Update applies fn to the vault's contents and saves the result. It locks
// the vault against other processes, re-reads the file so that no one's
// change is lost, and writes atomically, keeping the previous version as a
// backup. If fn returns an error, or changes nothing, nothing is written.
func (v *Vault) Update(fn func(*Data) error) (Data, error) {
	v.mu.Lock()
	defer v.mu.Unlock()
	unlock, err := lock(v.dir)
	if err != nil {
		return v.data.Clone(), err
	}
	defer unlock()
	if err := v.refreshLocked(); err != nil {
		return v.data.Clone(), err
	}
	d := v.data.Clone()
	if err := fn(&d); err != nil {
		return v.data.Clone(), err
	}
	if reflect.DeepEqual(d, v.data) {
		// Nothing changed: rewriting would only push the real previous
		// version out of the backup.
		return d, nil
	}
	if err := v.write(d); err != nil {
		return v.data.Clone(), err
	}
	return v.data.Clone(), nil
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
// replaced by the new version. A keyring vault's new key goes into a new
// keyring item before the file that names it is written, and the old item is
// deleted afterwards, so a crash at any point leaves a vault that opens.
// Copies of the vault file made earlier (by hand, by backup or sync tools)
// still open with the old passphrase: nothing can change that.
func (v *Vault) SetPassphrase(passphrase []byte) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	unlock, err := lock(v.dir)
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
	placed, err := v.save(env, id, v.data, true)
	if !placed {
		if env.Store == StoreKeyring {
			_ = v.keyring.Delete(KeyringService, env.KeyringID)
		}
		return err
	}
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
// the backup becomes a copy of the new version instead (after the rename),
// for a new key whose old version must not stay behind. v.mu and the file
// lock must be held.
//
// Temporary files that writers killed mid-way left behind are removed
// first: each is a whole encrypted copy of an old version, and none can
// belong to a live writer while the lock is held.
//
// placed reports whether the new file was renamed into place, even when a
// later step failed; v then holds env, id and d.
func (v *Vault) save(env envelope, id *age.X25519Identity, d Data, fresh bool) (placed bool, err error) {
	plain, err := json.Marshal(d)
	if err != nil {
		return false, err
	}
	var ct bytes.Buffer
	w, err := age.Encrypt(&ct, id.Recipient())
	if err != nil {
		return false, err
	}
	if _, err := w.Write(plain); err != nil {
		return false, err
	}
	if err := w.Close(); err != nil {
		return false, err
	}
	env.Data = ct.Bytes()
	b, err := json.MarshalIndent(env, "", "  ")
	if err != nil {
		return false, err
	}
	removeStaleTemps(v.dir)
	placed, err = atomicWrite(v.dir, FileName, BackupName, b, fresh)
	if placed {
		v.env, v.identity, v.data = env, id, d
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

// removeStaleTemps removes the temporary files of interrupted vault writes
// from dir. The file lock must be held. A file that cannot be removed is left
// for the next write: it does not stop this one.
func removeStaleTemps(dir string) {
	temps, _ := filepath.Glob(filepath.Join(dir, tempPrefix+"*"))
	for _, p := range temps {
		_ = os.Remove(p)
	}
}

// WriteFile writes data to path atomically with mode 0600: a temporary
// file in the same folder is written and synced, renamed over path, and the
// folder is synced. Readers see the old file or the new one, never a part.
func WriteFile(path string, data []byte) error {
	tmp, err := writeTemp(filepath.Dir(path), filepath.Base(path), data)
	if err != nil {
		return err
	}
	defer os.Remove(tmp) // a no-op once renamed
	if err := os.Rename(tmp, path); err != nil {
		return err
	}
	return syncDir(filepath.Dir(path))
}

// writeTemp writes data to a new synced 0600 file beside name in dir and
// returns its path.
func writeTemp(dir, name string, data []byte) (string, error) {
	tmp, err := os.CreateTemp(dir, "."+name+".tmp-*")
	if err != nil {
		return "", err
	}
	err = tmp.Chmod(0o600)
	if runtime.GOOS == "windows" {
		err = nil // Windows has no Unix modes; the folder's ACL protects the file
	}
	if err == nil {
		_, err = tmp.Write(data)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		os.Remove(tmp.Name())
		return "", err
	}
	return tmp.Name(), nil
}

// atomicWrite replaces dir/name with b like WriteFile, keeping the
// previous file as dir/backup, or with fresh a copy of the new one. placed
// reports whether the new file was renamed into place.
func atomicWrite(dir, name, backup string, b []byte, fresh bool) (placed bool, err error) {
	tmp, err := writeTemp(dir, name, b)
	if err != nil {
		return false, err
	}
	defer os.Remove(tmp) // a no-op once renamed
	path := filepath.Join(dir, name)
	if _, err := os.Stat(path); err == nil && !fresh {
		if err := keepBackup(path, filepath.Join(dir, backup)); err != nil {
			return false, err
		}
	}
	if err := os.Rename(tmp, path); err != nil {
		return false, err
	}
	if fresh {
		if err := keepBackup(path, filepath.Join(dir, backup)); err != nil {
			return true, err
		}
	}
	return true, syncDir(dir)
}

// keepBackup makes bak a hard link to (or a copy of) path. The link is made
// under a temporary name and renamed, so the backup too is always whole. The
// file is made 0600 first (it may have been copied in with a looser mode),
// or copied to a new 0600 file if that fails.
func keepBackup(path, bak string) error {
	bakTmp := bak + ".tmp"
	_ = os.Remove(bakTmp)
	err := os.Chmod(path, 0o600)
	if runtime.GOOS == "windows" {
		err = nil // no Unix modes: the folder's ACL protects the file
	}
	if err == nil {
		err = os.Link(path, bakTmp)
	}
	if err != nil {
		if err := copyFile(path, bakTmp); err != nil {
			return fmt.Errorf("keep a backup: %w", err)
		}
	}
	if err := os.Rename(bakTmp, bak); err != nil {
		return fmt.Errorf("keep a backup: %w", err)
	}
	return nil
}

func copyFile(src, dst string) error {
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func syncDir(dir string) error {
	if runtime.GOOS == "windows" {
		return nil // Windows cannot fsync a folder; NTFS journals the rename
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// lock takes the vault's inter-process lock, waiting up to lockTimeout.
func lock(dir string) (func(), error) {
	fl := flock.New(filepath.Join(dir, lockName))
	ctx, cancel := context.WithTimeout(context.Background(), lockTimeout)
	defer cancel()
	ok, err := fl.TryLockContext(ctx, 20*time.Millisecond)
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return nil, fmt.Errorf("lock the vault: %w", err)
	}
	if !ok {
		return nil, fmt.Errorf("%w: waited %s; try again once it has finished", ErrLocked, lockTimeout)
	}
	return func() { _ = fl.Unlock() }, nil
}
