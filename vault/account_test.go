package vault_test

import (
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/vault"
)

func TestParseSecretLenient(t *testing.T) {
	for _, in := range []string{
		"JBSWY3DPEHPK3PXP",
		"jbswy3dpehpk3pxp",
		"JbSwY3dPeHpK3pXp",
		"JBSW Y3DP EHPK 3PXP",
		"JBSW-Y3DP-EHPK-3PXP",
		"  JBSW\tY3DP\tEHPK\t3PXP  ",
		"JBSWY3DPEHPK3PXP======",
		"J=B=S=W=Y3DPEHPK3PXP",
	} {
		s, err := vault.ParseSecret(in)
		if err != nil {
			t.Errorf("ParseSecret(%q): %v", in, err)
			continue
		}
		if string(s) != "Hello!\xde\xad\xbe\xef" {
			t.Errorf("ParseSecret(%q) = %x, want 48656c6c6f21deadbeef", in, []byte(s))
		}
	}
}

// Base32 packs 5 bits per character, so only lengths that end on a whole
// byte (0, 2, 4, 5 or 7 characters past a group of 8) are valid.
func TestParseSecretLengths(t *testing.T) {
	alphabet := strings.Repeat("ABCDEFGHIJKLMNOPQRSTUVWXYZ234567", 3)
	for n := 0; n <= 64; n++ {
		in := alphabet[:n]
		s, err := vault.ParseSecret(in)
		valid := n > 0 && strings.ContainsRune("02457", rune('0'+n%8))
		if !valid {
			var fe *vault.FieldError
			if !errors.As(err, &fe) || fe.Field != "secret" {
				t.Errorf("ParseSecret(%d chars) = %x, %v; want a secret FieldError", n, []byte(s), err)
			}
			continue
		}
		if err != nil {
			t.Errorf("ParseSecret(%d chars): %v", n, err)
			continue
		}
		if len(s) != n*5/8 {
			t.Errorf("ParseSecret(%d chars) gave %d bytes, want %d", n, len(s), n*5/8)
		}
		// Every character carries key bits: re-encoding loses at most the
		// padding bits of the last one.
		if b := s.Base32(); len(b) != n || b[:n-1] != in[:n-1] {
			t.Errorf("ParseSecret(%q).Base32() = %q", in, b)
		}
	}
}

func TestParseSecretErrors(t *testing.T) {
	for _, tc := range []struct{ in, reason string }{
		{"", "empty"},
		{"   ", "empty"},
		{"====", "empty"},
		{"- -", "empty"},
		{"JBSWY3DPEHPK3PX0", "base32"},
		{"JBSWY3DPEHPK3PX1", "base32"},
		{"JBSWY3DPEHPK3PX8", "base32"},
		{"JBSWY3DPEHPK3PXP!", "base32"},
		{"JBSWY3DPEHPK3PXPA", "base32"},   // one character too many
		{"JBSWY3DPEHPK3PXPAAA", "base32"}, // three too many
		{"AAAAAA", "base32"},
		{"ÄBSWY3DPEHPK3PXP", "base32"},
		{strings.Repeat("A", 1700), "too long"},
	} {
		_, err := vault.ParseSecret(tc.in)
		var fe *vault.FieldError
		if !errors.As(err, &fe) || fe.Field != "secret" || !strings.Contains(fe.Reason, tc.reason) {
			t.Errorf("ParseSecret(%.20q) = %v, want a secret error saying %q", tc.in, err, tc.reason)
			continue
		}
		if len(tc.in) >= 8 && strings.Contains(err.Error(), strings.TrimSpace(tc.in)[:8]) {
			t.Errorf("ParseSecret error %q repeats the input", err)
		}
	}
	// The largest secret that fits.
	max := strings.Repeat("A", (vault.MaxSecretBytes*8+4)/5)
	if s, err := vault.ParseSecret(max); err != nil || len(s) != vault.MaxSecretBytes {
		t.Errorf("ParseSecret(%d chars) = %d bytes, %v; want %d bytes", len(max), len(s), err, vault.MaxSecretBytes)
	}
}

func TestSecretBase32(t *testing.T) {
	for _, s := range []vault.Secret{{0}, {1, 2, 3}, vault.Secret("12345678901234567890"), vault.Secret(strings.Repeat("\xff", 33))} {
		want := strings.TrimRight(base32.StdEncoding.EncodeToString(s), "=")
		if got := s.Base32(); got != want {
			t.Errorf("Base32(%x) = %q, want %q", []byte(s), got, want)
		}
		back, err := vault.ParseSecret(s.Base32())
		if err != nil || string(back) != string(s) {
			t.Errorf("ParseSecret(Base32(%x)) = %x, %v", []byte(s), []byte(back), err)
		}
	}
}

func TestNormalize(t *testing.T) {
	for _, tc := range []struct {
		in, want vault.Account
	}{
		{vault.Account{Name: " a "}, vault.Account{Type: vault.TOTP, Name: "a", Algorithm: vault.SHA1, Digits: 6, Period: 30}},
		{vault.Account{Type: vault.HOTP, Issuer: "\tI\n", Period: 30}, vault.Account{Type: vault.HOTP, Issuer: "I", Algorithm: vault.SHA1, Digits: 6}},
		{vault.Account{Type: vault.Steam}, vault.Account{Type: vault.Steam, Algorithm: vault.SHA1, Digits: 5, Period: 30}},
		// Set values are kept, even wrong ones: Validate reports them.
		{vault.Account{Type: vault.TOTP, Algorithm: vault.SHA512, Digits: 8, Period: 45}, vault.Account{Type: vault.TOTP, Algorithm: vault.SHA512, Digits: 8, Period: 45}},
		{vault.Account{Type: vault.Steam, Digits: 6, Period: 7}, vault.Account{Type: vault.Steam, Algorithm: vault.SHA1, Digits: 6, Period: 7}},
		{vault.Account{Type: "motp"}, vault.Account{Type: "motp", Algorithm: vault.SHA1}},
	} {
		got := tc.in
		got.Normalize()
		if !sameAccount(got, tc.want) {
			t.Errorf("Normalize(%+v)\n got  %+v\n want %+v", tc.in, got, tc.want)
		}
		again := got
		again.Normalize()
		if !sameAccount(again, got) {
			t.Errorf("Normalize is not idempotent on %+v", got)
		}
	}
}

func TestValidate(t *testing.T) {
	good := vault.Account{Type: vault.TOTP, Issuer: "I", Name: "n", Secret: vault.Secret("k"), Algorithm: vault.SHA1, Digits: 6, Period: 30}
	if err := good.Validate(); err != nil {
		t.Fatalf("good account: %v", err)
	}
	for _, tc := range []struct {
		name   string
		change func(*vault.Account)
		field  string // "" means valid
	}{
		{"type", func(a *vault.Account) { a.Type = "motp" }, "type"},
		{"empty type", func(a *vault.Account) { a.Type = "" }, "type"},
		{"MD5", func(a *vault.Account) { a.Algorithm = "MD5" }, "algorithm"},
		{"lower-case algorithm", func(a *vault.Account) { a.Algorithm = "sha1" }, "algorithm"},
		{"no secret", func(a *vault.Account) { a.Secret = nil }, "secret"},
		{"huge secret", func(a *vault.Account) { a.Secret = make(vault.Secret, vault.MaxSecretBytes+1) }, "secret"},
		{"max secret", func(a *vault.Account) { a.Secret = make(vault.Secret, vault.MaxSecretBytes) }, ""},
		{"5 digits", func(a *vault.Account) { a.Digits = 5 }, "digits"},
		{"7 digits", func(a *vault.Account) { a.Digits = 7 }, ""},
		{"9 digits", func(a *vault.Account) { a.Digits = 9 }, "digits"},
		{"period 0", func(a *vault.Account) { a.Period = 0 }, "period"},
		{"period 1", func(a *vault.Account) { a.Period = 1 }, ""},
		{"period 3600", func(a *vault.Account) { a.Period = 3600 }, ""},
		{"period 3601", func(a *vault.Account) { a.Period = 3601 }, "period"},
		{"negative period", func(a *vault.Account) { a.Period = -30 }, "period"},
		{"hotp ignores period", func(a *vault.Account) { a.Type, a.Period = vault.HOTP, 0 }, ""},
		{"steam needs 5 digits", func(a *vault.Account) { a.Type = vault.Steam }, "digits"},
		{"steam", func(a *vault.Account) { a.Type, a.Digits = vault.Steam, 5 }, ""},
		{"steam period", func(a *vault.Account) { a.Type, a.Digits, a.Period = vault.Steam, 5, 0 }, "period"},
		{"no labels", func(a *vault.Account) { a.Issuer, a.Name = "", "" }, "name"},
		{"issuer only", func(a *vault.Account) { a.Name = "" }, ""},
		{"name only", func(a *vault.Account) { a.Issuer = "" }, ""},
		{"long issuer", func(a *vault.Account) { a.Issuer = strings.Repeat("x", vault.MaxLabelLength+1) }, "issuer"},
		{"max issuer", func(a *vault.Account) { a.Issuer = strings.Repeat("x", vault.MaxLabelLength) }, ""},
		{"long name", func(a *vault.Account) { a.Name = strings.Repeat("é", vault.MaxLabelLength/2+1) }, "name"},
		{"bad UTF-8 name", func(a *vault.Account) { a.Name = "a\xffb" }, "name"},
		{"bad UTF-8 issuer", func(a *vault.Account) { a.Issuer = "\xc3" }, "issuer"},
		{"escape in issuer", func(a *vault.Account) { a.Issuer = "\x1b]0;pwned\a" }, "issuer"},
		{"newline in name", func(a *vault.Account) { a.Name = "a\nb" }, "name"},
		{"C1 control in name", func(a *vault.Account) { a.Name = "a\u009bb" }, "name"},
		{"both labels bad: issuer first", func(a *vault.Account) { a.Issuer, a.Name = "\x00", "\x00" }, "issuer"},
		{"unicode labels", func(a *vault.Account) { a.Issuer, a.Name = "¿äÄéÉ?", "名前 (demo)" }, ""},
		// Invisible format characters (category Cf) let "Git\u200bHub" pose as GitHub.
		{"zero-width space in issuer", func(a *vault.Account) { a.Issuer = "Git\u200bHub" }, "issuer"},
		{"zero-width non-joiner in name", func(a *vault.Account) { a.Name = "al\u200cice" }, "name"},
		{"bidi override in name", func(a *vault.Account) { a.Name = "\u202egnp.exe" }, "name"},
		{"bidi isolate in issuer", func(a *vault.Account) { a.Issuer = "\u2066Bank\u2069" }, "issuer"},
		{"left-to-right mark", func(a *vault.Account) { a.Issuer = "Bank\u200e" }, "issuer"},
		{"byte order mark", func(a *vault.Account) { a.Name = "\ufeffbob" }, "name"},
		{"soft hyphen", func(a *vault.Account) { a.Issuer = "Pay\u00adPal" }, "issuer"},
		{"emoji with zero-width joiner", func(a *vault.Account) { a.Issuer = "\U0001F469\u200d\U0001F4BB Work" }, ""},
		{"zero-width joiner between letters", func(a *vault.Account) { a.Issuer = "Git\u200dHub" }, "issuer"},
		{"private-use character", func(a *vault.Account) { a.Name = "\ue000bob" }, "name"},
		{"emoji with variation selector", func(a *vault.Account) { a.Name = "\u2764\ufe0f" }, ""},
		{"arabic and hebrew", func(a *vault.Account) { a.Issuer, a.Name = "بنك", "שלום" }, ""},
		// Steam Guard is HMAC-SHA1.
		{"steam SHA256", func(a *vault.Account) { a.Type, a.Digits, a.Algorithm = vault.Steam, 5, vault.SHA256 }, "algorithm"},
		{"steam SHA512", func(a *vault.Account) { a.Type, a.Digits, a.Algorithm = vault.Steam, 5, vault.SHA512 }, "algorithm"},
	} {
		a := good
		tc.change(&a)
		err := a.Validate()
		var fe *vault.FieldError
		switch {
		case tc.field == "" && err != nil:
			t.Errorf("%s: Validate() = %v, want nil", tc.name, err)
		case tc.field != "" && (!errors.As(err, &fe) || fe.Field != tc.field):
			t.Errorf("%s: Validate() = %v, want a FieldError for %s", tc.name, err, tc.field)
		case tc.field != "" && (!errors.Is(err, vault.ErrInvalid) || len(err.Error()) > 200):
			t.Errorf("%s: %v does not match ErrInvalid or is too long", tc.name, err)
		}
	}
}

func TestFieldErrorQuotesShortly(t *testing.T) {
	_, err := vault.ParseURI("otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&algorithm=MD5")
	if err == nil || !strings.Contains(err.Error(), `"MD5"`) {
		t.Errorf("error %v does not name the rejected value", err)
	}
	a := vault.Account{Type: vault.Type(strings.Repeat("é", 100)), Name: "x", Secret: vault.Secret("k")}
	err = a.Validate()
	if err == nil || !strings.Contains(err.Error(), `"éééééé"...`) || len(err.Error()) > 80 {
		t.Errorf("Validate error %q: want the type cut to 12 bytes at a rune boundary", err)
	}
}

func TestLabel(t *testing.T) {
	for _, tc := range []struct{ issuer, name, want string }{
		{"GitHub", "alice", "GitHub (alice)"},
		{"GitHub", "", "GitHub"},
		{"", "alice", "alice"},
		{"", "", ""},
	} {
		a := vault.Account{Issuer: tc.issuer, Name: tc.name}
		if got := a.Label(); got != tc.want {
			t.Errorf("Label(%q, %q) = %q, want %q", tc.issuer, tc.name, got, tc.want)
		}
	}
}

func TestSameAs(t *testing.T) {
	base := vault.Account{ID: "1", Type: vault.TOTP, Issuer: "I", Name: "n", Secret: vault.Secret("key"), Algorithm: vault.SHA1, Digits: 6, Period: 30}
	other := base
	other.ID, other.Digits, other.Pinned, other.Secret = "2", 8, true, vault.Secret("key") // a fresh slice with the same bytes
	if !base.SameAs(&other) || !other.SameAs(&base) {
		t.Error("accounts differing only in ID/digits/pin are not the same")
	}
	for name, change := range map[string]func(*vault.Account){
		"type":   func(a *vault.Account) { a.Type = vault.HOTP },
		"issuer": func(a *vault.Account) { a.Issuer = "J" },
		"name":   func(a *vault.Account) { a.Name = "m" },
		"secret": func(a *vault.Account) { a.Secret = vault.Secret("kez") },
		"prefix": func(a *vault.Account) { a.Secret = vault.Secret("ke") },
	} {
		b := base
		change(&b)
		if base.SameAs(&b) || b.SameAs(&base) {
			t.Errorf("accounts with a different %s are the same", name)
		}
	}
}

// No formatting verb a log line would use reveals the secret.
func TestSecretDoesNotLeakThroughFmt(t *testing.T) {
	secret := vault.Secret("open-sesame-0123456789")
	acct := vault.Account{ID: "id1", Type: vault.TOTP, Issuer: "GitHub", Name: "alice", Secret: secret, Algorithm: vault.SHA1, Digits: 6, Period: 30}
	forms := map[string]string{
		"raw":          string(secret),
		"base32":       secret.Base32(),
		"base32 lower": strings.ToLower(secret.Base32()),
		"hex":          hex.EncodeToString(secret),
		"base64":       base64.StdEncoding.EncodeToString(secret),
		"bytes":        fmt.Sprint([]byte(secret)),
		"go bytes":     fmt.Sprintf("%#v", []byte(secret)),
	}
	outputs := []string{
		fmt.Sprintf("%v %+v %#v %s", acct, acct, acct, acct.Secret),
		fmt.Sprintf("%v %+v %#v %s %q %x %X", &acct, &acct, &acct, &acct.Secret, acct.Secret, acct.Secret, acct.Secret),
		fmt.Sprint(acct, []vault.Account{acct}, map[string]vault.Account{"k": acct}),
		fmt.Sprintf("%#v", []vault.Account{acct}),
		fmt.Sprintf("%v", struct{ A vault.Account }{acct}),
		fmt.Errorf("wrapping %v: %w", acct, errors.New("x")).Error(),
	}
	for _, out := range outputs {
		if !strings.Contains(out, "[secret]") {
			t.Errorf("output does not show the [secret] placeholder: %s", out)
		}
		for name, f := range forms {
			if strings.Contains(out, f) {
				t.Errorf("the secret's %s form appears in %q", name, out)
			}
		}
	}
	// Errors about an account name it by label, never by secret.
	bad := acct
	bad.Digits = 11
	if _, err := bad.Code(time.Unix(1_700_000_000, 0)); err == nil || strings.Contains(err.Error(), secret.Base32()) {
		t.Errorf("Code error %v", err)
	}
}
