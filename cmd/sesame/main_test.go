//go:build !lean

package main

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base32"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"hash"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/vault"
	"github.com/sesame-auth/sesame/vault/vaulttest"
)

var testNow = time.Date(2026, 11, 22, 10, 0, 7, 0, time.UTC)

// cli is a sandboxed Sesame: its own vault folder, an in-memory keyring,
// a fixed clock and captured output.
type cli struct {
	t       *testing.T
	home    string
	env     map[string]string
	keyring *vaulttest.Keyring
	// keyCache stands for the kernel keyring of 'sesame unlock', so that
	// in-process tests never keep keys in the real one.
	keyCache *vaulttest.KeyCache
	now      time.Time
}

func newCLI(t *testing.T) *cli {
	t.Helper()
	home := filepath.Join(t.TempDir(), "sesame")
	return &cli{t: t, home: home, env: map[string]string{"SESAME_HOME": home}, keyring: vaulttest.NewKeyring(), keyCache: vaulttest.NewKeyCache(), now: testNow}
}

type result struct {
	code           int
	stdout, stderr string
}

func (c *cli) run(stdin string, args ...string) result {
	c.t.Helper()
	return c.runCtx(context.Background(), strings.NewReader(stdin), false, args...)
}

func (c *cli) ok(stdin string, args ...string) string {
	c.t.Helper()
	r := c.run(stdin, args...)
	if r.code != 0 {
		c.t.Fatalf("sesame %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
	}
	return r.stdout
}

// totp is an independent RFC 6238 implementation for checking codes.
func totp(secret []byte, algo string, digits, period int, t time.Time) string {
	return hotp(secret, algo, digits, uint64(t.Unix()/int64(period)))
}

func hotp(secret []byte, algo string, digits int, counter uint64) string {
	h := map[string]func() hash.Hash{"SHA1": sha1.New, "SHA256": sha256.New, "SHA512": sha512.New}[algo]
	mac := hmac.New(h, secret)
	binary.Write(mac, binary.BigEndian, counter)
	sum := mac.Sum(nil)
	off := sum[len(sum)-1] & 0xf
	v := binary.BigEndian.Uint32(sum[off:]) & 0x7fffffff
	mod := uint32(1)
	for range digits {
		mod *= 10
	}
	return fmt.Sprintf("%0*d", digits, v%mod)
}

func TestAddAndCodeMatchIndependentTOTP(t *testing.T) {
	c := newCLI(t)
	rng := rand.New(rand.NewPCG(7, 7))
	type acct struct {
		name, algo     string
		digits, period int
		secret         []byte
	}
	var accts []acct
	for i := range 40 {
		a := acct{
			name:   fmt.Sprintf("user%02d", i),
			algo:   []string{"SHA1", "SHA256", "SHA512"}[i%3],
			digits: 6 + i%3,
			period: []int{30, 60, 1, 7, 45, 3600, 90}[i%7],
			secret: make([]byte, 10+rng.IntN(54)),
		}
		for j := range a.secret {
			a.secret[j] = byte(rng.Uint32())
		}
		accts = append(accts, a)
		uri := fmt.Sprintf("otpauth://totp/Rand:%s?secret=%s&issuer=Rand&algorithm=%s&digits=%d&period=%d",
			a.name, base32.StdEncoding.EncodeToString(a.secret), strings.ToLower(a.algo), a.digits, a.period)
		if got := c.ok("", "add", uri); got != "added Rand ("+a.name+")\n" {
			t.Fatalf("add printed %q", got)
		}
	}
	for _, when := range []time.Time{testNow, time.Unix(1111111111, 0), time.Unix(2000000000, 0)} {
		c.now = when
		for _, a := range accts {
			want := totp(a.secret, a.algo, a.digits, a.period, when)
			if got := c.ok("", "code", a.name); got != want+"\n" {
				t.Fatalf("code %s (%s/%d/%ds) at %d = %q, want %q", a.name, a.algo, a.digits, a.period, when.Unix(), got, want)
			}
		}
	}
}

func TestCodeJSON(t *testing.T) {
	c := newCLI(t)
	c.ok("", "add", "otpauth://totp/GitHub:alice?secret=JBSWY3DPEHPK3PXP&issuer=GitHub&period=30")
	var got map[string]any
	if err := json.Unmarshal([]byte(c.ok("", "code", "github", "--json")), &got); err != nil {
		t.Fatal(err)
	}
	secret, _ := base32.StdEncoding.DecodeString("JBSWY3DPEHPK3PXP")
	want := map[string]any{"issuer": "GitHub", "name": "alice", "type": "totp",
		"code": totp(secret, "SHA1", 6, 30, testNow), "period": 30.0, "remaining": 23.0}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("code --json %s = %v, want %v", k, got[k], v)
		}
	}
	if _, ok := got["secret"]; ok {
		t.Error("code --json reveals the secret")
	}
}

func TestHOTPAdvancesAndSavesCounter(t *testing.T) {
	c := newCLI(t)
	c.ok("", "add", "otpauth://hotp/Bank:me?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&counter=3")
	// RFC 4226 appendix D, counters 3, 4, 5.
	for _, want := range []string{"969429", "338314", "254676"} {
		if got := c.ok("", "code", "bank"); got != want+"\n" {
			t.Fatalf("hotp code = %q, want %s", got, want)
		}
	}
	var list []map[string]any
	json.Unmarshal([]byte(c.ok("", "list", "--json")), &list)
	if len(list) != 1 || list[0]["counter"] != 6.0 {
		t.Fatalf("list --json after three codes: %v, want counter 6", list)
	}
}

func TestListJSONHasEveryNonSecretField(t *testing.T) {
	c := newCLI(t)
	c.ok("", "add", "otpauth://steam/Valve:gaben?secret=JBSWY3DPEHPK3PXP")
	out := c.ok("", "list", "--json")
	for _, k := range []string{`"id"`, `"type": "steam"`, `"issuer": "Valve"`, `"name": "gaben"`, `"algorithm": "SHA1"`, `"digits": 5`, `"period": 30`, `"pinned"`, `"added"`} {
		if !strings.Contains(out, k) {
			t.Errorf("list --json lacks %s:\n%s", k, out)
		}
	}
	if strings.Contains(out, "JBSWY3DPEHPK3PXP") || strings.Contains(out, "secret") {
		t.Errorf("list --json reveals the secret:\n%s", out)
	}
}

func TestAddFromStdinAndManual(t *testing.T) {
	c := newCLI(t)
	in := "# exported\notpauth://totp/A:a?secret=JBSWY3DPEHPK3PXP\n\notpauth://totp/B:b?secret=JBSWY3DPEHPK3PXQ\n"
	if got := c.ok(in, "add"); got != "added A (a)\nadded B (b)\n" {
		t.Fatalf("add from stdin printed %q", got)
	}
	if got := c.ok("jbsw y3dp ehpk 3pxr\n", "add", "--secret", "-", "--issuer", "C", "--name", "c", "--digits", "8", "--algorithm", "sha256"); got != "added C (c)\n" {
		t.Fatalf("manual add printed %q", got)
	}
	secret, _ := base32.StdEncoding.DecodeString("JBSWY3DPEHPK3PXR")
	if got := c.ok("", "code", "c"); got != totp(secret, "SHA256", 8, 30, testNow)+"\n" {
		t.Fatalf("manual account code = %q", got)
	}
}

// Every malformed input is refused with exit 1 or 2, a "sesame:" message
// that names the problem, and no change on disk.
func TestBadInputChangesNothing(t *testing.T) {
	c := newCLI(t)
	c.ok("", "add", "otpauth://totp/Keep:me?secret=JBSWY3DPEHPK3PXP")
	vaultFile := filepath.Join(c.home, vault.FileName)
	before, err := os.ReadFile(vaultFile)
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		stdin string
		args  []string
		exit  int
		says  string
	}{
		{"", []string{"add", "otpauth://totp/X:y?issuer=X"}, 1, "secret is missing"},
		{"", []string{"add", "otpauth://totp/X:y?secret="}, 1, "secret is empty"},
		{"", []string{"add", "otpauth://totp/X:y?secret=0000"}, 1, "secret is not valid base32"},
		{"", []string{"add", "otpauth://totp/X:y?secret=JBSWY3DPEHPK3PXP&digits=11"}, 1, "digits must be"},
		{"", []string{"add", "otpauth://totp/X:y?secret=JBSWY3DPEHPK3PXP&digits=5"}, 1, "digits must be"},
		{"", []string{"add", "otpauth://totp/X:y?secret=JBSWY3DPEHPK3PXP&period=0"}, 1, "period must be"},
		{"", []string{"add", "otpauth://totp/X:y?secret=JBSWY3DPEHPK3PXP&period=3601"}, 1, "period must be"},
		{"", []string{"add", "otpauth://totp/X:y?secret=JBSWY3DPEHPK3PXP&algorithm=MD5"}, 1, "algorithm \"MD5\" is not supported"},
		{"", []string{"add", "otpauth://xotp/X:y?secret=JBSWY3DPEHPK3PXP"}, 1, "type \"xotp\" is not supported"},
		{"", []string{"add", "otpauth://hotp/X:y?secret=JBSWY3DPEHPK3PXP"}, 1, "counter is missing"},
		{"", []string{"add", "otpauth://hotp/X:y?secret=JBSWY3DPEHPK3PXP&counter=-1"}, 1, "counter"},
		{"", []string{"add", "http://example.com"}, 1, "must start with otpauth://"},
		{"", []string{"add", "otpauth://totp/Keep:me?secret=JBSWY3DPEHPK3PXP"}, 1, "already has this account"},
		{"otpauth://totp/Ok:1?secret=JBSWY3DPEHPK3PXQ\notpauth://totp/Bad?secret=1\n", []string{"add"}, 1, "line 2"},
		{"", []string{"add", "otpauth-migration://offline?data=abc"}, 1, "sesame import"},
		{"!!\n", []string{"add", "--secret", "-", "--issuer", "X"}, 1, "secret is not valid base32: character 1 is '!'"},
		{"", []string{"add", "--secret", "JBSWY3DPEHPK3PXP", "--issuer", "X"}, 2, `--secret takes only "-"`},
		{"JBSWY3DPEHPK3PXP\n", []string{"add", "--secret", "-"}, 2, "--secret needs --issuer, --name"},
		{"JBSWY3DPEHPK3PXP\n", []string{"add", "--secret", "-", "--issuer", "X", "--digits", "0"}, 2, "--digits must be from 6 to 8"},
		{"JBSWY3DPEHPK3PXP\n", []string{"add", "--secret", "-", "--issuer", "X", "--period", "0"}, 2, "--period must be from 1"},
		{"JBSWY3DPEHPK3PXP\n", []string{"add", "--secret", "-", "--issuer", "X", "--counter", "5"}, 2, "--counter is for HOTP"},
		{"JBSWY3DPEHPK3PXP\n", []string{"add", "--secret", "-", "--issuer", "X", "--type", "hotp", "--period", "60"}, 2, "--period is for time-based"},
		{"", []string{"add", "otpauth://totp/N:n?secret=JBSWY3DPEHPK3PXQ", "--digits", "8"}, 2, "--digits describes an account typed in"},
		{"otpauth://totp/N:n?secret=JBSWY3DPEHPK3PXQ&digits=9\n", []string{"add"}, 1, "nothing was added"},
		{"JBSWY3DPEHPK3PXP\n", []string{"add", "--secret", "-", "--issuer", "X", "--type", "motp"}, 1, "type \"motp\""},
		{"", []string{"add", "--qr"}, 2, "--qr needs"},
		{"", []string{"add", "--qr", "/nonexistent.png"}, 1, "nonexistent.png"},
		{"", []string{"add", "--bogus"}, 2, "unknown flag"},
		{"", []string{"code"}, 2, "accepts 1 arg"},
		{"", []string{"code", "nothing"}, 1, "no account matches"},
		{"", []string{"rm", "keep"}, 2, "--yes"},
		{"", []string{"rename", "keep"}, 2, "--issuer"},
		{"", []string{"rename", "keep", "--digits", "7"}, 2, "unknown flag"},
		{"", []string{"frobnicate"}, 2, "unknown command"},
		{"", []string{"--store", "cloud", "add", "otpauth://totp/N:n?secret=JBSWY3DPEHPK3PXQ"}, 2, "--store must be"},
	}
	for _, tc := range cases {
		r := c.run(tc.stdin, tc.args...)
		if r.code == 0 || (tc.exit != 0 && r.code != tc.exit) || !strings.Contains(r.stderr, tc.says) || !strings.HasPrefix(r.stderr, "sesame: ") {
			t.Errorf("sesame %q: exit %d, stderr %q; want exit %d and a message with %q", tc.args, r.code, r.stderr, tc.exit, tc.says)
		}
		if strings.Contains(r.stderr+r.stdout, "JBSWY3DPEHPK3PX") {
			t.Errorf("sesame %q printed a secret: %s", tc.args, r.stderr)
		}
		after, _ := os.ReadFile(vaultFile)
		if !bytes.Equal(before, after) {
			t.Fatalf("sesame %q changed the vault", tc.args)
		}
	}
}

func TestAmbiguousQueryListsCandidates(t *testing.T) {
	c := newCLI(t)
	c.ok("", "add", "otpauth://totp/Google:work@example.com?secret=JBSWY3DPEHPK3PXP")
	c.ok("", "add", "otpauth://totp/Google:home@example.com?secret=JBSWY3DPEHPK3PXQ")
	r := c.run("", "code", "google")
	if r.code != 1 || !strings.Contains(r.stderr, "Google (work@example.com)") || !strings.Contains(r.stderr, "Google (home@example.com)") {
		t.Fatalf("ambiguous query: exit %d, %q", r.code, r.stderr)
	}
	if got := c.ok("", "code", "home"); len(strings.TrimSpace(got)) != 6 {
		t.Fatalf("unique substring: %q", got)
	}
	if got := c.ok("", "code", "google:work@example.com"); len(strings.TrimSpace(got)) != 6 {
		t.Fatalf("issuer:name: %q", got)
	}
}

func TestRemoveAndRename(t *testing.T) {
	c := newCLI(t)
	c.ok("", "add", "otpauth://totp/Old:name?secret=JBSWY3DPEHPK3PXP")
	if got := c.ok("", "rename", "old", "--issuer", "New", "--name", "fresh"); got != "renamed Old (name) to New (fresh)\n" {
		t.Fatalf("rename printed %q", got)
	}
	c.ok("", "add", "otpauth://totp/New:other?secret=JBSWY3DPEHPK3PXP")
	if r := c.run("", "rename", "other", "--name", "fresh"); r.code != 1 || !strings.Contains(r.stderr, vault.ErrDuplicate.Error()) {
		t.Fatalf("rename into a duplicate: %+v", r)
	}
	if got := c.ok("", "rm", "other", "--yes"); got != "removed New (other)\n" {
		t.Fatalf("rm printed %q", got)
	}
	if got := c.ok("", "rm", "new", "--yes"); got != "removed New (fresh)\n" {
		t.Fatalf("rm printed %q", got)
	}
	if r := c.run("", "list"); r.code != 0 || !strings.Contains(r.stderr, "empty") {
		t.Fatalf("list after rm: %+v", r)
	}
}

func TestPassphraseVaultFromCLI(t *testing.T) {
	c := newCLI(t)
	c.keyring.Err = vaulttest.ErrNoKeyring
	uri := "otpauth://totp/P:p?secret=JBSWY3DPEHPK3PXP"
	r := c.run("", "add", uri)
	if r.code != 1 || !strings.Contains(r.stderr, "no working OS keyring") || !strings.Contains(r.stderr, "SESAME_PASSPHRASE") {
		t.Fatalf("add without keyring or passphrase: %+v", r)
	}
	c.env["SESAME_PASSPHRASE"] = "s3cret pass"
	r = c.run("", "add", uri)
	if r.code != 0 || !strings.Contains(r.stderr, "no working OS keyring") || !strings.Contains(r.stderr, "protected by your passphrase") {
		t.Fatalf("add with passphrase: %+v", r)
	}
	c.env["SESAME_PASSPHRASE"] = "wrong"
	if r := c.run("", "code", "p"); r.code != 1 || !strings.Contains(r.stderr, "wrong passphrase") {
		t.Fatalf("wrong passphrase: %+v", r)
	}
	delete(c.env, "SESAME_PASSPHRASE")
	pf := filepath.Join(t.TempDir(), "pass")
	os.WriteFile(pf, []byte("s3cret pass\n"), 0o600)
	if got := c.ok("", "--passphrase-file", pf, "code", "p"); len(got) != 7 {
		t.Fatalf("code with --passphrase-file: %q", got)
	}
	if r := c.run("", "code", "p"); r.code != 1 || !strings.Contains(r.stderr, "SESAME_PASSPHRASE") {
		t.Fatalf("no passphrase, no terminal: %+v", r)
	}
	c.env["SESAME_NEW_PASSPHRASE"] = "new pass"
	c.ok("", "--passphrase-file", pf, "passwd")
	c.env["SESAME_PASSPHRASE"] = "new pass"
	c.ok("", "code", "p")
}

// A new vault passphrase, at creation or by passwd, follows the vault's
// rule with its message, as the TUI does: "pw" and "x" were once accepted.
func TestNewPassphraseRule(t *testing.T) {
	c := newCLI(t)
	c.keyring.Err = vaulttest.ErrNoKeyring
	uri := "otpauth://totp/P:p?secret=JBSWY3DPEHPK3PXP"
	c.env["SESAME_PASSPHRASE"] = "pw"
	r := c.run("", "add", uri)
	if r.code != 1 || !strings.Contains(r.stderr, vault.ErrPassphraseTooShort.Error()) {
		t.Fatalf("create with a 2-character passphrase: %+v", r)
	}
	if _, err := os.Stat(filepath.Join(c.home, vault.FileName)); err == nil {
		t.Fatal("a vault was created with a 2-character passphrase")
	}
	c.env["SESAME_PASSPHRASE"] = "long enough"
	c.ok("", "add", uri)
	c.env["SESAME_NEW_PASSPHRASE"] = "x"
	r = c.run("", "passwd")
	if r.code != 1 || !strings.Contains(r.stderr, vault.ErrPassphraseTooShort.Error()) {
		t.Fatalf("passwd with a 1-character passphrase: %+v", r)
	}
	c.ok("", "code", "p") // the old passphrase still opens it
}

func TestForcedStore(t *testing.T) {
	c := newCLI(t)
	c.env["SESAME_PASSPHRASE"] = "long enough"
	c.ok("", "--store", "passphrase", "add", "otpauth://totp/P:p?secret=JBSWY3DPEHPK3PXP")
	if c.keyring.Len() != 0 {
		t.Fatal("a passphrase vault put its key in the keyring")
	}
	c2 := newCLI(t)
	c2.keyring.Err = vaulttest.ErrNoKeyring
	if r := c2.run("", "--store", "keyring", "add", "otpauth://totp/P:p?secret=JBSWY3DPEHPK3PXP"); r.code != 1 || !strings.Contains(r.stderr, "keyring") {
		t.Fatalf("--store keyring with a locked keyring: %+v", r)
	}
	if _, err := os.Stat(filepath.Join(c2.home, vault.FileName)); err == nil {
		t.Fatal("a failed create left a vault file")
	}
}

func TestRecoverFromCLI(t *testing.T) {
	c := newCLI(t)
	c.ok("", "add", "otpauth://totp/R:r?secret=JBSWY3DPEHPK3PXP")
	c.env["SESAME_NEW_PASSPHRASE"] = "recovery phrase"
	if got := c.ok("", "passwd"); !strings.Contains(got, "recovery passphrase") {
		t.Fatalf("passwd on a keyring vault printed %q", got)
	}
	c.keyring = vaulttest.NewKeyring() // the keyring was reset
	if r := c.run("", "code", "r"); r.code != 1 || !strings.Contains(r.stderr, "sesame recover") {
		t.Fatalf("code with the key gone: %+v", r)
	}
	c.env["SESAME_PASSPHRASE"] = "recovery phrase"
	if got := c.ok("", "recover"); !strings.Contains(got, "back in the OS keyring; 1 account\n") {
		t.Fatalf("recover printed %q", got)
	}
	delete(c.env, "SESAME_PASSPHRASE")
	c.ok("", "code", "r")
}

func TestVersionAndHelp(t *testing.T) {
	c := newCLI(t)
	if got := c.ok("", "--version"); !strings.HasPrefix(got, "sesame ") {
		t.Fatalf("--version printed %q", got)
	}
	help := c.ok("", "--help")
	for _, cmd := range []string{"add", "list", "code", "rm", "rename", "passwd", "recover", "completion"} {
		if !strings.Contains(help, "  "+cmd+" ") {
			t.Errorf("--help does not list %s", cmd)
		}
	}
	if strings.Contains(help, "clear-clipboard") {
		t.Error("--help lists the hidden clear-clipboard helper")
	}
	if got := c.ok("", "completion", "bash"); !strings.Contains(got, "sesame") {
		t.Fatal("no bash completion")
	}
}

// URL-escaped labels round-trip through add and list.
func TestUnicodeLabels(t *testing.T) {
	c := newCLI(t)
	uri := "otpauth://totp/" + url.PathEscape("Zürich Bank") + ":" + url.PathEscape("jörg@example.ch") + "?secret=JBSWY3DPEHPK3PXP"
	if got := c.ok("", "add", uri); got != "added Zürich Bank (jörg@example.ch)\n" {
		t.Fatalf("add printed %q", got)
	}
	c.ok("", "code", "zürich")
}

// Two accounts with the same label can only be told apart by their IDs: the
// ambiguity error names them, and a query by ID works.
func TestSameLabelAccountsByID(t *testing.T) {
	c := newCLI(t)
	c.ok("", "add", "otpauth://totp/GitLab:alice?secret=JBSWY3DPEHPK3PXP")
	c.ok("", "add", "otpauth://totp/GitLab:alice?secret=JBSWY3DPEHPK3PXQ")
	r := c.run("", "code", "gitlab:alice")
	if r.code != 1 || strings.Count(r.stderr, "[id ") != 2 {
		t.Fatalf("ambiguous same-label query: %+v", r)
	}
	var list []map[string]any
	json.Unmarshal([]byte(c.ok("", "list", "--json")), &list)
	id := list[1]["id"].(string)
	if !strings.Contains(r.stderr, id) {
		t.Fatalf("the error does not name %s: %s", id, r.stderr)
	}
	secret, _ := base32.StdEncoding.DecodeString("JBSWY3DPEHPK3PXQ")
	if got := c.ok("", "code", id); got != totp(secret, "SHA1", 6, 30, testNow)+"\n" {
		t.Fatalf("code by ID = %q", got)
	}
}

// The terminal UI refuses to start without a terminal instead of leaving
// one in the alternate screen.
func TestTUINeedsTerminal(t *testing.T) {
	c := newCLI(t)
	r := c.run("")
	if r.code != 2 || !strings.Contains(r.stderr, "needs a terminal") {
		t.Fatalf("sesame without a terminal: %+v", r)
	}
}

// Shell completion offers the vault's accounts and the fixed flag values.
func TestCompletion(t *testing.T) {
	c := newCLI(t)
	c.ok("", "add", "otpauth://totp/GitHub:alice?secret=JBSWY3DPEHPK3PXP")
	c.ok("", "add", "otpauth://hotp/Bank:me?secret=JBSWY3DPEHPK3PXQ&counter=0")
	got := c.ok("", "__complete", "code", "git")
	if !strings.Contains(got, "GitHub:alice\ttotp") || strings.Contains(got, "Bank") {
		t.Fatalf("completing accounts: %q", got)
	}
	if got := c.ok("", "__complete", "add", "--type", ""); !strings.Contains(got, "hotp") || !strings.Contains(got, "steam") {
		t.Fatalf("completing --type: %q", got)
	}
}

// A locked keyring is not taken for a missing one: creating a vault stops and
// says to unlock it (or to choose the passphrase store), and writes nothing.
func TestLockedKeyringAtCreation(t *testing.T) {
	c := newCLI(t)
	c.keyring.Err = vaulttest.ErrKeyringLocked
	c.env["SESAME_PASSPHRASE"] = "would be used"
	r := c.run("", "add", "otpauth://totp/L:l?secret=JBSWY3DPEHPK3PXP")
	if r.code != 1 || !strings.Contains(r.stderr, "the OS keyring is locked") || !strings.Contains(r.stderr, "unlock it") ||
		!strings.Contains(r.stderr, "--store passphrase") || !strings.Contains(r.stderr, "SESAME_PASSPHRASE") ||
		strings.Contains(r.stderr, "protected by a passphrase instead") {
		t.Fatalf("add with a locked keyring: %+v", r)
	}
	if _, err := os.Stat(filepath.Join(c.home, vault.FileName)); err == nil {
		t.Fatal("a vault was created")
	}
	c.ok("", "--store", "passphrase", "add", "otpauth://totp/L:l?secret=JBSWY3DPEHPK3PXP")
}

// TestCopyWithoutDisplay checks that 'code --copy' with neither X11 nor
// Wayland (and no SSH, no terminal for OSC 52) says there is no display
// instead of suggesting to install xclip; the code is still printed.
func TestCopyWithoutDisplay(t *testing.T) {
	c := newCLI(t)
	c.ok("", "add", "otpauth://totp/Acme:ann?secret=JBSWY3DPEHPK3PXP&issuer=Acme")
	r := c.run("", "code", "ann", "--copy")
	if r.code == 0 || !strings.Contains(r.stderr, "no display") || !strings.Contains(r.stderr, "DISPLAY and WAYLAND_DISPLAY") ||
		strings.Contains(r.stderr, "xclip") || len(strings.TrimSpace(r.stdout)) != 6 {
		t.Errorf("code --copy without a display: exit %d\nstdout: %q\nstderr: %q", r.code, r.stdout, r.stderr)
	}
}

// TestUnknownPairingLink checks that a link that is no pairing link says so
// and shows what one looks like, and that only a sesame:// link of a newer
// protocol version suggests updating Sesame.
func TestUnknownPairingLink(t *testing.T) {
	c := newCLI(t)
	for _, link := range []string{"https://example.com/x", "foo://bar", "sesame://pair?server=https://example.com&user=ann&token=t&fp=x"} {
		r := c.run("", "pair", link)
		if r.code == 0 || strings.Contains(r.stderr, "update Sesame") || !strings.Contains(r.stderr, "sesame://pair?") {
			t.Errorf("pair %s: exit %d, stderr %q; want what a pairing link looks like and no update advice", link, r.code, r.stderr)
		}
	}
	for _, link := range []string{"https://example.com/x", "foo://bar"} {
		if r := c.run("", "pair", link); !strings.Contains(r.stderr, "not a pairing link") || !strings.Contains(r.stderr, "otpauth://pipush/") {
			t.Errorf("pair %s: stderr %q", link, r.stderr)
		}
	}
	r := c.run("", "pair", "sesame://pair?v=99&server=https://example.com&user=ann&token=t&fp=x")
	if r.code == 0 || !strings.Contains(r.stderr, "update Sesame") {
		t.Errorf("pair with a newer protocol version: exit %d, stderr %q; want update advice", r.code, r.stderr)
	}
}
