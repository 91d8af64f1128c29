package transfer

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/sesame-auth/sesame/vault"
)

// steamGuard is a Steam Desktop Authenticator maFile.
type steamGuard struct {
	SharedSecret string `json:"shared_secret"`
	AccountName  string `json:"account_name"`
}

// readSteam reads a Steam Desktop Authenticator maFile, or a file of them
// under "accounts".
func (c *collector) readSteam(data []byte) error {
	var wrapped struct {
		Accounts map[string]steamGuard `json:"accounts"`
	}
	var guards []steamGuard
	if err := json.Unmarshal(data, &wrapped); err == nil && len(wrapped.Accounts) > 0 {
		keys := make([]string, 0, len(wrapped.Accounts))
		for k := range wrapped.Accounts {
			keys = append(keys, k)
		}
		slices.Sort(keys)
		for _, k := range keys {
			guards = append(guards, wrapped.Accounts[k])
		}
	} else {
		var g steamGuard
		if err := json.Unmarshal(data, &g); err != nil {
			return jsonErr("Steam Guard file", err)
		}
		if g.SharedSecret == "" {
			return fmt.Errorf("%w: no shared_secret in the Steam Guard file", ErrUnknownFormat)
		}
		guards = append(guards, g)
	}
	if len(guards) > MaxAccounts {
		return fmt.Errorf("%w: more than %d accounts", ErrTooLarge, MaxAccounts)
	}
	for _, g := range guards {
		a := vault.Account{Type: vault.Steam, Issuer: "Steam", Name: g.AccountName}
		s, err := base64.StdEncoding.DecodeString(strings.TrimSpace(g.SharedSecret))
		if err != nil || len(s) == 0 {
			c.skip(a.Label(), "shared_secret is not base64")
			continue
		}
		a.Secret = s
		c.add(a)
	}
	return nil
}

// readDuo reads Duo Mobile's JSON export of third-party OTP accounts.
func (c *collector) readDuo(data []byte) error {
	if err := c.jsonList(data, "Duo export"); err != nil {
		return err
	}
	var entries []struct {
		AccountType  string `json:"accountType"`
		Name         string `json:"name"`
		OTPGenerator *struct {
			OTPSecret string  `json:"otpSecret"`
			Counter   *uint64 `json:"counter"`
		} `json:"otpGenerator"`
	}
	if err := json.Unmarshal(data, &entries); err != nil {
		return jsonErr("Duo export", err)
	}
	if len(entries) > MaxAccounts {
		return fmt.Errorf("%w: more than %d accounts", ErrTooLarge, MaxAccounts)
	}
	for _, e := range entries {
		if e.OTPGenerator == nil {
			c.skip(e.Name, "Duo push accounts cannot move to another app")
			continue
		}
		a := vault.Account{Type: vault.TOTP, Name: e.Name}
		if e.OTPGenerator.Counter != nil {
			a.Type, a.Counter = vault.HOTP, *e.OTPGenerator.Counter
		}
		s, err := vault.ParseSecret(e.OTPGenerator.OTPSecret)
		if err != nil {
			c.skip(a.Label(), err.Error())
			continue
		}
		a.Secret = s
		c.add(a)
	}
	return nil
}
