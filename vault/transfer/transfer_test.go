package transfer

import (
	"bytes"
	"crypto/pbkdf2"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/vault"
	"github.com/sesame-auth/sesame/vault/vaulttest"
)

// sample returns accounts of every shape Sesame holds. The secrets are
// made up for these tests.
func sample() []vault.Account {
	sec := func(s string) vault.Secret {
		b, err := vault.ParseSecret(s)
		if err != nil {
			panic(err)
		}
		return b
	}
	return []vault.Account{
		{Type: vault.TOTP, Issuer: "Example", Name: "alice@example.com", Secret: sec("JBSWY3DPEHPK3PXP"), Algorithm: vault.SHA1, Digits: 6, Period: 30},
		{Type: vault.TOTP, Issuer: "Bank", Name: "bob", Secret: sec("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"), Algorithm: vault.SHA256, Digits: 8, Period: 30},
		{Type: vault.HOTP, Issuer: "Hotp Co", Name: "carol", Secret: sec("MFRGGZDFMZTWQ2LK"), Algorithm: vault.SHA512, Digits: 6, Counter: 42},
		{Type: vault.TOTP, Name: "no-issuer", Secret: sec("ONSWG4TFOQYTEMZU"), Algorithm: vault.SHA1, Digits: 6, Period: 30},
		{Type: vault.TOTP, Issuer: "Bücher & Co", Name: "jörg@example.de", Secret: sec("KRUGS4ZANFZSAYJA"), Algorithm: vault.SHA1, Digits: 8, Period: 30},
		// The next two cannot be held by Google Authenticator's format.
		{Type: vault.TOTP, Issuer: "Odd", Name: "seven", Secret: sec("NBSWY3DPO5XXE3DE"), Algorithm: vault.SHA512, Digits: 7, Period: 60},
		{Type: vault.Steam, Issuer: "Steam", Name: "gamer", Secret: sec("JRZCL47CMXVOQMNPZR2F7J4RGI"), Algorithm: vault.SHA1, Digits: 5, Period: 30},
	}
}

func wants(accounts []vault.Account) []want {
	var out []want
	for _, a := range accounts {
		out = append(out, got(a))
	}
	return out
}

// lowWork lowers the work factors an import accepts, so that tests of the
// caps run fast.
var lowWork = limits{scryptN: 1 << 10, pbkdf2Iter: 1000}

func TestRoundTripURIs(t *testing.T) {
	text := ExportURIs(sample())
	if f, err := Detect(text); err != nil || f != FormatURIList {
		t.Fatalf("Detect = %q, %v; want uri", f, err)
	}
	res, err := Import(ImportOptions{}, Input{Name: "list.txt", Data: text})
	if err != nil {
		t.Fatal(err)
	}
	assertAccounts(t, res, wants(sample()))
	if len(res.Skipped) != 0 {
		t.Errorf("skipped %v", res.Skipped)
	}
}

func TestRoundTripGoogle(t *testing.T) {
	// 23 Google-compatible accounts need 3 QR codes of at most 10.
	var accounts []vault.Account
	for i := range 23 {
		a := sample()[i%5]
		a.Name = fmt.Sprintf("%s-%d", a.Name, i)
		accounts = append(accounts, a)
	}
	accounts = append(accounts, sample()[5:]...)
	uris, skipped, err := ExportGoogle(accounts)
	if err != nil {
		t.Fatal(err)
	}
	if len(uris) != 3 {
		t.Errorf("%d QR codes for 23 accounts, want 3", len(uris))
	}
	if len(skipped) != 2 || skipped[0].Label != "Odd (seven)" || skipped[1].Label != "Steam (gamer)" {
		t.Errorf("skipped %v, want the 7-digit and the Steam account", skipped)
	}
	var id int32
	for i, u := range uris {
		if len(u) > googleMaxURILength {
			t.Errorf("QR code %d holds %d bytes, over %d", i, len(u), googleMaxURILength)
		}
		p, err := ParseMigrationURI(u)
		if err != nil {
			t.Fatal(err)
		}
		if i == 0 {
			id = p.BatchID
		}
		if p.BatchSize != 3 || p.BatchIndex != int32(i) || p.BatchID != id || p.Version != 1 {
			t.Errorf("QR code %d: batch %d/%d id %d version %d", i, p.BatchIndex, p.BatchSize, p.BatchID, p.Version)
		}
	}
	var inputs []Input
	for i, u := range uris {
		inputs = append(inputs, Input{Name: fmt.Sprint("qr", i), Data: []byte(u)})
	}
	res, err := Import(ImportOptions{}, inputs...)
	if err != nil {
		t.Fatal(err)
	}
	assertAccounts(t, res, wants(accounts[:23]))

	// Dropping the middle QR code is reported.
	_, err = Import(ImportOptions{}, inputs[0], inputs[2])
	var mp *MissingPartsError
	if !errors.As(err, &mp) || len(mp.Exports) != 1 || !slices.Equal(mp.Exports[0].Missing, []int{2}) || mp.Exports[0].Size != 3 {
		t.Errorf("err = %v, want QR code 2 of 3 missing", err)
	}
}

func TestRoundTripBackup(t *testing.T) {
	accounts := sample()
	for i := range accounts {
		accounts[i].ID = vault.NewID()
		accounts[i].Added = time.Date(2024, 5, 6, 7, 8, 9, 0, time.UTC)
	}
	accounts[1].Pinned = true
	data, err := exportBackup(accounts, []byte("correct horse"), 10)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(data, []byte("-----BEGIN AGE ENCRYPTED FILE-----")) {
		t.Errorf("backup is not armored age: %.40q", data)
	}
	for _, a := range accounts {
		if bytes.Contains(data, []byte(a.Secret.Base32())) || bytes.Contains(data, []byte(a.Issuer+"\"")) {
			t.Fatalf("backup shows %s in the clear", a.Label())
		}
	}
	if f, err := Detect(data); err != nil || f != FormatBackup {
		t.Fatalf("Detect = %q, %v; want sesame", f, err)
	}
	res, err := Import(ImportOptions{Password: password("correct horse")}, Input{Name: "b.age", Data: data})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Accounts) != len(accounts) {
		t.Fatalf("%d accounts back, want %d", len(res.Accounts), len(accounts))
	}
	for i, a := range res.Accounts {
		w := accounts[i]
		if a.ID != w.ID || !a.Added.Equal(w.Added) || a.Pinned != w.Pinned || got(a) != got(w) {
			t.Errorf("account %d: got %+v, want %+v", i, a, w)
		}
	}
	_, err = Import(ImportOptions{Password: password("wrong horse")}, Input{Data: data})
	if !errors.Is(err, ErrWrongPassword) {
		t.Errorf("wrong passphrase: %v", err)
	}
}

func TestRoundTripAegis(t *testing.T) {
	data, err := exportAegis(sample(), []byte("hunter2"), 1<<10)
	if err != nil {
		t.Fatal(err)
	}
	if f, err := Detect(data); err != nil || f != FormatAegis {
		t.Fatalf("Detect = %q, %v; want aegis", f, err)
	}
	for _, a := range sample() {
		if bytes.Contains(data, []byte(a.Secret.Base32())) || bytes.Contains(data, []byte(a.Name)) {
			t.Fatalf("Aegis export shows %s in the clear", a.Label())
		}
	}
	res, err := Import(ImportOptions{Password: password("hunter2")}, Input{Name: "aegis.json", Data: data})
	if err != nil {
		t.Fatal(err)
	}
	assertAccounts(t, res, wants(sample()))
	_, err = Import(ImportOptions{Password: password("hunter3")}, Input{Data: data})
	if !errors.Is(err, ErrWrongPassword) {
		t.Errorf("wrong password: %v", err)
	}
}

// TestAegisExportShape compares the structure of Sesame's Aegis export with
// a real encrypted Aegis vault: the same keys at every level, and the same
// JSON types.
func TestAegisExportShape(t *testing.T) {
	real := readFixture(t, "aegis", "aegis_encrypted.json")
	ours, err := ExportAegis(sample()[:1], []byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	var a, b any
	if err := json.Unmarshal(real.Data, &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(ours, &b); err != nil {
		t.Fatal(err)
	}
	shape := func(v any) string {
		var walk func(string, any, *[]string)
		walk = func(path string, v any, out *[]string) {
			switch x := v.(type) {
			case map[string]any:
				for k, e := range x {
					if k == "repaired" { // Aegis' own repair marker, not part of the format
						continue
					}
					walk(path+"."+k, e, out)
				}
			case []any:
				if len(x) > 0 {
					walk(path+"[]", x[0], out)
				}
			default:
				*out = append(*out, fmt.Sprintf("%s:%T", path, v))
			}
		}
		var out []string
		walk("", v, &out)
		slices.Sort(out)
		return strings.Join(out, "\n")
	}
	if sa, sb := shape(a), shape(b); sa != sb {
		t.Errorf("shape differs from a real Aegis vault\nreal:\n%s\nours:\n%s", sa, sb)
	}
	var f aegisFile
	if err := json.Unmarshal(ours, &f); err != nil {
		t.Fatal(err)
	}
	s := f.Header.Slots[0]
	if s.Type != 1 || s.N != 32768 || s.R != 8 || s.P != 1 || len(s.Salt) != 64 || len(s.Key) != 64 {
		t.Errorf("slot %+v, want a password slot with scrypt 32768/8/1, 32-byte salt and key", s)
	}
}

// TestOwnFiles imports small hand-made files of each format.
func TestOwnFiles(t *testing.T) {
	cases := []struct {
		name   string
		format Format
		data   string
		want   []want
		skips  int
	}{
		{"aegis plain v3 with yandex", FormatAegis, `{"version":1,"header":{"slots":null,"params":null},"db":{"version":3,"entries":[
			{"type":"totp","uuid":"u1","name":"alice","issuer":"Example","favorite":true,"info":{"secret":"JBSWY3DPEHPK3PXP","algo":"SHA1","digits":6,"period":30}},
			{"type":"yandex","uuid":"u2","name":"y","issuer":"Yandex","info":{"secret":"JBSWY3DPEHPK3PXP","algo":"SHA256","digits":8,"period":30}},
			{"type":"hotp","uuid":"u3","name":"h","issuer":"H","info":{"secret":"JBSWY3DPEHPK3PXP","algo":"SHA1","digits":6,"counter":7}}],"groups":[]}}`,
			[]want{{vault.TOTP, "Example", "alice", "JBSWY3DPEHPK3PXP", vault.SHA1, 6, 30, 0}, {vault.HOTP, "H", "h", "JBSWY3DPEHPK3PXP", vault.SHA1, 6, 0, 7}}, 1},
		{"2fas schema 4", Format2FAS, `{"services":[{"name":"GitHub","secret":"JBSWY3DPEHPK3PXP","otp":{"account":"me","issuer":"GitHub","digits":6,"period":30,"algorithm":"SHA1","tokenType":"TOTP"}},
			{"name":"Bad","secret":"1111","otp":{"account":"x","issuer":"Bad","tokenType":"TOTP"}}],"schemaVersion":4}`,
			[]want{{vault.TOTP, "GitHub", "me", "JBSWY3DPEHPK3PXP", vault.SHA1, 6, 30, 0}}, 1},
		{"andotp", FormatAndOTP, `[{"secret":"JBSWY3DPEHPK3PXP======","issuer":"Example","label":"alice","digits":8,"type":"TOTP","algorithm":"SHA256","period":45}]`,
			[]want{{vault.TOTP, "Example", "alice", "JBSWY3DPEHPK3PXP", vault.SHA256, 8, 45, 0}}, 0},
		{"bitwarden json bare secret", FormatBitwarden, `{"encrypted":false,"items":[{"name":"GitLab","login":{"username":"dev","totp":"jbsw y3dp ehpk 3pxp"}},{"name":"No 2FA","login":{"username":"x","totp":null}},{"name":"Note","type":2}]}`,
			[]want{{vault.TOTP, "GitLab", "dev", "JBSWY3DPEHPK3PXP", vault.SHA1, 6, 30, 0}}, 1},
		{"bitwarden csv", FormatBitwarden, "folder,favorite,type,name,notes,fields,reprompt,login_uri,login_username,login_password,login_totp\n" +
			",,login,Site,,,0,https://x,me,pw,otpauth://totp/alice?secret=JBSWY3DPEHPK3PXP\n,,login,Plain,,,0,,,pw,\n",
			[]want{{vault.TOTP, "Site", "alice", "JBSWY3DPEHPK3PXP", vault.SHA1, 6, 30, 0}}, 1},
		{"freeotp+", FormatFreeOTPPlus, `{"tokenOrder":["A:b"],"tokens":[{"algo":"SHA1","counter":0,"digits":6,"issuerExt":"A","label":"b","period":30,"secret":[72,101,108,108,111,33,-34,-83,-66,-17],"type":"TOTP"},
			{"algo":"SHA1","digits":5,"issuerExt":"Steam","label":"s","period":30,"secret":[1,2,3],"type":"TOTP"}]}`,
			[]want{{vault.TOTP, "A", "b", "JBSWY3DPEHPK3PXP", vault.SHA1, 6, 30, 0}, {vault.Steam, "Steam", "s", "AEBAG", vault.SHA1, 5, 30, 0}}, 0},
		{"proton", FormatProton, `{"version":1,"entries":[{"id":"1","content":{"uri":"otpauth://totp/X:y?secret=JBSWY3DPEHPK3PXP&issuer=X","entry_type":"Totp","name":"y"},"note":null},
			{"id":"2","content":{"uri":"steam://JBSWY3DPEHPK3PXP","entry_type":"Steam","name":"gamer"}}]}`,
			[]want{{vault.TOTP, "X", "y", "JBSWY3DPEHPK3PXP", vault.SHA1, 6, 30, 0}, {vault.Steam, "Steam", "gamer", "JBSWY3DPEHPK3PXP", vault.SHA1, 5, 30, 0}}, 0},
		{"ente", FormatEnte, "otpauth://totp/X:y?secret=JBSWY3DPEHPK3PXP&issuer=X&codeDisplay=%7B%7D\n\nnot a link\notpauth://totp/X:z?secret=00&issuer=X\n",
			[]want{{vault.TOTP, "X", "y", "JBSWY3DPEHPK3PXP", vault.SHA1, 6, 30, 0}}, 2},
		{"uri list with duplicates", FormatURIList, "# mine\notpauth://totp/X:y?secret=JBSWY3DPEHPK3PXP\notpauth://totp/X:y?secret=jbswy3dpehpk3pxp\n",
			[]want{{vault.TOTP, "X", "y", "JBSWY3DPEHPK3PXP", vault.SHA1, 6, 30, 0}}, 1},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			data := []byte(tc.data)
			if f, err := Detect(data); err != nil || f != tc.format {
				t.Errorf("Detect = %q, %v; want %q", f, err, tc.format)
			}
			res, err := Import(ImportOptions{}, Input{Name: "own", Data: data})
			if err != nil {
				t.Fatal(err)
			}
			assertAccounts(t, res, tc.want)
			if len(res.Skipped) != tc.skips {
				t.Errorf("skipped %v, want %d", res.Skipped, tc.skips)
			}
			for _, s := range res.Skipped {
				if s.Reason == "" || s.Label == "" || strings.Contains(s.String(), "JBSWY3DP") {
					t.Errorf("skip %q lacks a label or reason, or shows a secret", s)
				}
			}
			// Forcing the format gives the same result.
			res2, err := Import(ImportOptions{Format: tc.format}, Input{Data: data})
			if err != nil || len(res2.Accounts) != len(res.Accounts) {
				t.Errorf("with --format: %v, %v", res2, err)
			}
		})
	}
}

// encrypt2FAS writes servicesEncrypted the way 2FAS does.
func encrypt2FAS(t *testing.T, services, pw string) string {
	salt := randomBytes(256)
	key, err := pbkdf2.Key(sha256.New, pw, salt, twoFASIterations, 32)
	if err != nil {
		t.Fatal(err)
	}
	nonce, sealed := gcmSeal(key, []byte(services))
	b64 := base64.StdEncoding.EncodeToString
	return b64(sealed) + ":" + b64(salt) + ":" + b64(nonce)
}

// encryptAndOTP writes andOTP's current encrypted format (old when iter is 0).
func encryptAndOTP(t *testing.T, plain, pw string, iter uint32) []byte {
	if iter == 0 {
		key := sha256.Sum256([]byte(pw))
		nonce, sealed := gcmSeal(key[:], []byte(plain))
		return append(nonce, sealed...)
	}
	salt := randomBytes(andOTPSaltLen)
	key, err := pbkdf2.Key(sha1.New, pw, salt, int(iter), 32)
	if err != nil {
		t.Fatal(err)
	}
	nonce, sealed := gcmSeal(key, []byte(plain))
	out := binary.BigEndian.AppendUint32(nil, iter)
	out = append(out, salt...)
	out = append(out, nonce...)
	return append(out, sealed...)
}

func TestOwnEncryptedFiles(t *testing.T) {
	andotpJSON := `[{"secret":"JBSWY3DPEHPK3PXP","issuer":"X","label":"y","digits":6,"type":"TOTP","algorithm":"SHA1","period":30}]`
	twofas, err := json.Marshal(map[string]any{
		"services": []any{}, "schemaVersion": 4,
		"servicesEncrypted": encrypt2FAS(t, `[{"name":"X","secret":"JBSWY3DPEHPK3PXP","otp":{"account":"y","issuer":"X","tokenType":"TOTP"}}]`, "pässword"),
	})
	if err != nil {
		t.Fatal(err)
	}
	files := map[string][]byte{
		"2fas":       twofas,
		"andotp new": encryptAndOTP(t, andotpJSON, "pässword", 1000),
		"andotp old": encryptAndOTP(t, andotpJSON, "pässword", 0),
	}
	for name, data := range files {
		t.Run(name, func(t *testing.T) {
			var f Format
			if name == "andotp old" {
				f = FormatAndOTP // no header to detect
			}
			res, err := Import(ImportOptions{Format: f, Password: password("pässword")}, Input{Data: data})
			if err != nil {
				t.Fatal(err)
			}
			assertAccounts(t, res, []want{{vault.TOTP, "X", "y", "JBSWY3DPEHPK3PXP", vault.SHA1, 6, 30, 0}})
			_, err = Import(ImportOptions{Format: f, Password: password("password")}, Input{Data: data})
			if !errors.Is(err, ErrWrongPassword) {
				t.Errorf("wrong password: %v", err)
			}
		})
	}
}

// TestKDFCaps checks that work factors read from files are capped before
// any work is done.
func TestKDFCaps(t *testing.T) {
	data, err := exportAegis(sample()[:1], []byte("pw"), 1<<11)
	if err != nil {
		t.Fatal(err)
	}
	opts := ImportOptions{Password: password("pw"), limits: lowWork}
	_, err = Import(opts, Input{Data: data})
	if !errors.Is(err, ErrTooMuchWork) || !strings.Contains(err.Error(), "n=2048") {
		t.Errorf("scrypt N over the cap: %v, want ErrTooMuchWork", err)
	}
	huge := bytes.Replace(data, []byte(`"n": 2048`), []byte(`"n": 1073741824`), 1)
	if _, err := Import(ImportOptions{Password: password("pw")}, Input{Data: huge}); !errors.Is(err, ErrTooMuchWork) {
		t.Errorf("scrypt N=2^30 with default caps: %v, want ErrTooMuchWork", err)
	}
	// andOTP: iterations over the cap are not run. The file cannot say
	// whether it is an old-format backup (no header) with a wrong password,
	// so the error says both.
	enc := encryptAndOTP(t, `[]`, "pw", 2000)
	_, err = Import(opts, Input{Data: enc})
	if !errors.Is(err, ErrWrongPassword) || !errors.Is(err, ErrTooMuchWork) ||
		!strings.Contains(err.Error(), "its header asks for 2000 PBKDF2 iterations, Sesame allows 1 to 1000: refused") {
		t.Errorf("andOTP iterations over the cap: %v", err)
	}
	binary.BigEndian.PutUint32(enc, 0)
	opts.Format = FormatAndOTP // not detected with that header
	_, err = Import(opts, Input{Data: enc})
	if !errors.Is(err, ErrWrongPassword) || !strings.Contains(err.Error(), "invalid key-derivation parameters") {
		t.Errorf("andOTP iterations 0: %v", err)
	}
}

func TestRejects(t *testing.T) {
	aegis, err := exportAegis(sample()[:2], []byte("pw"), 1<<10)
	if err != nil {
		t.Fatal(err)
	}
	backup, err := exportBackup(sample()[:2], []byte("pw"), 10)
	if err != nil {
		t.Fatal(err)
	}
	uris := ExportURIs(sample()[:1])
	google, _, err := ExportGoogle(sample()[:3])
	if err != nil {
		t.Fatal(err)
	}
	t.Run("truncated", func(t *testing.T) {
		for name, data := range map[string][]byte{"aegis": aegis, "backup": backup, "google": []byte(google[0])} {
			cuts := []int{len(data) / 3, len(data) / 2, len(data) - 20}
			if name == "google" {
				// A protobuf cut exactly after a field is a valid, shorter payload;
				// only cuts inside the account entries can be told apart.
				cuts = cuts[:2]
			}
			for _, cut := range cuts {
				res, err := Import(ImportOptions{Password: password("pw"), limits: lowWork}, Input{Name: name, Data: data[:cut]})
				if err == nil || res != nil {
					t.Errorf("%s cut at %d: %v, %v; want an error and nothing", name, cut, res, err)
				}
			}
		}
	})
	t.Run("wrong format", func(t *testing.T) {
		for _, data := range []string{`{"version":1,"kdfParams":{"memLimit":1,"opsLimit":1,"salt":"x"},"encryptedData":"x","encryptionNonce":"x"}`, "hello world\n", `{"some":"json"}`, `[1,2,3]`, "<html></html>", "\x00\x01\x02", ""} {
			res, err := Import(ImportOptions{}, Input{Name: "x", Data: []byte(data)})
			if !errors.Is(err, ErrUnknownFormat) || res != nil {
				t.Errorf("%q: %v, %v; want ErrUnknownFormat", data, res, err)
			}
		}
		// A forced format that does not fit the data.
		if _, err := Import(ImportOptions{Format: FormatAegis}, Input{Data: uris}); !errors.Is(err, ErrCorrupt) {
			t.Errorf("uri list forced as aegis: %v", err)
		}
		if _, err := ParseFormat("keepass"); !errors.Is(err, ErrUnknownFormat) {
			t.Errorf("ParseFormat(keepass) = %v", err)
		}
	})
	t.Run("oversized", func(t *testing.T) {
		big := bytes.Repeat([]byte("#\n"), MaxFileSize/2+1)
		if _, err := Import(ImportOptions{}, Input{Data: big}); !errors.Is(err, ErrTooLarge) {
			t.Errorf("big input: %v", err)
		}
		path := filepath.Join(t.TempDir(), "big.txt")
		if err := os.WriteFile(path, big, 0o600); err != nil {
			t.Fatal(err)
		}
		if _, err := ReadFile(path); !errors.Is(err, ErrTooLarge) {
			t.Errorf("ReadFile of a big file: %v", err)
		}
		var many strings.Builder
		for i := range MaxAccounts + 1 {
			fmt.Fprintf(&many, "otpauth://totp/n%d?secret=JBSWY3DPEHPK3PXP\n", i)
		}
		if _, err := Import(ImportOptions{}, Input{Data: []byte(many.String())}); !errors.Is(err, ErrTooLarge) {
			t.Errorf("%d accounts: %v", MaxAccounts+1, err)
		}
	})
	t.Run("all or nothing", func(t *testing.T) {
		res, err := Import(ImportOptions{Password: password("pw"), limits: lowWork},
			Input{Name: "good", Data: uris}, Input{Name: "bad", Data: []byte(`{"version":1,"header":{},"db":"`)})
		if err == nil || res != nil || !strings.HasPrefix(err.Error(), "bad: ") {
			t.Errorf("one bad file among two: %v, %v; want an error naming it and nothing", res, err)
		}
	})
}

func TestMergeAllOrNothing(t *testing.T) {
	v := vaulttest.New(t, sample()[0])
	res, err := Import(ImportOptions{}, Input{Data: ExportURIs(sample()[:3])})
	if err != nil {
		t.Fatal(err)
	}
	var added []vault.Account
	var dups []Skip
	now := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	d, err := v.Update(func(d *vault.Data) error {
		added, dups, err = Merge(d, res.Accounts, now)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(added) != 2 || len(dups) != 1 || dups[0].Label != sample()[0].Label() || len(d.Accounts) != 3 {
		t.Errorf("added %d, dups %v, vault has %d; want 2 added, Example a duplicate, 3 in all", len(added), dups, len(d.Accounts))
	}
	for _, a := range added {
		if a.ID == "" || !a.Added.Equal(now) {
			t.Errorf("added %s with ID %q at %v", a.Label(), a.ID, a.Added)
		}
	}
	// An invalid account makes Merge fail, and the vault keeps what it had.
	bad := append(slices.Clone(res.Accounts), vault.Account{Type: vault.TOTP, Name: "x"})
	bad[0].Name = "fresh"
	_, err = v.Update(func(d *vault.Data) error {
		_, _, err := Merge(d, bad, now)
		return err
	})
	if err == nil {
		t.Fatal("merging an invalid account succeeded")
	}
	after, _, err := v.Reload()
	if err != nil {
		t.Fatal(err)
	}
	if len(after.Accounts) != 3 {
		t.Errorf("vault has %d accounts after a failed merge, want 3", len(after.Accounts))
	}
}

func TestPasswordNotAskedForPlainFiles(t *testing.T) {
	opts := ImportOptions{Password: func(string, Format) ([]byte, error) {
		t.Error("password asked")
		return nil, errors.New("no")
	}}
	if _, err := Import(opts, Input{Data: ExportURIs(sample())}); err != nil {
		t.Fatal(err)
	}
	// A callback error (the user cancelled) stops the import.
	cancel := errors.New("cancelled")
	data, err := exportAegis(sample()[:1], []byte("pw"), 1<<10)
	if err != nil {
		t.Fatal(err)
	}
	_, err = Import(ImportOptions{Password: func(string, Format) ([]byte, error) { return nil, cancel }}, Input{Data: data})
	if !errors.Is(err, cancel) {
		t.Errorf("err = %v, want the callback's error", err)
	}
}
