//go:build !lean

package main

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/sesame-auth/sesame/vault"
)

// TestDevicesQuery checks that 'devices pause/resume' find a pairing by the
// USER column and by an ID prefix, and that an ambiguous query lists the
// candidates and changes nothing.
func TestDevicesQuery(t *testing.T) {
	c := newCLI(t)
	c.ok("", "add", "otpauth://totp/Acme:ann?secret=JBSWY3DPEHPK3PXP&issuer=Acme")
	v, err := vault.Open(vault.Options{Dir: c.home, Keyring: c.keyring, KeyCache: c.keyCache, ScryptWorkFactor: 10})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := v.Update(func(d *vault.Data) error {
		d.Pairings = append(d.Pairings,
			vault.Pairing{ID: "a1b2c3d4e5f60718", Provider: "sesame", Server: "https://work.example.com", User: "alice", Label: "work"},
			vault.Pairing{ID: "a1b29999e5f60718", Provider: "sesame", Server: "https://home.example.com", User: "bob", Label: "home"},
			vault.Pairing{ID: "ffee000011112222", Provider: "sesame", Server: "https://lab.example.com", User: "alison", Label: "lab"})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	paused := func() map[string]bool {
		var list []pairingJSON
		if err := json.Unmarshal([]byte(c.ok("", "devices", "--json")), &list); err != nil {
			t.Fatal(err)
		}
		m := map[string]bool{}
		for _, p := range list {
			m[p.User] = p.Paused
		}
		return m
	}
	c.ok("", "devices", "pause", "BOB") // the USER column, any case
	c.ok("", "devices", "pause", "ffee0")
	if got := paused(); got["alice"] || !got["bob"] || !got["alison"] {
		t.Fatalf("after pausing by user and by ID prefix: %v", got)
	}
	c.ok("", "devices", "resume", "alice") // exact user beats the substring in "alison"
	r := c.run("", "devices", "resume", "a1b2")
	if r.code == 0 || !strings.Contains(r.stderr, "matches 2 pairings") || !strings.Contains(r.stderr, "alice@work [id a1b2c3d4e5f60718]") ||
		!strings.Contains(r.stderr, "bob@home [id a1b29999e5f60718]") {
		t.Errorf("ambiguous ID prefix: exit %d, stderr %q", r.code, r.stderr)
	}
	if got := paused(); !got["bob"] {
		t.Errorf("an ambiguous query changed a pairing: %v", got)
	}
	if r := c.run("", "devices", "pause", "nobody"); r.code == 0 || !strings.Contains(r.stderr, `no pairing matches "nobody"`) {
		t.Errorf("unknown pairing: exit %d, stderr %q", r.code, r.stderr)
	}
}
