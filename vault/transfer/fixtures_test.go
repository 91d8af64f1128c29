package transfer

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sesame-auth/sesame/vault/vaulttest"

	"github.com/sesame-auth/sesame/vault"
)

// The tests in this file import the real export files in ../shared/fixtures
// (GPL data kept out of the module) and compare every account with the
// entries the fixtures' README.txt expects.

func readFixture(tb testing.TB, rel ...string) Input {
	tb.Helper()
	in, err := ReadFile(vaulttest.Fixture(tb, rel...))
	if err != nil {
		tb.Fatal(err)
	}
	return in
}

// want is an expected account, compared field by field.
type want struct {
	Type    vault.Type
	Issuer  string
	Name    string
	Secret  string // base32
	Algo    vault.Algorithm
	Digits  int
	Period  int
	Counter uint64
}

func (w want) String() string {
	return fmt.Sprintf("%s %q/%q %s %s %d p%d c%d", w.Type, w.Issuer, w.Name, w.Secret, w.Algo, w.Digits, w.Period, w.Counter)
}

func got(a vault.Account) want {
	return want{a.Type, a.Issuer, a.Name, a.Secret.Base32(), a.Algorithm, a.Digits, a.Period, a.Counter}
}

// vectors loads expected/aegis_test_vectors.json: entries #1-#8.
func vectors(tb testing.TB) []want {
	tb.Helper()
	b, err := os.ReadFile(vaulttest.Fixture(tb, "expected", "aegis_test_vectors.json"))
	if err != nil {
		tb.Fatal(err)
	}
	var f struct {
		Entries []struct {
			Type, Issuer, Name, Secret, Algo string
			Digits, Period                   int
			Counter                          uint64
		}
	}
	if err := json.Unmarshal(b, &f); err != nil {
		tb.Fatal(err)
	}
	var out []want
	for _, e := range f.Entries {
		out = append(out, want{vault.Type(e.Type), e.Issuer, e.Name, e.Secret, vault.Algorithm(e.Algo), e.Digits, e.Period, e.Counter})
	}
	if len(out) != 8 {
		tb.Fatalf("aegis_test_vectors.json has %d entries, want 8", len(out))
	}
	return out
}

// pick returns vectors by their 1-based README number, adjusted by fn.
func pick(v []want, nums []int, fn func(w *want)) []want {
	var out []want
	for _, n := range nums {
		w := v[n-1]
		if fn != nil {
			fn(&w)
		}
		out = append(out, w)
	}
	return out
}

func exact(*want) {}

// asTOTP turns an entry into the TOTP that 2FAS schema 1/2 exports hold.
func asTOTP(w *want) {
	if w.Type != vault.TOTP {
		w.Type, w.Counter = vault.TOTP, 0
		if w.Period == 0 {
			w.Period = 30
		}
	}
}

// totpAuth is what TOTP Authenticator keeps of an entry: SHA-1, 6 digits and
// 30 s whatever the site asked, and the name in lower case.
func totpAuth(w *want) {
	w.Algo, w.Digits, w.Period, w.Name = vault.SHA1, 6, 30, strings.ToLower(w.Name)
}

func sortWants(ws []want) []want {
	ws = slices.Clone(ws)
	slices.SortFunc(ws, func(a, b want) int { return strings.Compare(a.String(), b.String()) })
	return ws
}

func assertAccounts(t *testing.T, res *Result, wants []want) {
	t.Helper()
	var gots []want
	for _, a := range res.Accounts {
		gots = append(gots, got(a))
	}
	g, w := sortWants(gots), sortWants(wants)
	if len(g) != len(w) {
		t.Errorf("imported %d accounts, want %d\n got: %v\nwant: %v", len(g), len(w), g, w)
		return
	}
	for i := range g {
		if g[i] != w[i] {
			t.Errorf("account %d:\n got %v\nwant %v", i, g[i], w[i])
		}
	}
}

func password(pw string) PasswordFunc {
	return func(string, Format) ([]byte, error) { return []byte(pw), nil }
}

// TestFixtures imports each required fixture with detection and compares
// the accounts with the README's expectations.
func TestFixtures(t *testing.T) {
	v := vectors(t)
	all7 := []int{1, 2, 3, 4, 5, 6, 7}
	counterMinusOne := func(w *want) {
		if w.Type == vault.HOTP {
			w.Counter--
		}
	}
	wutingfeng := []want{
		{vault.TOTP, "Deno", "Mason", v[0].Secret, vault.SHA1, 6, 30, 0},
		{vault.TOTP, "SPDX", "James", v[1].Secret, vault.SHA256, 7, 30, 0},
		{vault.TOTP, "Airbnb", "Elijah", v[2].Secret, vault.SHA512, 8, 60, 0},
		{vault.Steam, "Boeing", "Sophia", v[6].Secret, vault.SHA1, 5, 10, 0},
		{vault.HOTP, "Air Canada", "Benjamin", v[4].Secret, vault.SHA256, 8, 0, 10},
	}
	cases := []struct {
		path   []string
		pw     string
		format Format
		forced bool // not detected: imported with Format
		want   []want
		skips  int
	}{
		{[]string{"aegis", "aegis_plain.json"}, "", FormatAegis, false, pick(v, all7, exact), 0},
		{[]string{"aegis", "aegis_encrypted.json"}, "test", FormatAegis, false, pick(v, all7, exact), 0},
		{[]string{"aegis", "aegis_plain_grouped_v2.json"}, "", FormatAegis, false, pick(v, all7, exact), 0},
		{[]string{"otpauth_uri_list", "plain.txt"}, "", FormatURIList, false, pick(v, all7, exact), 0},
		{[]string{"ente_auth", "ente_auth.txt"}, "", FormatEnte, false, pick(v, all7, exact), 0},
		{[]string{"2fas", "2fas_authenticator.json"}, "", Format2FAS, false, pick(v, []int{1, 2, 3, 4, 5, 6}, func(w *want) {
			*w = want{vault.TOTP, w.Issuer, w.Name, w.Secret, vault.SHA1, 6, 30, 0}
		}), 0},
		{[]string{"2fas", "2fas_authenticator_plain.2fas"}, "", Format2FAS, false, pick(v, []int{1, 3, 4, 6}, asTOTP), 0},
		{[]string{"2fas", "2fas_authenticator_encrypted.2fas"}, "test", Format2FAS, false, pick(v, []int{1, 3, 4, 6}, asTOTP), 0},
		{[]string{"2fas", "2fas_authenticator_plain_v3.2fas"}, "", Format2FAS, false, pick(v, []int{1, 2, 3, 4, 5, 6}, exact), 0},
		{[]string{"2fas", "2fas_authenticator_encrypted_v3.2fas"}, "test", Format2FAS, false, pick(v, []int{1, 2, 3, 4, 5, 6}, exact), 0},
		{[]string{"2fas", "2fas_authenticator_plain_v4.2fas"}, "", Format2FAS, false, pick(v, []int{1, 4, 5, 6, 7}, exact), 0},
		{[]string{"2fas", "2fas_authenticator_encrypted_v4.2fas"}, "test", Format2FAS, false, pick(v, []int{1, 4, 5, 6, 7}, exact), 0},
		{[]string{"2fas", "wutingfeng_encrypted_test.2fas"}, "example.com", Format2FAS, false, wutingfeng, 0},
		{[]string{"2fas", "wutingfeng_plaintext_test.json"}, "", Format2FAS, false, wutingfeng, 0},
		{[]string{"andotp", "andotp_plain.json"}, "", FormatAndOTP, false, pick(v, all7, exact), 0},
		{[]string{"andotp", "andotp_encrypted.bin"}, "test", FormatAndOTP, false, pick(v, all7, exact), 0},
		{[]string{"andotp", "andotp_encrypted_old.bin"}, "test", FormatAndOTP, true, pick(v, []int{1, 2, 3, 4, 5, 6}, func(w *want) {
			w.Name = w.Issuer + ":" + w.Name
		}), 0},
		{[]string{"bitwarden", "bitwarden.json"}, "", FormatBitwarden, false, append(pick(v, []int{1, 2, 3}, exact),
			want{vault.Steam, "Steam", "Test Steam", v[6].Secret, vault.SHA1, 5, 30, 0}), 0},
		{[]string{"bitwarden", "bitwarden.csv"}, "", FormatBitwarden, false, append(pick(v, []int{1, 2, 3}, exact),
			want{vault.Steam, "Steam", "Test 4", v[6].Secret, vault.SHA1, 5, 30, 0}), 0},
		{[]string{"freeotp_plus", "freeotp_plus.json"}, "", FormatFreeOTPPlus, false, pick(v, []int{1, 2, 3, 4, 5, 6}, counterMinusOne), 0},
		{[]string{"freeotp_plus", "freeotp_plus_internal.xml"}, "", FormatFreeOTPXML, false, pick(v, []int{1, 2, 3, 4, 5, 6}, counterMinusOne), 0},
		{[]string{"freeotp", "freeotp.xml"}, "", FormatFreeOTPXML, false, pick(v, []int{1, 3, 4, 6}, counterMinusOne), 0},
		{[]string{"freeotp", "freeotp_v2_api23.xml"}, "test", FormatFreeOTP2, false, pick(v, []int{1, 2, 3, 4, 5, 6}, exact), 0},
		{[]string{"freeotp", "freeotp_v2_api25.xml"}, "test", FormatFreeOTP2, false, pick(v, []int{1, 2, 3, 4, 5, 6}, exact), 0},
		{[]string{"freeotp", "freeotp_v2_api27.xml"}, "test", FormatFreeOTP2, false, pick(v, []int{1, 2, 3, 4, 5, 6}, exact), 0},
		{[]string{"freeotp", "freeotp_v2_api34.xml"}, "test", FormatFreeOTP2, false, pick(v, []int{1, 2, 3, 4, 5, 6}, exact), 0},
		{[]string{"freeotp", "freeotp_v2_null_algo.xml"}, "test", FormatFreeOTP2, false, pick(v, []int{1}, exact), 0},
		{[]string{"authenticator_plus", "authenticator_plus.zip"}, "testtesttest", FormatAuthPlus, false, pick(v, all7, exact), 0},
		{[]string{"proton_authenticator", "proton_authenticator.json"}, "", FormatProton, false, pick(v, []int{1, 2, 3}, exact), 0},
		{[]string{"stratum", "stratum_plain.json"}, "", FormatStratum, false, pick(v, all7, exact), 0},
		{[]string{"stratum", "stratum_encrypted.bin"}, "test", FormatStratum, false, pick(v, all7, exact), 0},
		{[]string{"stratum", "stratum_encrypted_legacy.bin"}, "test", FormatStratum, false, pick(v, all7, exact), 0},
		{[]string{"totp_authenticator", "totp_authenticator.bin"}, "Testtest1", FormatTOTPAuth, false, pick(v, []int{1, 2, 3}, totpAuth), 0},
		{[]string{"totp_authenticator", "totp_authenticator_internal.xml"}, "", FormatTOTPAuth, false, pick(v, []int{1, 2, 3}, totpAuth), 0},
		{[]string{"steam", "steam.json"}, "", FormatSteam, false, pick(v, []int{7}, func(w *want) { w.Issuer = "Steam" }), 0},
		{[]string{"steam", "steam_old.json"}, "", FormatSteam, false, pick(v, []int{7}, func(w *want) { w.Issuer = "Steam" }), 0},
		{[]string{"duo", "duo.json"}, "", FormatDuo, false, []want{
			{vault.TOTP, "", "Mason", v[0].Secret, vault.SHA1, 6, 30, 0},
			{vault.HOTP, "", "James", v[3].Secret, vault.SHA1, 6, 0, 3},
		}, 0},
		{[]string{"google_authenticator", "scito_test_plus_problem_export.txt"}, "", FormatGoogle, false, []want{
			{vault.TOTP, "SerenityLabs", "test1@serenitylabs.co.uk", "A4RFDYMF4GSLUIBQV4ZP67OJEZ2XUQVM", vault.SHA1, 6, 30, 0},
			{vault.TOTP, "SerenityLabs", "test2@serenitylabs.co.uk", "SCDDZ7PW5MOZLE3PQCAZM7L4S35K3UDX", vault.SHA1, 6, 30, 0},
			{vault.TOTP, "SerenityLabs", "test3@serenitylabs.co.uk", "TR76272RVYO6EAEY2FX7W7R7KUDEGPJ4", vault.SHA1, 6, 30, 0},
			{vault.TOTP, "SerenityLabs", "test4@serenitylabs.co.uk", "N2ILWSXSJUQUB7S6NONPJSC62NPG7EXN", vault.SHA1, 6, 30, 0},
		}, 0},
		{[]string{"google_authenticator", "dim13_migration_samples.txt"}, "", FormatGoogle, false, []want{
			{vault.TOTP, "Example", "alice@google.com", "JBSWY3DPEHPK3PXP", vault.SHA1, 6, 30, 0},
			{vault.TOTP, "Example", "alice@google.com", "CHGEE4VO72DVNFA76NJS7HL6EREGQ6HU", vault.SHA1, 6, 30, 0},
		}, 0},
		{[]string{"synthesized", "ga_migration_all_enums.txt"}, "", FormatGoogle, false, []want{
			{vault.TOTP, "Example", "alice@example.com", "JBSWY3DPEHPK3PXP", vault.SHA256, 8, 30, 0},
			{vault.HOTP, "WWE", "Mason", "5VAML3X35THCEBVRLV24CGBKOY", vault.SHA512, 6, 0, 10300},
			{vault.TOTP, "", "Mason", "4SJHB4GSD43FZBAI7C2HLRJGPQ", vault.SHA1, 6, 30, 0},
			{vault.TOTP, "Bücher & Co", "jörg@example.de", "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", vault.SHA1, 6, 30, 0},
		}, 1},
	}
	for _, tc := range cases {
		t.Run(filepath.Join(tc.path...), func(t *testing.T) {
			t.Parallel() // the encrypted ones spend seconds in key derivation
			in := readFixture(t, tc.path...)
			f, err := Detect(in.Data)
			switch {
			case tc.forced:
				if !errors.Is(err, ErrUnknownFormat) || !strings.Contains(err.Error(), "--format "+string(tc.format)) {
					t.Errorf("Detect = %q, %v; want an unknown format that says --format %s", f, err, tc.format)
				}
			case err != nil:
				t.Fatalf("Detect: %v", err)
			case f != tc.format:
				t.Errorf("Detect = %q, want %q", f, tc.format)
			}
			asked := 0
			var format Format
			if tc.forced {
				format = tc.format
			}
			opts := ImportOptions{Format: format, Password: func(name string, f Format) ([]byte, error) {
				asked++
				if tc.pw == "" {
					t.Errorf("asked a password for an unencrypted file")
				}
				return []byte(tc.pw), nil
			}}
			res, err := Import(opts, in)
			if err != nil {
				t.Fatalf("Import: %v", err)
			}
			if tc.pw != "" && asked != 1 {
				t.Errorf("password asked %d times, want once", asked)
			}
			assertAccounts(t, res, tc.want)
			if len(res.Skipped) != tc.skips {
				t.Errorf("skipped %v, want %d skips", res.Skipped, tc.skips)
			}
			if len(res.Inputs) != 1 || res.Inputs[0].Format != tc.format {
				t.Errorf("Inputs = %+v, want one input of format %s", res.Inputs, tc.format)
			}
			for _, a := range res.Accounts {
				if _, err := a.Code(testTime); err != nil {
					t.Errorf("%s: Code: %v", a.Label(), err)
				}
			}
			if tc.pw != "" {
				_, err := Import(ImportOptions{Format: format, Password: password(tc.pw + "x")}, in)
				if !errors.Is(err, ErrWrongPassword) {
					t.Errorf("wrong password: err = %v, want ErrWrongPassword", err)
				}
				_, err = Import(ImportOptions{Format: format}, in)
				if !errors.Is(err, ErrPasswordRequired) {
					t.Errorf("no password: err = %v, want ErrPasswordRequired", err)
				}
			}
		})
	}
}

// TestFixtureCodes checks that imported accounts produce the README's codes,
// so that the secrets, algorithms and periods are right together.
func TestFixtureCodes(t *testing.T) {
	b, err := os.ReadFile(vaulttest.Fixture(t, "expected", "aegis_test_vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Entries []struct {
			Secret  string
			AtTime  map[string]string `json:"expected_codes_at_unix_time"`
			AtCount string            `json:"expected_code_at_counter"`
		}
	}
	if err := json.Unmarshal(b, &f); err != nil {
		t.Fatal(err)
	}
	res, err := Import(ImportOptions{Password: password("test")}, readFixture(t, "aegis", "aegis_encrypted.json"))
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, e := range f.Entries {
		for _, a := range res.Accounts {
			if a.Secret.Base32() != e.Secret {
				continue
			}
			if a.Type == vault.HOTP {
				c, err := a.Code(testTime)
				if err != nil || c.Value != e.AtCount {
					t.Errorf("%s: code %q (%v), want %q", a.Label(), c.Value, err, e.AtCount)
				}
				checked++
				continue
			}
			for ts, wantCode := range e.AtTime {
				var sec int64
				fmt.Sscan(ts, &sec)
				c, err := a.Code(unix(sec))
				if err != nil || c.Value != wantCode {
					t.Errorf("%s @%s: code %q (%v), want %q", a.Label(), ts, c.Value, err, wantCode)
				}
				checked++
			}
		}
	}
	if checked < 7 {
		t.Errorf("checked only %d codes", checked)
	}
}

// TestGoogleScitoExample imports scito's example export and compares it with
// scito's own expected output (example_output.json): 6 entries, of which two
// repeat an earlier one and are skipped as duplicates.
func TestGoogleScitoExample(t *testing.T) {
	b, err := os.ReadFile(vaulttest.Fixture(t, "google_authenticator", "scito_example_output.json"))
	if err != nil {
		t.Fatal(err)
	}
	var rows []struct {
		Name, Secret, Issuer, Type string
		Counter                    *uint64
	}
	if err := json.Unmarshal(b, &rows); err != nil {
		t.Fatal(err)
	}
	var wants []want
	for _, r := range rows {
		w := want{Type: vault.Type(r.Type), Issuer: r.Issuer, Name: r.Name, Secret: r.Secret, Algo: vault.SHA1, Digits: 6, Period: 30}
		if r.Counter != nil {
			w.Counter, w.Period = *r.Counter, 0
		}
		if !slices.Contains(wants, w) {
			wants = append(wants, w)
		}
	}
	for _, file := range []string{"scito_example_export.txt", "scito_example_export_only_totp.txt"} {
		t.Run(file, func(t *testing.T) {
			res, err := Import(ImportOptions{}, readFixture(t, "google_authenticator", file))
			if err != nil {
				t.Fatal(err)
			}
			expect := wants
			if strings.Contains(file, "only_totp") {
				expect = slices.DeleteFunc(slices.Clone(wants), func(w want) bool { return w.Type == vault.HOTP })
			}
			assertAccounts(t, res, expect)
			dups := 0
			for _, s := range res.Skipped {
				if strings.Contains(s.Reason, "duplicate") {
					dups++
				}
			}
			if dups != 2 || len(res.Skipped) != 2 {
				t.Errorf("skipped %v, want the 2 repeated entries as duplicates", res.Skipped)
			}
		})
	}
}

// TestMigrationExpectedDecoded checks the payload parser against the raw
// protobuf fields in expected_decoded.json, for every migration link of the
// fixtures, including the ones that must fail.
func TestMigrationExpectedDecoded(t *testing.T) {
	b, err := os.ReadFile(vaulttest.Fixture(t, "google_authenticator", "expected_decoded.json"))
	if err != nil {
		t.Fatal(err)
	}
	type otp struct {
		Secret, Name, Issuer, Algorithm, Digits, Type string
		Counter                                       int64
	}
	var files map[string][]struct {
		URI     string
		Error   string
		Decoded *struct {
			OTPs       []otp `json:"otp_parameters"`
			Version    int32 `json:"version"`
			BatchSize  int32 `json:"batch_size"`
			BatchIndex int32 `json:"batch_index"`
			BatchID    int32 `json:"batch_id"`
		}
	}
	if err := json.Unmarshal(b, &files); err != nil {
		t.Fatal(err)
	}
	algos := map[int32]string{1: "SHA1", 2: "SHA256", 3: "SHA512", 4: "MD5"}
	digits := map[int32]string{1: "6", 2: "8"}
	types := map[int32]string{1: "HOTP", 2: "TOTP"}
	n := 0
	for file, uris := range files {
		for i, u := range uris {
			n++
			p, err := ParseMigrationURI(u.URI)
			if !strings.HasPrefix(u.URI, "otpauth-migration://") {
				// scito_test_export_wrong_prefix.txt: the payload is fine, the scheme is not.
				if !errors.Is(err, ErrCorrupt) {
					t.Errorf("%s #%d: err = %v, want the wrong scheme refused", file, i, err)
				}
				continue
			}
			if u.Error != "" {
				if !errors.Is(err, ErrCorrupt) {
					t.Errorf("%s #%d: err = %v, want ErrCorrupt", file, i, err)
				}
				continue
			}
			if err != nil {
				t.Errorf("%s #%d: %v", file, i, err)
				continue
			}
			d := u.Decoded
			if p.Version != d.Version || p.BatchSize != d.BatchSize || p.BatchIndex != d.BatchIndex || p.BatchID != d.BatchID {
				t.Errorf("%s #%d: header %d/%d/%d/%d, want %d/%d/%d/%d", file, i, p.Version, p.BatchSize, p.BatchIndex, p.BatchID,
					d.Version, d.BatchSize, d.BatchIndex, d.BatchID)
			}
			var gotOTPs []otp
			for _, o := range p.OTPs {
				gotOTPs = append(gotOTPs, otp{o.Secret.Base32(), o.Name, o.Issuer, algos[o.Algorithm], digits[o.Digits], types[o.Type], o.Counter})
			}
			if !slices.Equal(gotOTPs, d.OTPs) {
				t.Errorf("%s #%d:\n got %+v\nwant %+v", file, i, gotOTPs, d.OTPs)
			}
		}
	}
	if n < 20 {
		t.Errorf("only %d links in expected_decoded.json", n)
	}
}

// TestGoogleBatchFixture imports the 3-QR export of johncallahan's samples:
// all three parts give 22 accounts; a missing part fails the import and
// says which one.
func TestGoogleBatchFixture(t *testing.T) {
	in := readFixture(t, "google_authenticator", "johncallahan_migration_samples.txt")
	var parts []string
	for line := range strings.Lines(string(in.Data)) {
		if strings.HasPrefix(line, "otpauth-migration:") && strings.Contains(line, "%") {
			if p, err := ParseMigrationURI(line); err == nil && p.BatchSize == 3 {
				parts = append(parts, strings.TrimSpace(line))
			}
		}
	}
	if len(parts) != 3 {
		t.Fatalf("found %d percent-encoded batch parts, want 3", len(parts))
	}
	inputs := func(idx ...int) []Input {
		var out []Input
		for _, i := range idx {
			out = append(out, Input{Name: fmt.Sprintf("part%d", i+1), Data: []byte(parts[i])})
		}
		return out
	}
	res, err := Import(ImportOptions{}, inputs(2, 0, 1)...)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Accounts) != 22 || len(res.Skipped) != 0 {
		t.Errorf("got %d accounts, %v skipped; want 22 and none", len(res.Accounts), res.Skipped)
	}
	for _, a := range res.Accounts {
		if a.Issuer != "ACME" || strings.HasPrefix(a.Name, "ACME:") || !strings.HasSuffix(a.Name, "@example.com") {
			t.Errorf("account %q / %q, want issuer ACME and the bare address", a.Issuer, a.Name)
		}
	}
	_, err = Import(ImportOptions{}, inputs(0, 2)...)
	var mp *MissingPartsError
	if !errors.As(err, &mp) || !errors.Is(err, ErrMissingBatchParts) {
		t.Fatalf("err = %v, want a *MissingPartsError", err)
	}
	if len(mp.Exports) != 1 || mp.Exports[0].Size != 3 || !slices.Equal(mp.Exports[0].Missing, []int{2}) || mp.Exports[0].BatchID != 251676888 {
		t.Errorf("missing = %+v, want part 2 of 3 of batch 251676888", mp)
	}
	res, err = Import(ImportOptions{AllowPartial: true}, inputs(0, 2)...)
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Accounts) != 12 || len(res.Skipped) != 1 || !strings.Contains(res.Skipped[0].Label, "2 of 3") {
		t.Errorf("partial import: %d accounts, skipped %v; want 12 and part 2 listed", len(res.Accounts), res.Skipped)
	}

	// The whole file holds a truncated payload too: nothing is imported.
	_, err = Import(ImportOptions{}, in)
	if !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "truncated") {
		t.Errorf("whole file: err = %v, want ErrCorrupt about truncated data", err)
	}
}

// TestFixtureRejects checks the fixtures that must not import.
func TestFixtureRejects(t *testing.T) {
	cases := []struct {
		path []string
		err  error
	}{
		{[]string{"google_authenticator", "scito_test_export_wrong_data.txt"}, ErrCorrupt},
		{[]string{"google_authenticator", "scito_test_export_wrong_prefix.txt"}, ErrUnknownFormat},
		{[]string{"google_authenticator", "scito_test_export_wrong_content.txt"}, ErrUnknownFormat},
		{[]string{"expected", "rfc6238_totp_vectors.txt"}, ErrUnknownFormat},
		{[]string{"google_authenticator", "scito_example_output.json"}, ErrUnknownFormat},
		{[]string{"google_authenticator", "google_authenticator.sqlite"}, ErrUnknownFormat},
		{[]string{"microsoft_authenticator", "microsoft_authenticator.sqlite"}, ErrUnknownFormat},
	}
	for _, tc := range cases {
		t.Run(filepath.Join(tc.path...), func(t *testing.T) {
			res, err := Import(ImportOptions{}, readFixture(t, tc.path...))
			if !errors.Is(err, tc.err) || res != nil {
				t.Errorf("Import = %v, %v; want nil and %v", res, err, tc.err)
			}
		})
	}
}
