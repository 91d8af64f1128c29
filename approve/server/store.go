package server

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	bolt "go.etcd.io/bbolt"
)

// Store is the server's transactional key-value storage. Bucket and key
// names are the server's own; values are opaque bytes. OpenBolt is the
// persistent default and NewMemoryStore is for tests.
type Store interface {
	// Update runs fn in a read-write transaction: all of fn's writes happen, or
	// none when fn returns an error. Updates are serialised.
	Update(fn func(Tx) error) error
	// View runs fn in a read-only transaction.
	View(fn func(Tx) error) error
	// Close releases the store.
	Close() error
}

// Tx is one transaction on a Store. Returned values must not be modified.
type Tx interface {
	Get(bucket, key string) []byte
	Put(bucket, key string, value []byte) error
	Delete(bucket, key string) error
	// Scan calls fn for each key with the prefix, in key order.
	Scan(bucket, prefix string, fn func(key string, value []byte) error) error
}

// ErrReadOnly is returned by writes inside View.
var ErrReadOnly = errors.New("write in a read-only transaction")

var buckets = []string{bTokens, bDevices, bUserDevices, bRequests, bUsers, bMeta}

const (
	bTokens      = "tokens"
	bDevices     = "devices"
	bUserDevices = "user_devices"
	bRequests    = "requests"
	bUsers       = "users"
)

// memoryStore keeps everything in maps; it is lost on exit.
type memoryStore struct {
	mu sync.RWMutex
	m  map[string]map[string][]byte
}

// NewMemoryStore returns a Store that lives in memory, for tests.
func NewMemoryStore() Store {
	s := &memoryStore{m: map[string]map[string][]byte{}}
	for _, b := range buckets {
		s.m[b] = map[string][]byte{}
	}
	return s
}

type undo struct {
	bucket, key string
	old         []byte
	existed     bool
}

type memTx struct {
	s        *memoryStore
	writable bool
	log      []undo
}

func (s *memoryStore) Update(fn func(Tx) error) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	tx := &memTx{s: s, writable: true}
	if err := fn(tx); err != nil {
		for i := len(tx.log) - 1; i >= 0; i-- {
			u := tx.log[i]
			if u.existed {
				s.m[u.bucket][u.key] = u.old
			} else {
				delete(s.m[u.bucket], u.key)
			}
		}
		return err
	}
	return nil
}

func (s *memoryStore) View(fn func(Tx) error) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return fn(&memTx{s: s})
}

func (s *memoryStore) Close() error { return nil }

func (t *memTx) bucket(b string) (map[string][]byte, error) {
	m, ok := t.s.m[b]
	if !ok {
		return nil, fmt.Errorf("no bucket %q", b)
	}
	return m, nil
}

func (t *memTx) Get(b, k string) []byte {
	m, err := t.bucket(b)
	if err != nil {
		return nil
	}
	return m[k]
}

func (t *memTx) Put(b, k string, v []byte) error {
	if !t.writable {
		return ErrReadOnly
	}
	m, err := t.bucket(b)
	if err != nil {
		return err
	}
	old, existed := m[k]
	t.log = append(t.log, undo{b, k, old, existed})
	m[k] = slices.Clone(v)
	return nil
}

func (t *memTx) Delete(b, k string) error {
	if !t.writable {
		return ErrReadOnly
	}
	m, err := t.bucket(b)
	if err != nil {
		return err
	}
	if old, existed := m[k]; existed {
		t.log = append(t.log, undo{b, k, old, true})
		delete(m, k)
	}
	return nil
}

func (t *memTx) Scan(b, prefix string, fn func(string, []byte) error) error {
	m, err := t.bucket(b)
	if err != nil {
		return err
	}
	var keys []string
	for k := range m {
		if strings.HasPrefix(k, prefix) {
			keys = append(keys, k)
		}
	}
	slices.Sort(keys)
	for _, k := range keys {
		if err := fn(k, m[k]); err != nil {
			return err
		}
	}
	return nil
}

// boltStore keeps everything in one bbolt file.
type boltStore struct{ db *bolt.DB }

// OpenBolt opens (creating if needed) a persistent Store in the bbolt file
// at path, with mode 0600. Another process holding it makes this fail after
// a few seconds instead of waiting forever.
func OpenBolt(path string) (Store, error) {
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: 3 * time.Second})
	if err != nil {
		return nil, fmt.Errorf("opening the server database %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, b := range buckets {
			if _, err := tx.CreateBucketIfNotExists([]byte(b)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		db.Close()
		return nil, fmt.Errorf("opening the server database %s: %w", path, err)
	}
	return &boltStore{db: db}, nil
}

type boltTx struct{ tx *bolt.Tx }

func (s *boltStore) Update(fn func(Tx) error) error {
	return s.db.Update(func(tx *bolt.Tx) error { return fn(boltTx{tx}) })
}

func (s *boltStore) View(fn func(Tx) error) error {
	return s.db.View(func(tx *bolt.Tx) error { return fn(boltTx{tx}) })
}

func (s *boltStore) Close() error { return s.db.Close() }

func (t boltTx) Get(b, k string) []byte {
	bk := t.tx.Bucket([]byte(b))
	if bk == nil {
		return nil
	}
	return slices.Clone(bk.Get([]byte(k)))
}

func (t boltTx) Put(b, k string, v []byte) error {
	bk := t.tx.Bucket([]byte(b))
	if bk == nil {
		return fmt.Errorf("no bucket %q", b)
	}
	return bk.Put([]byte(k), v)
}

func (t boltTx) Delete(b, k string) error {
	bk := t.tx.Bucket([]byte(b))
	if bk == nil {
		return fmt.Errorf("no bucket %q", b)
	}
	return bk.Delete([]byte(k))
}

func (t boltTx) Scan(b, prefix string, fn func(string, []byte) error) error {
	bk := t.tx.Bucket([]byte(b))
	if bk == nil {
		return fmt.Errorf("no bucket %q", b)
	}
	c := bk.Cursor()
	p := []byte(prefix)
	for k, v := c.Seek(p); k != nil && strings.HasPrefix(string(k), prefix); k, v = c.Next() {
		if err := fn(string(k), slices.Clone(v)); err != nil {
			return err
		}
	}
	return nil
}
