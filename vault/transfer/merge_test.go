package transfer

import (
	"strings"
	"testing"

	"github.com/sesame-auth/sesame/vault"
)

// TestMergeDuplicateSettings checks that a duplicate (same type, issuer, name
// and secret) is still left out, and that the reason says when the vault's
// copy has other code settings.
func TestMergeDuplicateSettings(t *testing.T) {
	totp, hotp := sample()[0], sample()[2]
	var d vault.Data
	for _, a := range []vault.Account{totp, hotp} {
		if _, err := d.Add(a, testTime); err != nil {
			t.Fatal(err)
		}
	}
	period := totp
	period.Period = 60
	several := totp
	several.Algorithm, several.Digits = vault.SHA256, 8
	counter := hotp
	counter.Counter = 7
	cases := []struct {
		name string
		in   vault.Account
		want string // the whole reason
	}{
		{"same settings", totp, "already in the vault"},
		{"other period", period, "already in the vault with other settings: period 30 s there, 60 s here; remove it first to replace it"},
		{"other algorithm and digits", several, "already in the vault with other settings: algorithm SHA1 there, SHA256 here, 6 digits there, 8 here; remove it first to replace it"},
		{"other counter", counter, "already in the vault with other settings: counter 42 there, 7 here; remove it first to replace it"},
	}
	for _, tc := range cases {
		added, dups, err := Merge(&d, []vault.Account{tc.in}, testTime)
		if err != nil {
			t.Fatal(err)
		}
		if len(added) != 0 || len(dups) != 1 || dups[0].Reason != tc.want || dups[0].Label != tc.in.Label() {
			t.Errorf("%s: added %v, skipped %v; want it skipped with %q", tc.name, added, dups, tc.want)
		}
	}
	if len(d.Accounts) != 2 {
		t.Errorf("the vault has %d accounts, want 2", len(d.Accounts))
	}
}

// TestImportDuplicateSettings checks duplicates inside one import.
func TestImportDuplicateSettings(t *testing.T) {
	text := "otpauth://totp/X:y?secret=JBSWY3DPEHPK3PXP&period=30\n" +
		"otpauth://totp/X:y?secret=JBSWY3DPEHPK3PXP\n" +
		"otpauth://totp/X:y?secret=JBSWY3DPEHPK3PXP&period=60\n"
	res, err := Import(ImportOptions{}, Input{Name: "l.txt", Data: []byte(text)})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Accounts) != 1 || res.Accounts[0].Period != 30 || len(res.Skipped) != 2 {
		t.Fatalf("accounts %v, skipped %v; want the first kept, two skipped", res.Accounts, res.Skipped)
	}
	if r := res.Skipped[0].Reason; r != "duplicate of an entry earlier in this import" {
		t.Errorf("same settings: %q", r)
	}
	if r := res.Skipped[1].Reason; !strings.Contains(r, "other settings (period 30 s there, 60 s here)") {
		t.Errorf("other period: %q", r)
	}
}
