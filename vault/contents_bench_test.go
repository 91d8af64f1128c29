package vault

import (
	"encoding/json"
	"fmt"
	"testing"
)

func benchData(n int) Data {
	d := Data{Accounts: make([]Account, n)}
	for i := range d.Accounts {
		d.Accounts[i] = Account{ID: NewID(), Type: TOTP, Issuer: fmt.Sprintf("Issuer %d", i), Name: fmt.Sprintf("user%d@example.com", i),
			Secret: Secret(fmt.Sprintf("secret-%016d", i)), Algorithm: SHA1, Digits: 6, Period: 30}
	}
	return d
}

// BenchmarkContentsDecode compares, in-process, ways of decoding the
// decrypted contents of 10,000 accounts: version 1's JSON, and version 2's
// binary encoding checked and indexed, then decoded in full (list), or only
// the labels and one account (code).
func BenchmarkContentsDecode(b *testing.B) {
	d := benchData(10000)
	js, _ := json.Marshal(d)
	bin, _ := encodeContents(&d)
	b.Run("json-v1", func(b *testing.B) {
		b.SetBytes(int64(len(js)))
		for range b.N {
			var d Data
			if err := json.Unmarshal(js, &d); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("binary-check", func(b *testing.B) {
		b.SetBytes(int64(len(bin)))
		for range b.N {
			if _, err := parseContents(bin); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("binary-all", func(b *testing.B) {
		b.SetBytes(int64(len(bin)))
		for range b.N {
			c, err := parseContents(bin)
			if err != nil {
				b.Fatal(err)
			}
			_ = c.data()
		}
	})
	b.Run("binary-find", func(b *testing.B) {
		b.SetBytes(int64(len(bin)))
		for range b.N {
			c, err := parseContents(bin)
			if err != nil {
				b.Fatal(err)
			}
			labels := make([][3]string, c.len())
			for i := range labels {
				labels[i][0], labels[i][1], labels[i][2] = c.labels(i)
			}
			i, err := find("Issuer 9999", len(labels), func(i int) (string, string, string) { return labels[i][0], labels[i][1], labels[i][2] })
			if err != nil {
				b.Fatal(err)
			}
			_ = c.account(i)
		}
	})
}

// BenchmarkStuff is unstuffing the payload of a 10,000-account vault.
func BenchmarkUnstuff(b *testing.B) {
	d := benchData(10000)
	bin, _ := encodeContents(&d)
	s := stuff(nil, bin) // plaintext stands in for ciphertext: same size, and what matters is the byte count
	buf := make([]byte, len(s))
	b.SetBytes(int64(len(s)))
	for range b.N {
		copy(buf, s) // unstuff works in place
		if _, ok := unstuff(buf); !ok {
			b.Fatal("unstuff")
		}
	}
}
