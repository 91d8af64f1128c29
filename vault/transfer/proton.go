package transfer

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/sesame-auth/sesame/vault"
)

// protonFile is a Proton Authenticator JSON export.
type protonFile struct {
	Version int `json:"version"`
	Entries []struct {
		Content struct {
			URI       string `json:"uri"`
			EntryType string `json:"entry_type"`
			Name      string `json:"name"`
		} `json:"content"`
	} `json:"entries"`
}

func (c *collector) readProton(data []byte) error {
	if err := c.objectKeys(data, "Proton Authenticator export", "entries"); err != nil {
		return err
	}
	var f protonFile
	if err := json.Unmarshal(data, &f); err != nil {
		return jsonErr("Proton Authenticator export", err)
	}
	if f.Version != 1 {
		return fmt.Errorf("%w: Proton Authenticator export version %d (Sesame reads version 1)", ErrUnsupported, f.Version)
	}
	if len(f.Entries) > MaxAccounts {
		return fmt.Errorf("%w: more than %d accounts", ErrTooLarge, MaxAccounts)
	}
	for _, e := range f.Entries {
		a, err := vault.ParseURI(e.Content.URI)
		if err != nil {
			c.skip(e.Content.Name, err.Error())
			continue
		}
		if strings.EqualFold(e.Content.EntryType, "steam") {
			a.Type, a.Digits = vault.Steam, vault.SteamDigits
		}
		if a.Name == "" {
			a.Name = e.Content.Name
		}
		c.add(a)
	}
	return nil
}
