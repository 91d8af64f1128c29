package transfer_test

import (
	"fmt"

	"github.com/sesame-auth/sesame/vault/transfer"
)

// Import detects the format, and reports what it skipped and why.
func ExampleImport() {
	text := []byte(`# exported from somewhere
otpauth://totp/Example:alice?secret=JBSWY3DPEHPK3PXP&issuer=Example
otpauth://totp/Legacy:bob?secret=JBSWY3DPEHPK3PXP&algorithm=MD5
otpauth://totp/Example:alice?secret=JBSWY3DPEHPK3PXP&issuer=Example
`)
	res, err := transfer.Import(transfer.ImportOptions{}, transfer.Input{Name: "links.txt", Data: text})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(res.Inputs[0].Format)
	for _, a := range res.Accounts {
		fmt.Println("import", a.Label())
	}
	for _, s := range res.Skipped {
		fmt.Println("skip", s.Label+":", s.Reason)
	}
	// Output:
	// uri
	// import Example (alice)
	// skip line 3: algorithm "MD5" is not supported (use SHA1, SHA256 or SHA512)
	// skip Example (alice): duplicate of an entry earlier in this import
}

// ParseMigrationURI reads Google Authenticator's export links, even when
// their data is not percent-encoded.
func ExampleParseMigrationURI() {
	p, err := transfer.ParseMigrationURI("otpauth-migration://offline?data=CjEKCkhlbGxvId6tvu8SGEV4YW1wbGU6YWxpY2VAZ29vZ2xlLmNvbRoHRXhhbXBsZTAC")
	if err != nil {
		fmt.Println(err)
		return
	}
	a, err := p.OTPs[0].Account()
	fmt.Println(a.Label(), a.Type, a.Digits, a.Period, err)
	// Output: Example (alice@google.com) totp 6 30 <nil>
}
