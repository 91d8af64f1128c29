package transfer

import (
	"encoding/json"
	"strings"
	"testing"

	"io"

	"filippo.io/age/armor"
)

// WithWorkFactor sets the scrypt cost of both encrypted exports, and the
// files still read back; a cost out of range is refused.
func TestExportWorkFactor(t *testing.T) {
	backup, err := ExportBackup(sample()[:1], []byte("pw"), WithWorkFactor(11))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := io.ReadAll(armor.NewReader(strings.NewReader(string(backup))))
	if err != nil {
		t.Fatal(err)
	}
	if n, ok := scryptStanzaLogN(string(plain)); !ok || n != "11" {
		t.Fatalf("the backup's scrypt stanza has work factor %q, want 11", n)
	}
	if res, err := Import(ImportOptions{Password: password("pw")}, Input{Name: "b.age", Data: backup}); err != nil || len(res.Accounts) != 1 {
		t.Fatalf("import of the backup: %v", err)
	}

	aegis, err := ExportAegis(sample()[:1], []byte("pw"), WithWorkFactor(11))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Header struct {
			Slots []struct{ N int } `json:"slots"`
		} `json:"header"`
	}
	if err := json.Unmarshal(aegis, &f); err != nil || len(f.Header.Slots) != 1 || f.Header.Slots[0].N != 1<<11 {
		t.Fatalf("Aegis slots %+v (%v), want one with N=2048", f.Header.Slots, err)
	}
	if res, err := Import(ImportOptions{Password: password("pw")}, Input{Name: "a.json", Data: aegis}); err != nil || len(res.Accounts) != 1 {
		t.Fatalf("import of the Aegis vault: %v", err)
	}

	for _, bad := range []int{-1, 21} {
		if _, err := ExportBackup(sample()[:1], []byte("pw"), WithWorkFactor(bad)); err == nil {
			t.Errorf("work factor %d was accepted for a backup", bad)
		}
	}
	if _, err := ExportAegis(sample()[:1], []byte("pw"), WithWorkFactor(19)); err == nil {
		t.Error("an Aegis vault Sesame itself would refuse to read was written")
	}
}

// scryptStanzaLogN is the work factor of an age header's scrypt stanza.
func scryptStanzaLogN(header string) (string, bool) {
	for _, line := range strings.Split(header, "\n") {
		if f := strings.Fields(line); len(f) == 4 && f[0] == "->" && f[1] == "scrypt" {
			return f[3], true
		}
	}
	return "", false
}
