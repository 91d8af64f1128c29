//go:build !linux

package vault

import (
	"fmt"
	"runtime"
	"time"
)

// KernelKeyring is the Linux kernel keyring, which only Linux has: here
// every call fails with an error matching ErrKeyCacheUnavailable.
type KernelKeyring struct{}

func unavailable() error {
	return fmt.Errorf("%w: 'sesame unlock' keeps the vault key in the Linux kernel keyring, which %s does not have; use a keyring vault (the desktop keyring opens it without a passphrase)", ErrKeyCacheUnavailable, runtime.GOOS)
}

// Get implements KeyCache.
func (KernelKeyring) Get(string) ([]byte, error) { return nil, unavailable() }

// Put implements KeyCache.
func (KernelKeyring) Put(string, []byte, time.Duration) error { return unavailable() }

// Delete implements KeyCache.
func (KernelKeyring) Delete(string) (bool, error) { return false, unavailable() }
