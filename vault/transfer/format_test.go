package transfer

import (
	"errors"
	"strings"
	"testing"
)

// TestNotThisFormat checks that a format forced on a file of another kind
// fails, saying which format the file is not, instead of importing nothing.
func TestNotThisFormat(t *testing.T) {
	aegis := `{"version":1,"header":{"slots":null,"params":null},"db":{"version":1,"entries":[{"type":"totp","name":"a","issuer":"b","info":{"secret":"JBSWY3DPEHPK3PXP","algo":"SHA1","digits":6,"period":30}}]}}`
	twofas := `{"services":[{"name":"X","secret":"JBSWY3DPEHPK3PXP","otp":{"account":"y"}}],"schemaVersion":4}`
	cases := []struct {
		format Format
		data   string
		what   string
	}{
		{Format2FAS, aegis, "this is not a 2FAS backup (it has no \"services\")"},
		{FormatAegis, twofas, "this is not an Aegis vault (it has no \"db\")"},
		{FormatBitwarden, aegis, "this is not a Bitwarden export"},
		{FormatFreeOTPPlus, aegis, "this is not a FreeOTP+ export"},
		{FormatProton, aegis, "this is not a Proton Authenticator export"},
		{FormatStratum, aegis, "this is not a Stratum backup"},
		{FormatAndOTP, twofas, "this is not an andOTP backup (it is a JSON object, not a list)"},
		{FormatDuo, aegis, "this is not a Duo export"},
		{FormatProton, `[{"entries":[]}]`, "this is not a Proton Authenticator export (it is JSON but not an object)"},
	}
	for _, tc := range cases {
		res, err := Import(ImportOptions{Format: tc.format, Password: password("pw")}, Input{Name: "f.json", Data: []byte(tc.data)})
		var nf *NotFormatError
		if res != nil || !errors.As(err, &nf) || !errors.Is(err, ErrUnknownFormat) || nf.Format != tc.format || !strings.Contains(err.Error(), tc.what) {
			t.Errorf("--format %s: %v, %v; want %q", tc.format, res, err, tc.what)
		}
	}
	// Truncated JSON is still reported as damaged, not as another format.
	if _, err := Import(ImportOptions{Format: Format2FAS}, Input{Data: []byte(twofas[:40])}); !errors.Is(err, ErrCorrupt) {
		t.Errorf("truncated 2FAS: %v, want ErrCorrupt", err)
	}
}

// TestNoAccounts checks that valid exports with no accounts fail with
// ErrNoAccounts, and that a file whose entries were all skipped does not.
func TestNoAccounts(t *testing.T) {
	for _, data := range []string{
		`[]`,
		`{"services":[],"schemaVersion":4}`,
		`{"version":1,"header":{"slots":null,"params":null},"db":{"version":2,"entries":[]}}`,
		`{"encrypted":false,"items":[]}`,
		`{"version":1,"entries":[]}`,
	} {
		res, err := Import(ImportOptions{}, Input{Name: "e.json", Data: []byte(data)})
		if !errors.Is(err, ErrNoAccounts) || res != nil || err.Error() != "e.json: the file holds no accounts: nothing to import" {
			t.Errorf("%s: %v, %v; want ErrNoAccounts", data, res, err)
		}
	}
	res, err := Import(ImportOptions{}, Input{Data: []byte(`{"version":1,"entries":[{"content":{"uri":"otpauth://totp/x?secret=1","name":"x"}}]}`)})
	if err != nil || len(res.Skipped) != 1 {
		t.Errorf("a file of skipped entries: %v, %v; want the skip listed", res, err)
	}
}

// TestNotAnExport checks the files people mistake for exports: an app's
// SQLite database, detected or forced.
func TestNotAnExport(t *testing.T) {
	cases := []struct {
		data string
		want string
		err  error
	}{
		{"SQLite format 3\x00\x10\x00\x01\x01" + strings.Repeat("\x00", 80), "this is an app's internal database, not an export: export from the app instead", ErrUnknownFormat},
	}
	for _, tc := range cases {
		for _, f := range []Format{"", FormatAndOTP, FormatFreeOTPXML} {
			res, err := Import(ImportOptions{Format: f, Password: password("pw")}, Input{Name: "x", Data: []byte(tc.data)})
			if res != nil || !errors.Is(err, tc.err) || errors.Is(err, ErrPasswordRequired) || errors.Is(err, ErrWrongPassword) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("%.10q (format %q): %v, %v; want %q", tc.data, f, res, err, tc.want)
			}
		}
	}
}

// TestAuthyBattleNetRefused checks that the app data of Authy and the
// Battle.net Authenticator (real files from ../shared/fixtures) is named as
// such and refused with what to do instead, detected or forced.
func TestAuthyBattleNetRefused(t *testing.T) {
	cases := []struct {
		file []string
		want string
	}{
		{[]string{"authy", "authy_plain.xml"}, "this is Authy's app data"},
		{[]string{"authy", "authy_encrypted.xml"}, "this is Authy's app data"},
		{[]string{"battle_net", "battle_net_authenticator.xml"}, "this is the Battle.net Authenticator's app data"},
	}
	for _, tc := range cases {
		in := readFixture(t, tc.file...)
		if _, err := Detect(in.Data); !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), tc.want) || !strings.Contains(err.Error(), "re-enrol") {
			t.Errorf("Detect %s: %v; want %q and what to do", tc.file[1], err, tc.want)
		}
		for _, f := range []Format{"", FormatFreeOTPXML} {
			res, err := Import(ImportOptions{Format: f}, in)
			if res != nil || !errors.Is(err, ErrUnsupported) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Import %s (format %q): %v, %v; want %q", tc.file[1], f, res, err, tc.want)
			}
		}
	}
}
