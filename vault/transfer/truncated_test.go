package transfer

import (
	"errors"
	"strings"
	"testing"
)

// TestTruncatedText checks that text and CSV files cut off in the middle
// fail as a whole instead of importing what is left.
func TestTruncatedText(t *testing.T) {
	const header = "folder,favorite,type,name,notes,fields,reprompt,login_uri,login_username,login_password,login_totp\n"
	const row = ",,login,Site,\"two\nlines\",,0,https://x,me,pw,otpauth://totp/alice?secret=JBSWY3DPEHPK3PXP\n"
	csv := header + row + row
	for _, cut := range []int{len(header) + len(row) + 10, len(header) + len(row) + 40} {
		res, err := Import(ImportOptions{}, Input{Name: "bw.csv", Data: []byte(csv[:cut])})
		if !errors.Is(err, ErrCorrupt) || res != nil || !strings.Contains(err.Error(), "row 3 has ") ||
			!strings.Contains(err.Error(), "fields, the header has 11: the file is damaged or truncated") {
			t.Errorf("CSV cut at %d: %v, %v; want row 3 reported", cut, res, err)
		}
	}
	// The whole file, with or without its last line end, imports.
	for _, data := range []string{csv, strings.TrimSuffix(csv, "\n")} {
		if _, err := Import(ImportOptions{}, Input{Name: "bw.csv", Data: []byte(data)}); err != nil {
			t.Errorf("whole CSV: %v", err)
		}
	}

	const good = "otpauth://totp/A:a?secret=JBSWY3DPEHPK3PXP\n"
	for _, last := range []string{"otpauth://hotp/B:b?secret=JBSWY3DPEHPK3PXQ&coun", "otpauth://to", "otpau"} {
		res, err := Import(ImportOptions{}, Input{Name: "l.txt", Data: []byte(good + last)})
		if !errors.Is(err, ErrCorrupt) || res != nil || !strings.Contains(err.Error(), "line 2, the last, has no line end") {
			t.Errorf("%q at the end: %v, %v; want possible truncation reported", last, res, err)
		}
		// With its line end the line is the user's own mistake: skipped.
		res, err = Import(ImportOptions{}, Input{Name: "l.txt", Data: []byte(good + last + "\n")})
		if err != nil || len(res.Accounts) != 1 || len(res.Skipped) != 1 {
			t.Errorf("%q with a line end: %v, %v; want it skipped", last, res, err)
		}
	}
	// A last line that reads well needs no line end.
	if res, err := Import(ImportOptions{}, Input{Data: []byte(strings.TrimSuffix(good, "\n"))}); err != nil || len(res.Accounts) != 1 {
		t.Errorf("good last line without a line end: %v, %v", res, err)
	}
}

// TestShortSecretWarning checks that secrets under 80 bits are imported
// with a warning that names the account, never the secret.
func TestShortSecretWarning(t *testing.T) {
	text := "otpauth://totp/Short:s?secret=JBSWY3DPEHPK\n" + // 7 bytes
		"otpauth://totp/Ten:t?secret=JBSWY3DPEHPK3PXP\n" // 10 bytes
	res, err := Import(ImportOptions{}, Input{Name: "l.txt", Data: []byte(text)})
	if err != nil {
		t.Fatal(err)
	}
	if len(res.Accounts) != 2 || len(res.Skipped) != 0 {
		t.Fatalf("accounts %v, skipped %v; want both imported", res.Accounts, res.Skipped)
	}
	if len(res.Warnings) != 1 {
		t.Fatalf("warnings %v, want one", res.Warnings)
	}
	w := res.Warnings[0]
	if w.String() != "l.txt: the secret of Short (s) is only 56 bits: check it" || w.Label != "Short (s)" || strings.Contains(w.String(), "JBSWY3DP") {
		t.Errorf("warning %q", w)
	}
}
