//go:build !lean

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestManWritesAPagePerCommand(t *testing.T) {
	c := newCLI(t)
	c.env["SOURCE_DATE_EPOCH"] = "1764547200" // 2025-12-01
	dir := filepath.Join(t.TempDir(), "man", "man1")
	c.ok("", "man", "--dir", dir)

	for _, page := range []string{"sesame.1", "sesame-add.1", "sesame-code.1", "sesame-devices-unblock.1", "sesame-man.1"} {
		b, err := os.ReadFile(filepath.Join(dir, page))
		if err != nil {
			t.Fatalf("no page %s: %v", page, err)
		}
		text := string(b)
		if !strings.HasPrefix(text, ".nh\n.TH \"SESAME\" \"1\" \"Dec 2025\"") {
			t.Errorf("%s starts %q, want the SESAME(1) header dated by SOURCE_DATE_EPOCH", page, text[:min(len(text), 60)])
		}
	}
	add, _ := os.ReadFile(filepath.Join(dir, "sesame-add.1"))
	if !strings.Contains(string(add), `\fB\-\-issuer\fP`) {
		t.Errorf("sesame-add.1 does not document --issuer:\n%s", add)
	}
	// The pages are written only from the command tree: nothing from the
	// vault, so no vault is made by writing them.
	if _, err := os.Stat(c.home); !os.IsNotExist(err) {
		t.Errorf("writing man pages touched the vault folder: %v", err)
	}
}

func TestManUsage(t *testing.T) {
	c := newCLI(t)
	if r := c.run("", "man"); r.code != 2 || !strings.Contains(r.stderr, "man needs --dir DIR") {
		t.Errorf("man without --dir: exit %d, stderr %q", r.code, r.stderr)
	}
	c.env["SOURCE_DATE_EPOCH"] = "yesterday"
	if r := c.run("", "man", "--dir", t.TempDir()); r.code != 1 || !strings.Contains(r.stderr, "SOURCE_DATE_EPOCH must be a whole number") {
		t.Errorf("bad SOURCE_DATE_EPOCH: exit %d, stderr %q", r.code, r.stderr)
	}
}
