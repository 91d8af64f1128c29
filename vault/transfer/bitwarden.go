package transfer

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/sesame-auth/sesame/vault"
)

// bitwardenFile is an unencrypted Bitwarden JSON export.
type bitwardenFile struct {
	Encrypted         bool            `json:"encrypted"`
	PasswordProtected bool            `json:"passwordProtected"`
	Items             []bitwardenItem `json:"items"`
}

type bitwardenItem struct {
	Name  string `json:"name"`
	Login *struct {
		Username string `json:"username"`
		TOTP     string `json:"totp"`
	} `json:"login"`
}

func (c *collector) readBitwarden(data []byte) error {
	if t := bytes.TrimSpace(data); len(t) > 0 && t[0] == '{' {
		return c.readBitwardenJSON(t)
	}
	return c.readBitwardenCSV(data)
}

func (c *collector) readBitwardenJSON(data []byte) error {
	if err := c.objectKeys(data, "Bitwarden export", "items", "encrypted", "passwordProtected"); err != nil {
		return err
	}
	var f bitwardenFile
	if err := json.Unmarshal(data, &f); err != nil {
		return jsonErr("Bitwarden export", err)
	}
	if f.Encrypted || f.PasswordProtected {
		return fmt.Errorf("%w: encrypted Bitwarden exports are %w; export again as \"JSON\" (not \"JSON (Encrypted)\")", ErrUnknownFormat, ErrUnsupported)
	}
	if len(f.Items) > 10*MaxAccounts {
		return fmt.Errorf("%w: more than %d items", ErrTooLarge, 10*MaxAccounts)
	}
	without := 0
	for _, it := range f.Items {
		if it.Login == nil || strings.TrimSpace(it.Login.TOTP) == "" {
			without++
			continue
		}
		c.addBitwarden(it.Name, it.Login.Username, it.Login.TOTP)
	}
	c.noTOTP(without)
	return nil
}

func (c *collector) readBitwardenCSV(data []byte) error {
	r := csv.NewReader(bytes.NewReader(data))
	r.FieldsPerRecord = -1
	header, err := r.Read()
	if err != nil {
		return fmt.Errorf("%w: the Bitwarden CSV has no header line", ErrCorrupt)
	}
	col := map[string]int{}
	for i, h := range header {
		col[strings.TrimSpace(h)] = i
	}
	totpCol, ok := col["login_totp"]
	if !ok {
		return fmt.Errorf("%w: CSV without a login_totp column is no Bitwarden export", ErrUnknownFormat)
	}
	field := func(rec []string, name string) string {
		if i, ok := col[name]; ok && i < len(rec) {
			return rec[i]
		}
		return ""
	}
	without, rows := 0, 0
	for {
		rec, err := r.Read()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return fmt.Errorf("%w: the Bitwarden CSV is malformed: %v", ErrCorrupt, err)
		}
		if rows++; rows > 10*MaxAccounts {
			return fmt.Errorf("%w: more than %d items", ErrTooLarge, 10*MaxAccounts)
		}
		if len(rec) != len(header) {
			// Bitwarden writes every column on every row: a short row is a
			// file cut off in the middle.
			return fmt.Errorf("row %d has %d fields, the header has %d: %w", rows+1, len(rec), len(header), ErrCorrupt)
		}
		if totpCol >= len(rec) || strings.TrimSpace(rec[totpCol]) == "" {
			without++
			continue
		}
		c.addBitwarden(field(rec, "name"), field(rec, "login_username"), rec[totpCol])
	}
	c.noTOTP(without)
	return nil
}

// addBitwarden reads login.totp: an otpauth URI, steam://SECRET, or a bare
// base32 secret (then the item name is the issuer and the username the name).
func (c *collector) addBitwarden(item, username, totp string) {
	totp = strings.TrimSpace(totp)
	label := item
	if label == "" {
		label = username
	}
	lower := strings.ToLower(totp)
	switch {
	case strings.HasPrefix(lower, "otpauth://"):
		a, err := vault.ParseURI(totp)
		if err != nil {
			c.skip(label, err.Error())
			return
		}
		if a.Issuer == "" && a.Name != item {
			a.Issuer = item
		}
		c.add(a)
	case strings.HasPrefix(lower, "steam://"):
		a, err := vault.ParseURI(totp)
		if err != nil {
			c.skip(label, err.Error())
			return
		}
		a.Name = username
		if a.Name == "" {
			a.Name = item
		}
		c.add(a)
	default:
		s, err := vault.ParseSecret(totp)
		if err != nil {
			c.skip(label, err.Error())
			return
		}
		c.add(vault.Account{Type: vault.TOTP, Issuer: item, Name: username, Secret: s})
	}
}

func (c *collector) noTOTP(n int) {
	if n > 0 {
		c.skipped = append(c.skipped, Skip{Source: c.source, Label: fmt.Sprintf("%d items", n), Reason: "no TOTP secret (passwords and notes are not imported)"})
	}
}
