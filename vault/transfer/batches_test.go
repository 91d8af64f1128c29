package transfer

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/sesame-auth/sesame/vault"
)

// part is QR code index+1 of size of the export id, holding one account.
func part(id, size, index int32) string {
	o := MigrationOTP{Secret: []byte(fmt.Sprintf("secret-%d-%d-0123456789", id, index)), Name: fmt.Sprintf("n%d-%d", id, index), Type: migTypeTOTP}
	p := MigrationPayload{OTPs: []MigrationOTP{o}, Version: 1, BatchSize: size, BatchIndex: index, BatchID: id}
	return p.URI() + "\n"
}

// TestMissingPartsOfSeveralExports checks that every incomplete export of
// an import is named, with its missing QR codes, and that --partial lists
// them by export.
func TestMissingPartsOfSeveralExports(t *testing.T) {
	inputs := []Input{
		{Name: "a.txt", Data: []byte(part(111, 3, 0) + part(222, 3, 2))},
		{Name: "b.txt", Data: []byte(part(333, 2, 0) + part(333, 2, 1))}, // complete
	}
	_, err := Import(ImportOptions{}, inputs...)
	var mp *MissingPartsError
	if !errors.As(err, &mp) || !errors.Is(err, ErrMissingBatchParts) {
		t.Fatalf("err = %v, want a *MissingPartsError", err)
	}
	if len(mp.Exports) != 2 || mp.Exports[0].BatchID != 111 || !slices.Equal(mp.Exports[0].Missing, []int{2, 3}) ||
		mp.Exports[1].BatchID != 222 || !slices.Equal(mp.Exports[1].Missing, []int{1, 2}) {
		t.Errorf("missing %+v, want export 111 codes 2, 3 and export 222 codes 1, 2", mp.Exports)
	}
	want := "some QR codes of a Google Authenticator export are missing: " +
		"export 1 (from a.txt): QR codes 2, 3 of 3 missing; export 2 (from a.txt): QR codes 1, 2 of 3 missing; " +
		"import every QR code of an export together (or pass --partial)"
	if err.Error() != want {
		t.Errorf("message\n%q\nwant\n%q", err, want)
	}

	res, err := Import(ImportOptions{AllowPartial: true}, inputs...)
	if err != nil {
		t.Fatal(err)
	}
	var labels []string
	for _, s := range res.Skipped {
		labels = append(labels, s.String())
	}
	wantSkips := []string{
		"a.txt: Google Authenticator export 1, QR code 2 of 3: missing from the import: its accounts were not imported",
		"a.txt: Google Authenticator export 1, QR code 3 of 3: missing from the import: its accounts were not imported",
		"a.txt: Google Authenticator export 2, QR code 1 of 3: missing from the import: its accounts were not imported",
		"a.txt: Google Authenticator export 2, QR code 2 of 3: missing from the import: its accounts were not imported",
	}
	if len(res.Accounts) != 4 || !slices.Equal(labels, wantSkips) {
		t.Errorf("partial: %d accounts, skipped\n%s\nwant 4 and\n%s", len(res.Accounts), strings.Join(labels, "\n"), strings.Join(wantSkips, "\n"))
	}
}

// TestGoogleBatchSizes checks what 'sesame export --help' says of Google QR
// codes: at most GoogleMaxAccountsPerQR accounts each, fewer when names are
// long, every link within the length cap.
func TestGoogleBatchSizes(t *testing.T) {
	for _, tc := range []struct {
		name    string
		nameLen int
		maxPer  int // most accounts any code may hold
		minQRs  int
	}{
		{"short names", 1, GoogleMaxAccountsPerQR, 3},
		{"long names", 60, 4, 7},
	} {
		var accounts []vault.Account
		for i := range 25 {
			a := sample()[0]
			a.Name = fmt.Sprintf("%02d%s", i, strings.Repeat("x", tc.nameLen))
			accounts = append(accounts, a)
		}
		uris, _, err := ExportGoogle(accounts)
		if err != nil {
			t.Fatal(err)
		}
		total := 0
		for _, u := range uris {
			p, err := ParseMigrationURI(u)
			if err != nil {
				t.Fatal(err)
			}
			if len(p.OTPs) > tc.maxPer || len(u) > googleMaxURILength {
				t.Errorf("%s: a QR code holds %d accounts in %d bytes; want at most %d and %d", tc.name, len(p.OTPs), len(u), tc.maxPer, googleMaxURILength)
			}
			total += len(p.OTPs)
		}
		if total != 25 || len(uris) < tc.minQRs {
			t.Errorf("%s: %d accounts in %d QR codes; want 25 in at least %d", tc.name, total, len(uris), tc.minQRs)
		}
	}
}
