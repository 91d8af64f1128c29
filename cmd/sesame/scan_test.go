//go:build !lean

package main

import (
	"context"
	"errors"
	"image"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/tui/clipboard"
	"github.com/sesame-auth/sesame/tui/screen"
	"github.com/sesame-auth/sesame/tui/tuitest"
	"github.com/sesame-auth/sesame/vault"
)

// fakeScreen is a screen showing the given images, or failing with err.
type fakeScreen struct {
	imgs []image.Image
	err  error
}

func (f fakeScreen) Capture(context.Context) ([]image.Image, error) { return f.imgs, f.err }
func (fakeScreen) String() string                                   { return "fake" }

type fakePaste struct {
	c   clipboard.Content
	err error
}

func (f fakePaste) Paste(context.Context) (clipboard.Content, error) { return f.c, f.err }
func (fakePaste) String() string                                     { return "fake" }

// runWith runs the command in-process with a fake screen and clipboard.
func (c *cli) runWith(capture screen.Capturer, paste clipboard.Source, stdin string, terminal bool, args ...string) result {
	c.t.Helper()
	var out, errb strings.Builder
	a := &app{
		stdin: strings.NewReader(stdin), stdout: &out, stderr: &errb,
		getenv: func(k string) string { return c.env[k] }, now: func() time.Time { return c.now },
		keyring: c.keyring, keyCache: c.keyCache, scryptWork: 10,
		isTerminal: func(io.Reader) bool { return terminal },
		scanSources: scanSources{
			capturer:    func() (screen.Capturer, error) { return capture, nil },
			pasteSource: func() (clipboard.Source, error) { return paste, nil },
		},
	}
	code := a.run(context.Background(), args)
	return result{code, out.String(), errb.String()}
}

func TestAddScanFlags(t *testing.T) {
	c := newCLI(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"add", "--all"}, "--all goes with --scan or --clipboard"},
		{[]string{"add", "--scan", "--qr", "x.png"}, "give one of --qr, --scan, not several"},
		{[]string{"add", "--scan", "--clipboard"}, "give one of --scan, --clipboard, not several"},
		{[]string{"add", "--scan", "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP"}, "--scan and --clipboard take no arguments"},
		{[]string{"add", "--clipboard", "--issuer", "X"}, "--issuer describes an account typed in with --secret"},
	} {
		r := c.runWith(fakeScreen{}, fakePaste{}, "", false, tc.args...)
		if r.code != 2 || !strings.Contains(r.stderr, tc.want) {
			t.Errorf("%q: exit %d, %q; want 2 and %q", tc.args, r.code, r.stderr, tc.want)
		}
	}
}

func TestAddScanFakes(t *testing.T) {
	a := "otpauth://totp/Alpha:ann?secret=JBSWY3DPEHPK3PXP&issuer=Alpha"
	b := "otpauth://totp/Beta:bob?secret=KRSXG5CTMVRXEZLU&issuer=Beta"
	two := fakeScreen{imgs: []image.Image{tuitest.QRScreen(t, a, b)}}

	// Several codes on a terminal: the user picks the second.
	c := newCLI(t)
	r := c.runWith(two, nil, "2\n", true, "add", "--scan")
	if r.code != 0 || r.stdout != "added Beta (bob)\n" || !strings.Contains(r.stderr, "1  Alpha (ann)") {
		t.Fatalf("choose 2: %+v", r)
	}
	// Scanning again with --all adds the other and skips the one there.
	r = c.runWith(two, nil, "", false, "add", "--scan", "--all")
	if r.code != 0 || !strings.Contains(r.stdout, "added Alpha (ann)\n") || !strings.Contains(r.stdout, "skipped Beta (bob)") {
		t.Fatalf("--all again: %+v", r)
	}
	// A bad answer adds nothing.
	c = newCLI(t)
	if r := c.runWith(two, nil, "7\n", true, "add", "--scan"); r.code != 1 || !strings.Contains(r.stderr, `"7" is not one of the numbers 1 to 2`) {
		t.Fatalf("bad answer: %+v", r)
	}
	// The capture refused, and a screen with a code that cannot be read.
	refused := fakeScreen{err: errors.Join(screen.ErrRefused, errors.New("allow it in settings"))}
	if r := c.runWith(refused, nil, "", false, "add", "--scan"); r.code != 1 || !strings.Contains(r.stderr, "allow it in settings; nothing was added") {
		t.Fatalf("refused: %+v", r)
	}
	// A Google Authenticator export QR goes through import.
	mig := "otpauth-migration://offline?data=CjEKCkhlbGxvId6tvu8SGEV4YW1wbGU6YWxpY2VAZ29vZ2xlLmNvbRoHRXhhbXBsZTAC"
	if r := c.runWith(fakeScreen{imgs: []image.Image{tuitest.QRScreen(t, mig)}}, nil, "", false, "add", "--scan"); r.code != 0 || r.stdout != "added Example (alice@google.com)\n" {
		t.Fatalf("migration QR: %+v", r)
	}
	// Clipboard text that is not a link.
	if r := c.runWith(nil, fakePaste{c: clipboard.Content{Text: "hello"}}, "", false, "add", "--clipboard"); r.code != 1 || !strings.Contains(r.stderr, "no otpauth://") {
		t.Fatalf("clipboard text: %+v", r)
	}
	if r := c.runWith(nil, fakePaste{c: clipboard.Content{}}, "", false, "add", "--clipboard"); r.code != 1 || !strings.Contains(r.stderr, "the clipboard holds no QR code image") {
		t.Fatalf("empty clipboard: %+v", r)
	}
}

func TestPickAccounts(t *testing.T) {
	for answer, want := range map[string]int{"all": 3, "1,3": 2, "2 2": 1, " 3 ": 1} {
		got, err := pickAccounts(make([]vault.Account, 3), answer)
		if err != nil || len(got) != want {
			t.Errorf("pickAccounts(%q) = %d, %v; want %d", answer, len(got), err, want)
		}
	}
	for _, bad := range []string{"", "0", "4", "x", "1,,y"} {
		if _, err := pickAccounts(make([]vault.Account, 3), bad); err == nil {
			t.Errorf("pickAccounts(%q) accepted", bad)
		}
	}
}
