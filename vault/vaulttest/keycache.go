package vaulttest

import (
	"sync"
	"time"

	"github.com/sesame-auth/sesame/vault"
)

// KeyCache is an in-memory vault.KeyCache. Keys do not expire (the kernel
// keyring's timeouts are tested with the kernel); Err makes every call fail.
type KeyCache struct {
	mu   sync.Mutex
	keys map[string][]byte
	// TTLs holds the ttl each key was last kept for.
	TTLs map[string]time.Duration
	// Err, when set, is returned by every call.
	Err error
}

// NewKeyCache returns an empty working key cache.
func NewKeyCache() *KeyCache {
	return &KeyCache{keys: map[string][]byte{}, TTLs: map[string]time.Duration{}}
}

// Get implements vault.KeyCache.
func (c *KeyCache) Get(name string) ([]byte, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.Err != nil {
		return nil, c.Err
	}
	k, ok := c.keys[name]
	if !ok {
		return nil, vault.ErrNotKept
	}
	return append([]byte(nil), k...), nil
}

// Put implements vault.KeyCache.
func (c *KeyCache) Put(name string, key []byte, ttl time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.Err != nil {
		return c.Err
	}
	c.keys[name] = append([]byte(nil), key...)
	c.TTLs[name] = ttl
	return nil
}

// Delete implements vault.KeyCache.
func (c *KeyCache) Delete(name string) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.Err != nil {
		return false, c.Err
	}
	_, ok := c.keys[name]
	delete(c.keys, name)
	return ok, nil
}

// Len is the number of keys kept.
func (c *KeyCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.keys)
}

// Replace swaps every kept key for key, as a key kept before a passphrase
// change made in another session would be.
func (c *KeyCache) Replace(key []byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for n := range c.keys {
		c.keys[n] = append([]byte(nil), key...)
	}
}
