package transfer

import (
	"archive/zip"
	"bytes"
	"errors"
	"hash/crc32"
	"testing"
)

// zipCryptoZip writes a stored zip entry encrypted with ZipCrypto, as
// Authenticator Plus does (it deflates; stored keeps the test small).
func zipCryptoZip(t testing.TB, name string, content, password []byte) []byte {
	t.Helper()
	crc := crc32.ChecksumIEEE(content)
	z := &zipCrypto{k0: 0x12345678, k1: 0x23456789, k2: 0x34567890}
	for _, b := range password {
		z.update(b)
	}
	plain := append(randomBytes(11), byte(crc>>24))
	plain = append(plain, content...)
	enc := make([]byte, len(plain))
	for i, p := range plain {
		tt := uint16(z.k2) | 2
		enc[i] = p ^ byte((uint32(tt)*uint32(tt^1))>>8)
		z.update(p)
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	w, err := zw.CreateRaw(&zip.FileHeader{Name: name, Method: zip.Store, Flags: 0x1, CRC32: crc,
		CompressedSize64: uint64(len(enc)), UncompressedSize64: uint64(len(content))})
	if err != nil {
		t.Fatal(err)
	}
	w.Write(enc)
	if err := zw.Close(); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestAuthPlusOwnZip(t *testing.T) {
	data := zipCryptoZip(t, "Accounts.txt", ExportURIs(sample()[:2]), []byte("zip pw"))
	if f, err := Detect(data); err != nil || f != FormatAuthPlus {
		t.Fatalf("Detect = %q, %v", f, err)
	}
	res, err := Import(ImportOptions{Password: password("zip pw")}, Input{Data: data})
	if err != nil {
		t.Fatal(err)
	}
	assertAccounts(t, res, wants(sample()[:2]))
	if _, err := Import(ImportOptions{Password: password("zip pX")}, Input{Data: data}); !errors.Is(err, ErrWrongPassword) {
		t.Errorf("wrong password: %v", err)
	}
	other := zipCryptoZip(t, "notes.txt", []byte("hello"), []byte("zip pw"))
	if _, err := Import(ImportOptions{Password: password("zip pw")}, Input{Data: other}); !errors.Is(err, ErrUnknownFormat) {
		t.Errorf("zip without Accounts.txt: %v", err)
	}
	if _, err := Import(ImportOptions{Password: password("zip pw")}, Input{Data: data[:len(data)/2]}); err == nil {
		t.Error("truncated zip imported")
	}
}
