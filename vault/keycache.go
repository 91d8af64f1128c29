package vault

// Keeping the key of a passphrase vault for a while ('sesame unlock'), so
// that opening it again pays neither the passphrase nor scrypt.

import (
	"errors"
	"path/filepath"
	"time"

	"filippo.io/age"
)

// KeyCache keeps the unwrapped key of a passphrase vault for a while, so
// that opening the vault skips the passphrase and scrypt until then.
// KernelKeyring is the one Sesame uses; tests pass an in-memory one.
type KeyCache interface {
	// Get returns the key kept under name, or an error matching ErrNotKept.
	Get(name string) ([]byte, error)
	// Put keeps key under name for ttl, replacing what was kept there.
	Put(name string, key []byte, ttl time.Duration) error
	// Delete drops the key kept under name; removed says whether there was one.
	Delete(name string) (removed bool, err error)
}

// Errors of a KeyCache.
var (
	// ErrNotKept is matched by KeyCache.Get when no key is kept under the
	// name (never kept, dropped, or expired).
	ErrNotKept = errors.New("no vault key is kept for this session")
	// ErrKeyCacheUnavailable is matched when the key cache cannot be used
	// here: another system than Linux, or a kernel (or container sandbox)
	// that refuses keyrings. The message says why and what to do instead.
	ErrKeyCacheUnavailable = errors.New("the vault key cannot be kept here")
)

// keptName is the name of a vault's kept key: its folder, made absolute.
func keptName(dir string) string {
	if abs, err := filepath.Abs(dir); err == nil {
		dir = abs
	}
	if real, err := filepath.EvalSymlinks(dir); err == nil {
		dir = real
	}
	return "sesame:vault:" + dir
}

// openKept opens a passphrase vault with the key kept in v's cache. ok is
// false when there is none to use: no cache, nothing kept, or a kept key
// that does not open the file (the passphrase was changed in another
// session), which is then dropped. Errors of the cache itself are not the
// caller's concern: the passphrase still opens the vault.
func (v *Vault) openKept(env envelope) (id *age.X25519Identity, c *contents, ok bool) {
	if v.cache == nil || env.Store != StorePassphrase {
		return nil, nil, false
	}
	b, err := v.cache.Get(keptName(v.dir))
	if err != nil {
		return nil, nil, false
	}
	id, err = age.ParseX25519Identity(string(b))
	clear(b)
	if err == nil {
		if c, err = v.decrypt(env, id); err == nil {
			return id, c, true
		}
	}
	_, _ = v.cache.Delete(keptName(v.dir))
	return nil, nil, false
}

// KeepKey keeps the key of this passphrase vault in the vault's KeyCache
// (Options.KeyCache) for ttl: until then Open needs no passphrase, in this
// session only. Anything running as the same user in the same session can
// read it, as with ssh-agent. SetPassphrase and ForgetKey drop it.
func (v *Vault) KeepKey(ttl time.Duration) error {
	v.mu.Lock()
	defer v.mu.Unlock()
	if v.env.Store != StorePassphrase {
		return errors.New("this vault's key is in the OS keyring: it opens without a passphrase already, so there is nothing to unlock")
	}
	if v.cache == nil {
		return ErrKeyCacheUnavailable
	}
	if ttl < time.Second {
		return errors.New("keep the key for a second or more")
	}
	b := []byte(v.identity.String())
	defer clear(b)
	return v.cache.Put(keptName(v.dir), b, ttl)
}

// forgetKept drops the key kept for this vault, if any: its key changed.
func (v *Vault) forgetKept() {
	if v.cache != nil {
		_, _ = v.cache.Delete(keptName(v.dir))
	}
}

// ForgetKey drops the key of the vault in opts.Dir from opts.KeyCache, so
// that opening it needs the passphrase again. removed says whether a key
// was kept. It reads no file.
func ForgetKey(opts Options) (removed bool, err error) {
	opts, err = options(opts)
	if err != nil {
		return false, err
	}
	if opts.KeyCache == nil {
		return false, ErrKeyCacheUnavailable
	}
	return opts.KeyCache.Delete(keptName(opts.Dir))
}

// CheckKeyCache reports why opts.KeyCache cannot keep a key here, before
// anyone is asked for a passphrase: an error matching ErrKeyCacheUnavailable.
func CheckKeyCache(opts Options) error {
	opts, err := options(opts)
	if err != nil {
		return err
	}
	if opts.KeyCache == nil {
		return ErrKeyCacheUnavailable
	}
	if _, err := opts.KeyCache.Get(keptName(opts.Dir)); err != nil && !errors.Is(err, ErrNotKept) {
		return err
	}
	return nil
}
