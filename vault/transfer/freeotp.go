package transfer

import (
	"encoding/json"
	"encoding/xml"
	"fmt"
	"strings"

	"github.com/sesame-auth/sesame/vault"
)

// freeOTPToken is one token of FreeOTP+'s JSON export and of FreeOTP's
// internal tokens.xml. Its counter is the last one used: FreeOTP adds one
// before it computes a code. Sesame keeps the stored value, as Aegis does.
type freeOTPToken struct {
	Algo      string `json:"algo"`
	Counter   uint64 `json:"counter"`
	Digits    int    `json:"digits"`
	IssuerExt string `json:"issuerExt"`
	IssuerInt string `json:"issuerInt"`
	Label     string `json:"label"`
	Period    int    `json:"period"`
	Secret    []int  `json:"secret"` // Java signed bytes
	Type      string `json:"type"`
}

func (c *collector) readFreeOTPPlus(data []byte) error {
	if err := c.objectKeys(data, "FreeOTP+ export", "tokens"); err != nil {
		return err
	}
	var f struct {
		Tokens []freeOTPToken `json:"tokens"`
	}
	if err := json.Unmarshal(data, &f); err != nil {
		return jsonErr("FreeOTP+ export", err)
	}
	if len(f.Tokens) > MaxAccounts {
		return fmt.Errorf("%w: more than %d accounts", ErrTooLarge, MaxAccounts)
	}
	for _, t := range f.Tokens {
		c.addFreeOTP(&t)
	}
	return nil
}

// readFreeOTPXML reads Android shared preferences: a <map> of <string>
// elements, each token a JSON object, plus a "tokenOrder" list.
func (c *collector) readFreeOTPXML(data []byte) error {
	strs, err := androidPrefs(data, "FreeOTP tokens file")
	if err != nil {
		return err
	}
	if len(strs) > MaxAccounts {
		return fmt.Errorf("%w: more than %d accounts", ErrTooLarge, MaxAccounts)
	}
	found := false
	for _, s := range strs {
		if s.Name == "tokenOrder" || !strings.HasPrefix(strings.TrimSpace(s.Value), "{") {
			continue
		}
		var t freeOTPToken
		if err := json.Unmarshal([]byte(s.Value), &t); err != nil {
			c.skip(s.Name, "not a FreeOTP token: "+jsonErr("token", err).Error())
			continue
		}
		found = true
		c.addFreeOTP(&t)
	}
	if !found && len(c.skipped) == 0 {
		return fmt.Errorf("%w: no FreeOTP tokens in the XML file", ErrUnknownFormat)
	}
	return nil
}

func (c *collector) addFreeOTP(t *freeOTPToken) {
	a := vault.Account{Issuer: t.IssuerExt, Name: t.Label, Period: t.Period, Digits: t.Digits}
	if a.Issuer == "" {
		a.Issuer = t.IssuerInt
	}
	secret := make(vault.Secret, len(t.Secret))
	for i, v := range t.Secret {
		if v < -128 || v > 255 {
			c.skip(a.Label(), "secret is not a list of bytes")
			return
		}
		secret[i] = byte(v)
	}
	a.Secret = secret
	var err error
	if a.Algorithm, err = parseAlgo(t.Algo); err != nil {
		c.skip(a.Label(), err.Error())
		return
	}
	switch strings.ToUpper(t.Type) {
	case "", "TOTP":
		a.Type = vault.TOTP
		if a.Issuer == "Steam" {
			// FreeOTP shows Steam Guard codes for TOTP tokens issued by Steam.
			a.Type, a.Digits = vault.Steam, vault.SteamDigits
		}
	case "HOTP":
		a.Type = vault.HOTP
		a.Counter = t.Counter
	default:
		c.skip(a.Label(), fmt.Sprintf("%s tokens are not supported", t.Type))
		return
	}
	c.add(a)
}

// prefString is one <string> entry of Android shared preferences.
type prefString struct {
	Name  string `xml:"name,attr"`
	Value string `xml:",chardata"`
}

// androidPrefs reads the <string> entries of an Android shared preferences
// file; what names the file in errors.
func androidPrefs(data []byte, what string) ([]prefString, error) {
	var m struct {
		Strings []prefString `xml:"string"`
	}
	if err := xml.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("%w: the %s is not valid XML: %v", ErrCorrupt, what, err)
	}
	return m.Strings, nil
}
