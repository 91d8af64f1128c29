package transfer

import (
	"testing"

	"github.com/sesame-auth/sesame/vault"
)

// TestBOM checks that a UTF-8 byte-order mark before any format is
// ignored: the file imports as it does without one.
func TestBOM(t *testing.T) {
	aegis, err := exportAegis(sample()[:1], []byte("pw"), 1<<10)
	if err != nil {
		t.Fatal(err)
	}
	backup, err := exportBackup(sample()[:1], []byte("pw"), 10)
	if err != nil {
		t.Fatal(err)
	}
	one := []want{{vault.TOTP, "Example", "alice@example.com", "JBSWY3DPEHPK3PXP", vault.SHA1, 6, 30, 0}}
	files := map[Format]string{
		FormatAegis:       string(aegis),
		FormatBackup:      string(backup),
		FormatURIList:     string(ExportURIs(sample()[:1])),
		Format2FAS:        `{"services":[{"name":"Example","secret":"JBSWY3DPEHPK3PXP","otp":{"account":"alice@example.com","issuer":"Example"}}],"schemaVersion":4}`,
		FormatAndOTP:      `[{"secret":"JBSWY3DPEHPK3PXP","issuer":"Example","label":"alice@example.com","digits":6,"type":"TOTP","period":30}]`,
		FormatBitwarden:   `{"encrypted":false,"items":[{"name":"Example","login":{"username":"alice@example.com","totp":"JBSWY3DPEHPK3PXP"}}]}`,
		FormatFreeOTPPlus: `{"tokenOrder":[],"tokens":[{"algo":"SHA1","digits":6,"issuerExt":"Example","label":"alice@example.com","period":30,"secret":[72,101,108,108,111,33,-34,-83,-66,-17],"type":"TOTP"}]}`,
		FormatProton:      `{"version":1,"entries":[{"content":{"uri":"otpauth://totp/Example:alice@example.com?secret=JBSWY3DPEHPK3PXP","entry_type":"Totp","name":"x"}}]}`,
		FormatStratum:     `{"Authenticators":[{"Type":2,"Issuer":"Example","Username":"alice@example.com","Secret":"JBSWY3DPEHPK3PXP","Algorithm":0,"Digits":6,"Period":30}]}`,
		FormatFreeOTPXML:  `<map><string name="a">{"algo":"SHA1","secret":[72,101,108,108,111,33,-34,-83,-66,-17],"type":"TOTP","label":"alice@example.com","issuerExt":"Example","digits":6,"period":30}</string></map>`,
	}
	for f, data := range files {
		for _, forced := range []Format{"", f} {
			res, err := Import(ImportOptions{Format: forced, Password: password("pw"), limits: lowWork}, Input{Name: "bom", Data: []byte("\ufeff" + data)})
			if err != nil {
				t.Errorf("%s with a BOM (format given: %q): %v", f, forced, err)
				continue
			}
			if res.Inputs[0].Format != f {
				t.Errorf("%s with a BOM read as %s", f, res.Inputs[0].Format)
			}
			assertAccounts(t, res, one)
		}
	}
	if f, err := Detect([]byte("\ufeff" + files[FormatAegis])); err != nil || f != FormatAegis {
		t.Errorf("Detect with a BOM = %q, %v", f, err)
	}
}
