package transfer

import (
	"bytes"
	"encoding/base64"
	"errors"
	"slices"
	"testing"

	"github.com/sesame-auth/sesame/vault/vaulttest"
)

// importSeeds are inputs of every import format, for the import fuzz
// targets: exports Sesame writes, small hand-written files, an encrypted
// andOTP-like file and a ZipCrypto archive.
func importSeeds(f testing.TB) [][]byte {
	aegis, err := exportAegis(sample()[:2], []byte("pw"), 1<<10)
	if err != nil {
		f.Fatal(err)
	}
	backup, err := exportBackup(sample()[:2], []byte("pw"), 10)
	if err != nil {
		f.Fatal(err)
	}
	google, _, err := ExportGoogle(sample())
	if err != nil {
		f.Fatal(err)
	}
	seeds := []string{
		string(ExportURIs(sample())), google[0], string(aegis), string(backup),
		`{"version":1,"header":{"slots":null,"params":null},"db":{"version":1,"entries":[{"type":"hotp","name":"a","issuer":"b","info":{"secret":"JBSWY3DPEHPK3PXP","algo":"SHA1","digits":6,"counter":1}}]}}`,
		`{"services":[{"name":"X","secret":"JBSWY3DPEHPK3PXP","otp":{"account":"y","tokenType":"STEAM","digits":5}}],"schemaVersion":4}`,
		`{"services":[],"schemaVersion":4,"servicesEncrypted":"AAAA:AAAA:AAAAAAAAAAAAAAAA"}`,
		`[{"secret":"JBSWY3DPEHPK3PXP","issuer":"X","label":"y","digits":6,"type":"HOTP","counter":3}]`,
		`{"encrypted":false,"items":[{"name":"G","login":{"username":"u","totp":"steam://JBSWY3DPEHPK3PXP"}}]}`,
		"folder,name,login_username,login_totp\n,G,u,JBSWY3DPEHPK3PXP\n",
		`{"tokenOrder":[],"tokens":[{"algo":"SHA256","digits":8,"issuerExt":"A","label":"b","period":30,"secret":[-1,2,3],"type":"HOTP","counter":5}]}`,
		`<map><string name="a:b">{"algo":"SHA1","secret":[1,2,3],"type":"TOTP","label":"b"}</string></map>`,
		`{"version":1,"entries":[{"content":{"uri":"otpauth://totp/X:y?secret=JBSWY3DPEHPK3PXP","entry_type":"Totp","name":"y"}}]}`,
		`{"Authenticators":[{"Type":4,"Issuer":"S","Username":"u","Secret":"JBSWY3DPEHPK3PXP","Algorithm":0,"Digits":5,"Period":30}]}`,
		`{"accounts":{"x":{"shared_secret":"AQID","account_name":"n"}}}`,
		`[{"accountType":"OtpAccount","name":"n","otpGenerator":{"otpSecret":"JBSWY3DPEHPK3PXP","counter":1}}]`,
		string(encryptAndOTPSeed()),
		string(sealTOTPAuth([]byte(`{"[{\"base\":32,\"key\":\"JBSWY3DPEHPK3PXP\",\"name\":\"n\",\"issuer\":\"I\"}]":"1"}`), "pw")),
		`<map><string name="STATIC_TOTP_CODES_LIST">[{"base":16,"key":"48656C6C6F21DEADBEEF","name":"n","issuer":"I"}]</string></map>`,
	}
	var out [][]byte
	for _, s := range seeds {
		out = append(out, []byte(s))
	}
	out = append(out, sealFreeOTP2(f, "pw", 1000, freeOTP2Token{"u", freeOTP2Hello, `{"counter":4,"issuerExt":"Ex","label":"a","type":"HOTP"}`}))
	return append(out, zipCryptoZip(f, "Accounts.txt", []byte("otpauth://totp/A:b?secret=JBSWY3DPEHPK3PXP\n"), []byte("pw")))
}

// FuzzImport runs detection and every importer on arbitrary input. Imports
// must never panic, and must return either accounts or an error, never both.
// Encrypted inputs get a password but low work-factor caps, so that fuzzing
// stays fast.
func FuzzImport(f *testing.F) {
	for _, seed := range importSeeds(f) {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		checkImport(t, "", data)
	})
}

// FuzzImportFormat runs each importer on arbitrary input as if the user had
// named its format (--format), past detection: the first byte picks the
// format. The same rules hold as for FuzzImport.
func FuzzImportFormat(f *testing.F) {
	formats := Formats()
	for _, seed := range importSeeds(f) {
		for i := range formats {
			f.Add(uint8(i), seed)
		}
	}
	f.Fuzz(func(t *testing.T, format uint8, data []byte) {
		checkImport(t, formats[int(format)%len(formats)], data)
	})
}

// checkImport imports data as format (detected when empty) with low
// work-factor caps: it must not panic, and must return either accounts or
// an error, never both; every account is valid, every skip has a reason.
func checkImport(t *testing.T, format Format, data []byte) {
	t.Helper()
	opts := ImportOptions{Format: format, Password: password("pw"), AllowPartial: true, limits: limits{scryptN: 1 << 10, pbkdf2Iter: 2000, argon2KiB: 1 << 10}}
	res, err := Import(opts, Input{Name: "fuzz", Data: data})
	if (res == nil) == (err == nil) {
		t.Fatalf("Import = %v, %v: want exactly one of a result and an error", res, err)
	}
	if err != nil {
		return
	}
	for _, a := range res.Accounts {
		if err := a.Validate(); err != nil {
			t.Fatalf("imported an invalid account %q: %v", a.Label(), err)
		}
	}
	for _, s := range res.Skipped {
		if s.Reason == "" {
			t.Fatalf("skip without a reason: %+v", s)
		}
	}
}

// encryptAndOTPSeed is a fixed andOTP-like binary seed (not decryptable).
func encryptAndOTPSeed() []byte {
	return append([]byte{0, 0, 3, 0xe8}, bytes.Repeat([]byte{7}, 60)...)
}

// migrationSeeds are migration payloads: Sesame's own exports and samples
// of Google Authenticator's, whole and cut short.
func migrationSeeds(f testing.TB) [][]byte {
	var out [][]byte
	google, _, err := ExportGoogle(sample())
	if err != nil {
		f.Fatal(err)
	}
	for _, u := range google {
		p, err := ParseMigrationURI(u)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, p.Marshal())
	}
	for _, s := range []string{
		"CjEKCkhlbGxvId6tvu8SGEV4YW1wbGU6YWxpY2VAZ29vZ2xlLmNvbRoHRXhhbXBsZTAC",
		"CiMKCskCjMDVZlPV3OQSD015IFRlc3QgQWNjb3VudCABKAEwAhAB",
		"EAEYACAAKOfg+/gC",
		"CiMKCskCjMDVZlPV3OQSD015IFRlc3QgQWNjb3VudCABKAEw",
	} {
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			f.Fatal(err)
		}
		out = append(out, b)
	}
	return out
}

// FuzzMigrationPayload decodes arbitrary protobuf as a migration payload.
// What decodes must encode and decode again to the same payload.
func FuzzMigrationPayload(f *testing.F) {
	for _, seed := range migrationSeeds(f) {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParseMigrationPayload(data)
		if err != nil {
			if !errors.Is(err, ErrCorrupt) && !errors.Is(err, ErrTooLarge) {
				t.Fatalf("error %v is neither ErrCorrupt nor ErrTooLarge", err)
			}
			return
		}
		for _, o := range p.OTPs {
			_, _ = o.Account()
		}
		q, err := ParseMigrationURI(p.URI())
		if err != nil {
			t.Fatalf("re-encoded payload does not decode: %v", err)
		}
		if len(q.OTPs) != len(p.OTPs) || q.BatchID != p.BatchID || q.BatchSize != p.BatchSize || q.BatchIndex != p.BatchIndex || q.Version != p.Version {
			t.Fatalf("round trip changed the payload: %+v -> %+v", p, q)
		}
		for i := range p.OTPs {
			a, b := p.OTPs[i], q.OTPs[i]
			if !bytes.Equal(a.Secret, b.Secret) || a.Name != b.Name || a.Issuer != b.Issuer || a.Algorithm != b.Algorithm ||
				a.Digits != b.Digits || a.Type != b.Type || a.Counter != b.Counter {
				t.Fatalf("entry %d changed: %+v -> %+v", i, a, b)
			}
		}
	})
}

// TestSeedCorpora keeps the committed seed corpora of this package's fuzz
// targets (see vaulttest.SeedCorpus; rewrite them with -write-corpus).
func TestSeedCorpora(t *testing.T) {
	var imports, forced, migrations, javaMaps [][]any
	formats := Formats()
	for _, seed := range importSeeds(t) {
		imports = append(imports, []any{seed})
		if f, err := Detect(seed); err == nil {
			forced = append(forced, []any{uint8(slices.Index(formats, f)), seed})
		}
	}
	for _, seed := range migrationSeeds(t) {
		migrations = append(migrations, []any{seed})
	}
	vaulttest.SeedCorpus(t, "FuzzImport", imports...)
	vaulttest.SeedCorpus(t, "FuzzImportFormat", forced...)
	vaulttest.SeedCorpus(t, "FuzzMigrationPayload", migrations...)
	for _, seed := range javaMapSeeds() {
		javaMaps = append(javaMaps, []any{seed})
	}
	vaulttest.SeedCorpus(t, "FuzzJavaStringMap", javaMaps...)
}
