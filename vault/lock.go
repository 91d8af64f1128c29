package vault

// The inter-process lock that serialises writers.

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"time"

	"github.com/gofrs/flock"
)

const (
	lockName    = "vault.lock"
	lockTimeout = 10 * time.Second
)

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
