//go:build !lean

package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/tui/tuitest"
	"github.com/sesame-auth/sesame/vault/vaulttest"
)

// TestLeanBuild checks the lean build that release packages install as
// sesame (lean.go): it links none of the terminal UI, the QR decoder, the
// approval clients or server and the importers; it prints codes and lists
// by itself; and every other command line, given sesame-full next to it,
// gets exactly what the whole program answers.
func TestLeanBuild(t *testing.T) {
	t.Parallel()
	if runtime.GOOS == "windows" {
		t.Skip("the hand-off is exec(2) here; Windows runs sesame-full as a child")
	}
	const pkg = "github.com/sesame-auth/sesame/cmd/sesame"
	deps, err := exec.Command("go", "list", "-tags", "lean", "-deps", pkg).Output()
	if err != nil {
		t.Fatalf("go list -tags lean -deps: %v", err)
	}
	for _, p := range strings.Fields(string(deps)) {
		for _, heavy := range []string{"github.com/sesame-auth/sesame/tui", "github.com/sesame-auth/sesame/approve",
			"github.com/sesame-auth/sesame/vault/transfer", "github.com/sesame-auth/sesame/vault/qrcode",
			"charm.land/", "github.com/makiuchi-d/gozxing", "github.com/jackc/pgx", "go.etcd.io/bbolt", "net/http"} {
			if strings.HasPrefix(p, heavy) {
				t.Errorf("the lean build links %s", p)
			}
		}
	}

	dir := t.TempDir()
	front := filepath.Join(dir, "sesame")
	if out, err := exec.Command("go", "build", "-tags", "lean", "-o", front, pkg).CombinedOutput(); err != nil {
		t.Fatalf("go build -tags lean: %v\n%s", err, out)
	}
	home := filepath.Join(t.TempDir(), "home")
	acct, err := vaulttest.NewPassphraseIn(t, home, "lean test passphrase", vaulttest.Account("Bank", "alice")).Find("bank")
	if err != nil {
		t.Fatal(err)
	}
	env := append(tuitest.Environ(), "SESAME_HOME="+home, "SESAME_PASSPHRASE=lean test passphrase")
	run := func(bin string, args ...string) (stdout, stderr string, code int) {
		t.Helper()
		return runProgram(t, bin, env, "", args...)
	}
	codeAt := func(when time.Time) string {
		c, err := acct.Code(when)
		if err != nil {
			t.Fatal(err)
		}
		return c.Value
	}

	// Alone, it prints codes; what it hands off says where sesame-full
	// belongs, before printing anything.
	before := time.Now()
	out, errOut, code := run(front, "code", "bank")
	after := time.Now()
	if got := strings.TrimSpace(out); code != 0 || (got != codeAt(before) && got != codeAt(after)) {
		t.Fatalf("lean code: exit %d, %q (%s)", code, got, errOut)
	}
	for _, args := range [][]string{{}, {"approve", "--help"}, {"code", "--copy", "bank"}} {
		out, errOut, code := run(front, args...)
		if code != 1 || out != "" || !strings.Contains(errOut, "sesame-full") || !strings.Contains(errOut, dir) {
			t.Errorf("lean %q without sesame-full: exit %d, stdout %q, stderr %q", args, code, out, errOut)
		}
	}

	// With sesame-full next to it, every answer is the whole program's.
	full := tuitest.Sesame(t)
	if err := os.Symlink(full, filepath.Join(dir, fullName)); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{}, {"--help"}, {"approve", "--help"}, {"code", "--help"}, {"help", "list"}, {"bogus"},
		{"code", "--theme", "dark", "bank"}, {"code", "nosuch"},
		{"list"}, {"list", "--json"}, {"--version"}, {"__complete", "code", ""},
		{"--store", "bogus", "list"},
	} {
		lo, le, lc := run(front, args...)
		wo, we, wc := run(full, args...)
		if lo != wo || le != we || lc != wc {
			t.Errorf("sesame %q: lean build exit %d, stdout %q, stderr %q; whole program exit %d, stdout %q, stderr %q",
				args, lc, lo, le, wc, wo, we)
		}
	}
}
