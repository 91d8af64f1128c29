//go:build !lean

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/sesame-auth/sesame/tui/tuitest"
	"github.com/sesame-auth/sesame/vault"
	"github.com/sesame-auth/sesame/vault/transfer"
	"github.com/sesame-auth/sesame/vault/vaulttest"
)

// runT runs the command line like cli.run, with standard input and output
// taken for a terminal when terminal is set.
func (c *cli) runT(stdin string, terminal bool, args ...string) result {
	c.t.Helper()
	return c.runCtx(context.Background(), strings.NewReader(stdin), terminal, args...)
}

func (c *cli) okT(stdin string, args ...string) string {
	c.t.Helper()
	r := c.runT(stdin, false, args...)
	if r.code != 0 {
		c.t.Fatalf("sesame %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// accounts returns the vault's accounts as "type issuer/name" lines, sorted.
func (c *cli) accounts() []string {
	c.t.Helper()
	var list []struct{ Type, Issuer, Name string }
	if err := json.Unmarshal([]byte(c.ok("", "list", "--json")), &list); err != nil {
		c.t.Fatal(err)
	}
	var out []string
	for _, a := range list {
		out = append(out, a.Type+" "+a.Issuer+"/"+a.Name)
	}
	slices.Sort(out)
	return out
}

func writeTemp(t *testing.T, name, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

var aegisVectors = []string{
	"hotp Air Canada/Benjamin", "hotp Issuu/James", "hotp WWE/Mason",
	"steam Boeing/Sophia", "totp Airbnb/Elijah", "totp Deno/Mason", "totp SPDX/James",
}

func TestImportFixtureCLI(t *testing.T) {
	t.Parallel() // no process-wide state: it can run beside the tests that wait
	file := vaulttest.Fixture(t, "aegis", "aegis_encrypted.json")
	c := newCLI(t)
	pw := writeTemp(t, "pw", "test\n")

	r := c.runT("", false, "import", file, "--password-file", writeTemp(t, "bad", "nope\n"))
	if r.code != 1 || !strings.Contains(r.stderr, "wrong password") || !strings.Contains(r.stderr, "nothing was imported") {
		t.Fatalf("wrong password: %+v", r)
	}
	if vault.Exists(c.home) {
		t.Fatal("a failed import created a vault")
	}
	r = c.runT("", false, "import", file)
	if r.code != 1 || !strings.Contains(r.stderr, "--password-file") {
		t.Fatalf("no password, no terminal: %+v", r)
	}

	out := c.okT("", "import", file, "--password-file", pw)
	if !strings.Contains(out, "added Deno (Mason)") || !strings.HasSuffix(out, "added 7, skipped 0, from aegis_encrypted.json (aegis)\n") {
		t.Errorf("import printed %q", out)
	}
	if got := c.accounts(); !slices.Equal(got, aegisVectors) {
		t.Errorf("vault has %v, want %v", got, aegisVectors)
	}
	// The same file again: every account is already there, so nothing is
	// imported, and that is a failure.
	r = c.runT("", false, "import", file, "--password-file", pw)
	out = r.stdout
	if r.code != 1 || !strings.Contains(r.stderr, "nothing imported") || strings.Count(out, "already in the vault") != 7 || !strings.HasSuffix(out, "added 0, skipped 7, from aegis_encrypted.json (aegis)\n") {
		t.Errorf("second import: %+v", r)
	}
	if strings.Contains(out+r.stderr, "4SJHB4GSD43FZBAI7C2HLRJGPQ") {
		t.Error("a secret was printed")
	}
}

func TestImportPromptsAndRetries(t *testing.T) {
	file := vaulttest.Fixture(t, "2fas", "2fas_authenticator_encrypted_v4.2fas")
	c := newCLI(t)
	r := c.runT("wrong\ntest\n", true, "import", file)
	if r.code != 0 {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	if strings.Count(r.stderr, "Password of 2fas_authenticator_encrypted_v4.2fas (2fas): ") != 2 || !strings.Contains(r.stderr, "wrong password") {
		t.Errorf("stderr %q: want two prompts and the wrong password reported", r.stderr)
	}
	if strings.Contains(r.stdout+r.stderr, "test") && strings.Contains(r.stdout+r.stderr, "\ntest\n") {
		t.Error("the password was echoed")
	}
	if len(c.accounts()) != 5 {
		t.Errorf("vault has %v, want 5 accounts", c.accounts())
	}
}

func TestImportAllOrNothingCLI(t *testing.T) {
	c := newCLI(t)
	good := writeTemp(t, "good.txt", "otpauth://totp/A:a?secret=JBSWY3DPEHPK3PXP\n")
	bad := writeTemp(t, "bad.json", `{"version":1,"header":{"slots":null,"params":null},"db":{"version":1,"entries":[`)
	r := c.runT("", false, "import", good, bad)
	if r.code != 1 || !strings.Contains(r.stderr, "bad.json") || vault.Exists(c.home) {
		t.Fatalf("one bad file: %+v (vault created: %v)", r, vault.Exists(c.home))
	}
	r = c.runT("", false, "import", "--format", "keepass", good)
	if r.code != 2 {
		t.Errorf("unknown --format: exit %d, want 2", r.code)
	}
	// Dry run changes nothing.
	out := c.okT("", "import", "--dry-run", good)
	if !strings.Contains(out, "would add A (a)") || vault.Exists(c.home) {
		t.Errorf("dry run printed %q, vault created: %v", out, vault.Exists(c.home))
	}
	var rep struct {
		Added   []struct{ Issuer string }
		Skipped []struct{ Label, Reason string }
	}
	if err := json.Unmarshal([]byte(c.okT("", "import", "--json", good, good)), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Added) != 1 || len(rep.Skipped) != 1 || !strings.Contains(rep.Skipped[0].Reason, "duplicate") {
		t.Errorf("json report %+v", rep)
	}
}

// seed fills a vault with accounts of every kind.
func seed(c *cli) {
	c.t.Helper()
	for _, u := range []string{
		"otpauth://totp/Example:alice?secret=JBSWY3DPEHPK3PXP&issuer=Example",
		"otpauth://totp/Bank:bob?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&algorithm=SHA256&digits=8",
		"otpauth://hotp/Hotp:carol?secret=MFRGGZDFMZTWQ2LK&counter=42&algorithm=SHA512",
		"otpauth://totp/Odd:seven?secret=NBSWY3DPO5XXE3DE&digits=7&period=60",
		"otpauth://steam/Steam:gamer?secret=JRZCL47CMXVOQMNPZR2F7J4RGI",
	} {
		c.ok("", "add", u)
	}
}

func TestExportRoundTripsCLI(t *testing.T) {
	c := newCLI(t)
	seed(c)
	want := c.accounts()
	dir := t.TempDir()
	pw := writeTemp(t, "pw", "export pass\n")

	r := c.runT("", true, "export", "--format", "uri")
	if r.code != 2 || strings.Contains(r.stdout, "otpauth://") || !strings.Contains(r.stderr, "NOT encrypted") {
		t.Errorf("uri to a terminal: %+v", r)
	}
	if r := c.runT("", false, "export"); r.code != 2 {
		t.Errorf("no --format: exit %d", r.code)
	}

	for _, format := range []string{"uri", "backup", "aegis"} {
		t.Run(format, func(t *testing.T) {
			out := filepath.Join(dir, "export."+format)
			pwFlag := []string{"--password-file", pw} // only the encrypted formats take one
			if format == "uri" {
				pwFlag = nil
			}
			c.okT("", append([]string{"export", "--format", format, "--out", out}, pwFlag...)...)
			fi, err := os.Stat(out)
			if err != nil || fi.Mode().Perm() != 0o600 {
				t.Fatalf("export file: %v, %v", fi, err)
			}
			if r := c.runT("", false, append([]string{"export", "--format", format, "--out", out}, pwFlag...)...); r.code != 1 || !strings.Contains(r.stderr, "--force") {
				t.Errorf("overwrite without --force: %+v", r)
			}
			other := newCLI(t)
			other.okT("", "import", out, "--password-file", pw)
			if got := other.accounts(); !slices.Equal(got, want) {
				t.Errorf("after import: %v, want %v", got, want)
			}
		})
	}

	t.Run("google png", func(t *testing.T) {
		r := c.runT("", false, "export", "--format", "google", "--out", dir)
		if r.code != 0 || !strings.Contains(r.stderr, "left out Odd (seven)") || !strings.Contains(r.stderr, "left out Steam (gamer)") {
			t.Fatalf("export google: %+v", r)
		}
		png := filepath.Join(dir, "sesame-google-1-of-1.png")
		other := newCLI(t)
		other.okT("", "import", png)
		if got := other.accounts(); !slices.Equal(got, []string{"hotp Hotp/carol", "totp Bank/bob", "totp Example/alice"}) {
			t.Errorf("after import: %v", got)
		}
	})

	t.Run("google terminal", func(t *testing.T) {
		r := c.runT("\n", true, "export", "--format", "google")
		if r.code != 0 || !strings.Contains(r.stdout, "QR code 1 of 1 (3 accounts in all)") || !strings.Contains(r.stdout, "▀") {
			t.Errorf("terminal QR: %+v", r)
		}
	})
}

// TestBinaryImport builds the sesame binary and imports a real export into a
// passphrase vault, as a user would.
func TestBinaryImport(t *testing.T) {
	fixture := vaulttest.Fixture(t, "andotp", "andotp_encrypted.bin")
	bin := tuitest.Sesame(t)
	home := filepath.Join(t.TempDir(), "home")
	vaulttest.NewPassphraseIn(t, home, "vault pass") // cheap: the binary opens it at its file's cost
	pw := writeTemp(t, "pw", "test\n")
	run := func(args ...string) (string, string, error) {
		cmd := exec.Command(bin, args...)
		cmd.Env = append(os.Environ(), "SESAME_HOME="+home, "SESAME_PASSPHRASE=vault pass")
		var out, errb bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &errb
		err := cmd.Run()
		return out.String(), errb.String(), err
	}
	out, stderr, err := run("--store", "passphrase", "import", fixture, "--password-file", pw)
	if err != nil {
		t.Fatalf("import: %v\n%s", err, stderr)
	}
	if !strings.Contains(out, "added 7, skipped 0, from andotp_encrypted.bin (andotp)") {
		t.Errorf("import printed %q", out)
	}
	out, _, err = run("code", "Deno")
	if err != nil || len(strings.TrimSpace(out)) != 6 {
		t.Errorf("code Deno: %q, %v", out, err)
	}
}

func TestImportWarningsCLI(t *testing.T) {
	c := newCLI(t)
	file := writeTemp(t, "short.txt", "otpauth://totp/Short:s?secret=JBSWY3DPEHPK\n")
	out := c.okT("", "import", "--dry-run", file)
	if !strings.Contains(out, "would add Short (s)\nwarning short.txt: the secret of Short (s) is only 56 bits: check it\n") {
		t.Errorf("import printed %q", out)
	}
	var rep struct {
		Warnings []struct{ Source, Label, Message string }
	}
	if err := json.Unmarshal([]byte(c.okT("", "import", "--json", file)), &rep); err != nil {
		t.Fatal(err)
	}
	if len(rep.Warnings) != 1 || rep.Warnings[0].Label != "Short (s)" || !strings.Contains(rep.Warnings[0].Message, "56 bits") {
		t.Errorf("json warnings %+v", rep.Warnings)
	}
	// A Bitwarden CSV cut in the middle of a row imports nothing.
	cut := writeTemp(t, "bw.csv", "folder,favorite,type,name,notes,fields,reprompt,login_uri,login_username,login_password,login_totp\n,,login,Site,,,0")
	r := c.runT("", false, "import", cut)
	if r.code != 1 || !strings.Contains(r.stderr, "row 2 has 7 fields, the header has 11: the file is damaged or truncated") {
		t.Errorf("truncated CSV: %+v", r)
	}
}

func TestImportNothingCLI(t *testing.T) {
	c := newCLI(t)
	empty := writeTemp(t, "empty.json", "[]")
	r := c.runT("", false, "import", empty)
	if r.code != 1 || r.stderr != "sesame: "+empty+": the file holds no accounts: nothing to import\n" || vault.Exists(c.home) {
		t.Errorf("empty export: %+v", r)
	}
	aegis := writeTemp(t, "a.json", `{"version":1,"header":{"slots":null,"params":null},"db":{"version":1,"entries":[{"type":"totp","name":"a","issuer":"b","info":{"secret":"JBSWY3DPEHPK3PXP","algo":"SHA1","digits":6,"period":30}}]}}`)
	r = c.runT("", false, "import", "--format", "2fas", aegis)
	if r.code != 1 || !strings.Contains(r.stderr, "this is not a 2FAS backup") || vault.Exists(c.home) {
		t.Errorf("--format 2fas on an Aegis file: %+v", r)
	}
}

// TestExportGoogleDestinationFirst checks that a Google export checks where
// its images go before it lists anything, and that a long list of accounts
// left out is summarised.
func TestExportGoogleDestinationFirst(t *testing.T) {
	c := newCLI(t)
	c.ok("", "add", "otpauth://totp/Example:alice?secret=JBSWY3DPEHPK3PXP&issuer=Example")
	for i := range 12 {
		c.ok("", "add", fmt.Sprintf("otpauth://steam/Steam:gamer%02d?secret=JRZCL47CMXVOQMNPZR2F7J4RGI", i))
	}
	dir := t.TempDir()
	missing := filepath.Join(dir, "nope") + string(os.PathSeparator)
	r := c.runT("", false, "export", "--format", "google", "--out", missing)
	if r.code != 1 || !strings.Contains(r.stderr, "does not exist: create it first") || strings.Contains(r.stderr, "left out") {
		t.Errorf("missing folder: %+v; want the folder reported before any left-out line", r)
	}
	r = c.runT("", false, "export", "--format", "google", "--out", filepath.Join(dir, "nope", "qr"))
	if r.code != 1 || !strings.Contains(r.stderr, "does not exist: create it first") || strings.Contains(r.stderr, "left out") {
		t.Errorf("prefix in a missing folder: %+v", r)
	}
	if err := os.WriteFile(filepath.Join(dir, "sesame-google-1-of-1.png"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	r = c.runT("", false, "export", "--format", "google", "--out", dir)
	if r.code != 1 || !strings.Contains(r.stderr, "exists: use --force") || strings.Contains(r.stderr, "left out") {
		t.Errorf("existing image: %+v", r)
	}
	r = c.runT("", false, "export", "--format", "google", "--out", dir, "--force")
	if r.code != 0 || strings.Count(r.stderr, "sesame: left out Steam (gamer") != 10 || !strings.Contains(r.stderr, "sesame: and 2 more accounts left out\n") {
		t.Errorf("export: %+v; want 10 left-out lines and a count of the rest", r)
	}
}

func TestExportHelpGoogleBatches(t *testing.T) {
	c := newCLI(t)
	help := c.okT("", "export", "--help")
	if strings.Contains(help, "about ten accounts") || !strings.Contains(help, fmt.Sprintf("at most %d accounts in one code,\n", transfer.GoogleMaxAccountsPerQR)) ||
		!strings.Contains(help, "fewer when names, issuers or secrets are long") {
		t.Errorf("export --help says:\n%s", help)
	}
}
