package transfer

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
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
