package vault

import (
	"bytes"
	"encoding/json"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"
)

func TestStuffRoundTrip(t *testing.T) {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	random := make([]byte, 1<<16)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range random {
		random[i] = byte(rng.Uint32())
	}
	for name, p := range map[string][]byte{"every byte": all, "random": random, "empty": {}} {
		s := stuff(nil, p)
		if bytes.IndexByte(s, '"') >= 0 || bytes.IndexByte(s, '\\') >= 0 {
			t.Errorf("%s: stuffed bytes hold a quote or backslash", name)
		}
		if !json.Valid(append(append([]byte(`"`), s...), '"')) {
			t.Errorf("%s: stuffed bytes are not a valid JSON string", name)
		}
		if back, ok := unstuff(s); !ok || !bytes.Equal(back, p) {
			t.Errorf("%s: unstuff(stuff(p)) != p (ok %v)", name, ok)
		}
	}
	for _, bad := range []string{"\n", "=", "=A", "=\xff", "a\\b", "\x00"} {
		if _, ok := unstuff([]byte(bad)); ok {
			t.Errorf("unstuff(%q) accepted what stuff never writes", bad)
		}
	}
}

func sampleData() Data {
	added := time.Date(2026, 11, 30, 12, 0, 0, 5, time.UTC)
	return Data{
		Accounts: []Account{
			{ID: "a", Type: TOTP, Issuer: "Example", Name: "alice", Secret: Secret("12345678901234567890"), Algorithm: SHA1, Digits: 6, Period: 30, Pinned: true, Added: added},
			{ID: "b", Type: HOTP, Name: "no issuer ✓", Secret: Secret{0, 1, 2}, Algorithm: SHA512, Digits: 8, Counter: 1 << 40},
			{ID: "c", Type: Steam, Issuer: "Steam", Secret: Secret("x"), Algorithm: SHA1, Digits: 5, Period: 30, Added: time.Unix(-5, 0).UTC()},
		},
		Pairings: []Pairing{{ID: "p", Provider: "sesame", Server: "https://x", User: "u", DeviceKey: Secret("k"), Params: map[string]string{"a": "b"}}},
		History:  []Event{{PairingID: "p", RequestID: "r", Decision: "approved", At: added}},
	}
}

func TestContentsRoundTrip(t *testing.T) {
	for name, d := range map[string]Data{"sample": sampleData(), "empty": {Accounts: []Account{}}} {
		b, err := encodeContents(&d)
		if err != nil {
			t.Fatal(err)
		}
		c, err := parseContents(b)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if got := c.data(); !reflect.DeepEqual(got, d) {
			t.Fatalf("%s: round trip:\n got %+v\nwant %+v", name, got, d)
		}
		for i := range d.Accounts {
			if id, issuer, n := c.labels(i); id != d.Accounts[i].ID || issuer != d.Accounts[i].Issuer || n != d.Accounts[i].Name {
				t.Errorf("%s: labels(%d) = %q %q %q", name, i, id, issuer, n)
			}
			if a := c.account(i); !reflect.DeepEqual(a, d.Accounts[i]) {
				t.Errorf("%s: account(%d) = %+v", name, i, a)
			}
		}
		// Every truncation is refused, never read as fewer accounts.
		for n := range len(b) {
			if _, err := parseContents(b[:n]); err == nil {
				t.Fatalf("%s: contents cut to %d of %d bytes parsed", name, n, len(b))
			}
		}
	}
}

func TestEnvelopeRoundTrip(t *testing.T) {
	for _, env := range []envelope{
		{Store: StoreKeyring, KeyringID: "vault-1", Data: []byte("age\x00\"\\=\n\xff")},
		{Store: StorePassphrase, WrappedKey: []byte("wrapped\n"), Data: []byte{}},
	} {
		b, err := encodeEnvelope(env)
		if err != nil {
			t.Fatal(err)
		}
		got, err := parseEnvelope(b)
		env.Format, env.Version = envelopeFormat, envelopeVersion
		if err != nil || !reflect.DeepEqual(got, env) {
			t.Fatalf("round trip: %+v, %v; want %+v", got, err, env)
		}
	}
}

// FuzzParseEnvelope feeds the vault file reader arbitrary files: it must
// never panic, and what it accepts as version 2 must encode back to a file
// that parses the same.
func FuzzParseEnvelope(f *testing.F) {
	good, _ := encodeEnvelope(envelope{Store: StoreKeyring, KeyringID: "vault-1", Data: []byte("age-encryption.org/v1\n\x00\x01\"=\\")})
	f.Add(good)
	f.Add([]byte(`{"format":"sesame-vault","version":1,"store":"keyring","keyring_id":"x","data":"YQ=="}`))
	f.Add([]byte(`{"format":"sesame-vault","version":3,"data":"`))
	f.Add([]byte(`{"format":"sesame-vault","version":2,"data":"=`))
	f.Fuzz(func(t *testing.T, b []byte) {
		env, err := parseEnvelope(b)
		if err != nil || env.Version != 2 {
			return
		}
		again, err := encodeEnvelope(env)
		if err != nil {
			t.Fatal(err)
		}
		back, err := parseEnvelope(again)
		if err != nil || !bytes.Equal(back.Data, env.Data) || back.Store != env.Store || back.KeyringID != env.KeyringID || !bytes.Equal(back.WrappedKey, env.WrappedKey) {
			t.Fatalf("re-encoded file parses differently: %v", err)
		}
	})
}

// FuzzParseContents feeds the contents decoder arbitrary bytes: it must never
// panic, and what it accepts must decode and encode back to the same bytes.
func FuzzParseContents(f *testing.F) {
	d := sampleData()
	b, _ := encodeContents(&d)
	f.Add(b)
	f.Add([]byte{0, 2, '{', '}'})
	f.Add([]byte{1, 5, 0, 0, 0, 0, 0})
	f.Fuzz(func(t *testing.T, b []byte) {
		c, err := parseContents(b)
		if err != nil {
			return
		}
		d := c.data()
		for i := range d.Accounts {
			if id, _, _ := c.labels(i); id != d.Accounts[i].ID {
				t.Fatalf("labels(%d) disagrees with data()", i)
			}
		}
		again, err := encodeContents(&d)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := parseContents(again); err != nil {
			t.Fatalf("re-encoded contents do not parse: %v", err)
		}
	})
}
