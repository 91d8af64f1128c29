package vault_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/vault"
	"github.com/sesame-auth/sesame/vault/vaulttest"
)

func manyAccounts(n int) []vault.Account {
	out := make([]vault.Account, n)
	for i := range out {
		out[i] = vaulttest.Account(fmt.Sprintf("Issuer %d", i), fmt.Sprintf("user%d@example.com", i))
		out[i].Secret = []byte(fmt.Sprintf("secret-%016d", i))
	}
	return out
}

// BenchmarkOpen is opening a keyring vault (one call to an in-memory
// keyring, read, decrypt, check) and decoding every account: what 'sesame
// list' does in the vault, in-process.
func BenchmarkOpen(b *testing.B) {
	for _, n := range []int{10, 1000, 10000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			v := vaulttest.New(b, manyAccounts(n)...)
			o := vault.Options{Dir: v.Dir(), Keyring: v.Keyring()}
			b.ResetTimer()
			for range b.N {
				v, err := vault.Open(o)
				if err != nil {
					b.Fatal(err)
				}
				_ = v.Data()
			}
		})
	}
}

// BenchmarkFind is opening a keyring vault (in-memory keyring) and resolving
// a query to one account, decoding only the labels and that account: what
// 'sesame code NAME' does in the vault, in-process.
func BenchmarkFind(b *testing.B) {
	for _, n := range []int{1000, 10000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			v := vaulttest.New(b, manyAccounts(n)...)
			o := vault.Options{Dir: v.Dir(), Keyring: v.Keyring()}
			query := fmt.Sprintf("user%d@example.com", n/2)
			b.ResetTimer()
			for range b.N {
				v, err := vault.Open(o)
				if err != nil {
					b.Fatal(err)
				}
				if _, err := v.Find(query); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkUpdate is one locked, re-read, atomic write (with fsyncs) of a vault.
func BenchmarkUpdate(b *testing.B) {
	for _, n := range []int{10, 1000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			v := vaulttest.New(b, manyAccounts(n)...)
			b.ResetTimer()
			for i := range b.N {
				if _, err := v.Update(func(d *vault.Data) error {
					d.Accounts[0].Counter = uint64(i)
					return nil
				}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkCodes is computing the current code of 1,000 accounts.
func BenchmarkCodes(b *testing.B) {
	accts := manyAccounts(1000)
	for i := range accts {
		accts[i].Normalize()
	}
	now := time.Unix(1700000000, 0)
	b.ResetTimer()
	for range b.N {
		for i := range accts {
			if _, err := accts[i].Code(now); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkPassphraseUnlock is unwrapping the vault key with the default
// scrypt work factor (2^18), the cost of opening a passphrase vault.
func BenchmarkPassphraseUnlock(b *testing.B) {
	o := vaulttest.Options(b)
	o.Passphrase = []byte("pw")
	o.ScryptWorkFactor = 18
	if _, err := vault.Create(o, vault.StorePassphrase); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		if _, err := vault.Open(o); err != nil {
			b.Fatal(err)
		}
	}
}
