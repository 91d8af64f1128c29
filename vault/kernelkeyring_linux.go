package vault

import (
	"errors"
	"fmt"
	"time"

	"golang.org/x/sys/unix"
)

// KernelKeyring is a KeyCache in the Linux kernel's session keyring (@s):
// no daemon, and the key ends with the login session (an SSH login, say)
// or at its timeout, whichever comes first. Keys are "user" keys readable
// only by processes that possess them, that is by processes in the same
// session. Where the login set up no session keyring, the kernel uses the
// user's default session keyring, shared by all of the user's processes
// that have no session keyring of their own.
type KernelKeyring struct{}

// Permissions of a kept key: the possessor (a process of the session) may
// do anything with it; the user otherwise may only see that it exists.
const keptKeyPerm = 0x3f010000 // possessor: view, read, write, search, link, setattr; user: view

// session returns the id of the session keyring, without making a new one:
// a key added to a session keyring made now would die with this process.
func (KernelKeyring) session() (int, error) {
	id, err := unix.KeyctlGetKeyringID(unix.KEY_SPEC_SESSION_KEYRING, false)
	if err != nil {
		return 0, kernelRefused("find the session keyring", err)
	}
	return id, nil
}

// find returns the id of the key kept under name, or ErrNotKept.
func (k KernelKeyring) find(name string) (int, error) {
	ring, err := k.session()
	if err != nil {
		return 0, err
	}
	id, err := unix.KeyctlSearch(ring, "user", name, 0)
	switch {
	case errors.Is(err, unix.ENOKEY), errors.Is(err, unix.EKEYEXPIRED), errors.Is(err, unix.EKEYREVOKED):
		return 0, ErrNotKept
	case err != nil:
		return 0, kernelRefused("search the session keyring", err)
	}
	return id, nil
}

// Get implements KeyCache.
func (k KernelKeyring) Get(name string) ([]byte, error) {
	id, err := k.find(name)
	if err != nil {
		return nil, err
	}
	buf := make([]byte, 256)
	for {
		n, err := unix.KeyctlBuffer(unix.KEYCTL_READ, id, buf, 0)
		switch {
		case errors.Is(err, unix.EKEYEXPIRED), errors.Is(err, unix.EKEYREVOKED), errors.Is(err, unix.ENOKEY):
			return nil, ErrNotKept // it expired or was dropped since the search
		case err != nil:
			return nil, kernelRefused("read the kept key", err)
		case n > len(buf):
			clear(buf)
			buf = make([]byte, n)
			continue
		}
		out := make([]byte, n)
		copy(out, buf[:n])
		clear(buf)
		return out, nil
	}
}

// Put implements KeyCache. The key gets its timeout right after it is added.
func (k KernelKeyring) Put(name string, key []byte, ttl time.Duration) error {
	ring, err := k.session()
	if err != nil {
		return err
	}
	id, err := unix.AddKey("user", name, key, ring)
	if err != nil {
		return kernelRefused("add the key to the session keyring", err)
	}
	secs := int((ttl + time.Second - 1) / time.Second)
	if err := unix.KeyctlSetperm(id, keptKeyPerm); err != nil {
		k.drop(id, ring)
		return kernelRefused("restrict the kept key", err)
	}
	if _, err := unix.KeyctlInt(unix.KEYCTL_SET_TIMEOUT, id, secs, 0, 0); err != nil {
		k.drop(id, ring)
		return kernelRefused("set the kept key's timeout", err)
	}
	return nil
}

// Delete implements KeyCache.
func (k KernelKeyring) Delete(name string) (bool, error) {
	id, err := k.find(name)
	if errors.Is(err, ErrNotKept) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	ring, err := k.session()
	if err != nil {
		return false, err
	}
	return true, k.drop(id, ring)
}

// drop makes a key unusable at once: invalidated (or, on kernels before
// 3.5, revoked) and unlinked.
func (KernelKeyring) drop(id, ring int) error {
	_, err := unix.KeyctlInt(unix.KEYCTL_INVALIDATE, id, 0, 0, 0)
	if errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EINVAL) {
		_, err = unix.KeyctlInt(unix.KEYCTL_REVOKE, id, 0, 0, 0)
	}
	_, _ = unix.KeyctlInt(unix.KEYCTL_UNLINK, id, ring, 0, 0)
	if err != nil && !errors.Is(err, unix.EKEYREVOKED) && !errors.Is(err, unix.EKEYEXPIRED) && !errors.Is(err, unix.ENOKEY) {
		return kernelRefused("drop the kept key", err)
	}
	return nil
}

// kernelRefused says that the kernel keyring cannot be used, and why.
func kernelRefused(what string, err error) error {
	why := "the kernel keyring failed"
	switch {
	case errors.Is(err, unix.ENOSYS):
		why = "this kernel has no keyrings"
	case errors.Is(err, unix.EPERM), errors.Is(err, unix.EACCES):
		why = "the kernel refuses keyrings here (container sandboxes often block them)"
	case errors.Is(err, unix.EDQUOT):
		why = "the kernel keyring quota of this user is full"
	}
	return fmt.Errorf("%w: %s (%s: %v); give the passphrase to each command instead (SESAME_PASSPHRASE or --passphrase-file)", ErrKeyCacheUnavailable, why, what, err)
}
