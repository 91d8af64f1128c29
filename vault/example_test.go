package vault_test

import (
	"errors"
	"fmt"
	"time"

	"github.com/sesame-auth/sesame/vault"
)

func ExampleParseURI() {
	a, err := vault.ParseURI("otpauth://totp/ACME%20Co:john.doe@email.com?secret=HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ&issuer=ACME%20Co&digits=8&period=60")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(a.Label())
	fmt.Println(a.Type, a.Algorithm, a.Digits, a.Period)
	fmt.Println(a.Secret) // secrets never print by accident
	// Output:
	// ACME Co (john.doe@email.com)
	// totp SHA1 8 60
	// [secret]
}

func ExampleParseURI_errors() {
	for _, u := range []string{
		"otpauth://hotp/Example:alice?secret=JBSWY3DPEHPK3PXP",
		"otpauth://totp/Example:alice?secret=JBSWY3DPEHPK3PXP&algorithm=MD5",
		"otpauth://totp/Example:alice?secret=0000",
	} {
		_, err := vault.ParseURI(u)
		var fe *vault.FieldError
		if errors.As(err, &fe) {
			fmt.Printf("%s: %v\n", fe.Field, err)
		}
	}
	// Output:
	// counter: counter is missing (HOTP links must say which counter to start from)
	// algorithm: algorithm "MD5" is not supported (use SHA1, SHA256 or SHA512)
	// secret: secret is not valid base32: character 1 is '0' (did you mean the letter O?); use letters A-Z and digits 2-7
}

func ExampleParseURI_steam() {
	a, err := vault.ParseURI("steam://JRZCL47CMXVOQMNPZR2F7J4RGI")
	if err != nil {
		fmt.Println(err)
		return
	}
	c, _ := a.Code(time.Unix(1700000000, 0))
	fmt.Println(a.Label(), a.Type, c.Value)
	// Output: Steam steam 747JR
}

func ExampleAccount_Code() {
	// RFC 6238 Appendix B, SHA1 row at 1111111111.
	a := vault.Account{
		Type:   vault.TOTP,
		Issuer: "RFC 6238",
		Secret: vault.Secret("12345678901234567890"),
		Digits: 8,
	}
	a.Normalize() // SHA1, 30 s

	now := time.Unix(1111111111, 0).UTC()
	c, err := a.Code(now)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(c.Value)
	fmt.Println(c.Start.UTC().Format(time.TimeOnly), "to", c.End.UTC().Format(time.TimeOnly))
	fmt.Println(c.Remaining(now), "left")
	// Output:
	// 14050471
	// 01:58:30 to 01:59:00
	// 29s left
}

func ExampleAccount_Code_hotp() {
	// RFC 4226 Appendix D, counter 5. Code does not advance the counter.
	a := vault.Account{Type: vault.HOTP, Name: "RFC 4226", Secret: vault.Secret("12345678901234567890"), Counter: 5}
	a.Normalize()
	c, _ := a.Code(time.Time{})
	fmt.Println(c.Value, a.Counter, c.End.IsZero())
	// Output: 254676 5 true
}

func ExampleAccount_URI() {
	secret, err := vault.ParseSecret("jbsw y3dp ehpk 3pxp")
	if err != nil {
		fmt.Println(err)
		return
	}
	a := vault.Account{Type: vault.TOTP, Issuer: "Example Co", Name: "alice@example.com", Secret: secret}
	a.Normalize()
	fmt.Println(a.URI())
	// Output: otpauth://totp/Example%20Co:alice@example.com?algorithm=SHA1&digits=6&issuer=Example%20Co&period=30&secret=JBSWY3DPEHPK3PXP
}

func ExampleParseSecret() {
	s, err := vault.ParseSecret("jbsw-y3dp-ehpk-3pxp")
	fmt.Println(s.Base32(), len(s), err)
	_, err = vault.ParseSecret("JBSWY3DPEHPK3PX1")
	fmt.Println(err)
	// Output:
	// JBSWY3DPEHPK3PXP 10 <nil>
	// secret is not valid base32: character 16 is '1' (did you mean the letter I or L?); use letters A-Z and digits 2-7
}
