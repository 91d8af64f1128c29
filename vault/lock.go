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

// lock takes the vault's inter-process lock, waiting up to lockTimeout, or
// until ctx is done: then it fails with ctx's error, having changed nothing.
func lock(ctx context.Context, dir string) (func(), error) {
	fl := flock.New(filepath.Join(dir, lockName))
	wait, cancel := context.WithTimeout(ctx, lockTimeout)
	defer cancel()
	ok, err := fl.TryLockContext(wait, 20*time.Millisecond)
	if ctx.Err() != nil {
		return nil, fmt.Errorf("stopped waiting for another Sesame process to finish writing the vault: %w", context.Cause(ctx))
	}
	if err != nil && !errors.Is(err, context.DeadlineExceeded) {
		return nil, fmt.Errorf("lock the vault: %w", err)
	}
	if !ok {
		return nil, fmt.Errorf("%w: waited %s; try again once it has finished", ErrLocked, lockTimeout)
	}
	if ctx.Err() != nil { // done just as the lock was taken
		_ = fl.Unlock()
		return nil, fmt.Errorf("stopped waiting for another Sesame process to finish writing the vault: %w", context.Cause(ctx))
	}
	return func() { _ = fl.Unlock() }, nil
}
