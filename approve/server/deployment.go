package server

import (
	"bytes"
	"crypto/ed25519"
	"errors"
	"fmt"

	"github.com/sesame-auth/sesame/approve/sesame"
)

// One signing key per deployment. Every replica reads the same key file
// (docs/deploy.md says why a file and not the database); the store
// remembers the public half, so that a replica started with another key is
// refused instead of signing what paired devices would reject.

const (
	bMeta        = "meta"
	metaKeyField = "server_public_key"
)

// ErrOtherKey is returned by BindKey when the store belongs to another key.
var ErrOtherKey = errors.New("the database belongs to another server key")

// BoundKey returns the public key the store belongs to, or nil for a store
// no server has used yet.
func BoundKey(st Store) (ed25519.PublicKey, error) {
	var pub []byte
	err := st.View(func(tx Tx) error {
		pub = tx.Get(bMeta, metaKeyField)
		return nil
	})
	if len(pub) == 0 {
		return nil, err
	}
	return pub, err
}

// BindKey records pub as the store's key when it has none, and fails with
// ErrOtherKey, naming both fingerprints, when it has another.
func BindKey(st Store, pub ed25519.PublicKey) error {
	return st.Update(func(tx Tx) error {
		old := tx.Get(bMeta, metaKeyField)
		if len(old) == 0 {
			return tx.Put(bMeta, metaKeyField, pub)
		}
		if !bytes.Equal(old, pub) {
			return fmt.Errorf("%w: the database was set up with the key of fingerprint %s, this server's key has %s: give every replica the same server.key",
				ErrOtherKey, sesame.Fingerprint(old), sesame.Fingerprint(pub))
		}
		return nil
	})
}
