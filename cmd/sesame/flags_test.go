//go:build !lean

package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/sesame-auth/sesame/vault"
)

// commandPaths lists every command of the tree by its path after "sesame",
// the root as "", leaving out cobra's own help and completion commands.
func commandPaths() []string {
	var out []string
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		path := strings.TrimPrefix(strings.TrimPrefix(c.CommandPath(), "sesame"), " ")
		if path == "help" || path == "completion" || strings.HasPrefix(path, "completion ") {
			return
		}
		out = append(out, path)
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	a := &app{}
	root := a.rootCmd()
	root.InitDefaultCompletionCmd()
	walk(root)
	return out
}

// ignoredFlags are, for every command, flag combinations it would ignore
// in part: each must be refused as a usage error (exit 2) naming the flag.
// A command with none says so with an empty list; a new command must be
// added here, so that its combinations are thought about.
var ignoredFlags = map[string][][]string{
	"": {{"--privacy", "--theme", "dark", "list"}},
	"add": {
		{"--qr", "--secret", "-", "--issuer", "X", "--name", "y", "img.png"},
		{"--qr", "--issuer", "X", "img.png"},
		{"otpauth://totp/X:y?secret=JBSWY3DPEHPK3PXP", "--name", "z"},
		{"--secret", "-", "--issuer", "X", "--counter", "3"},
		{"--all", "otpauth://totp/X:y?secret=JBSWY3DPEHPK3PXP"},
		{"--scan", "--qr", "img.png"},
		{"--clipboard", "--name", "y"},
	},
	"list":            {},
	"code":            {{"x", "--clear-after", "5s"}},
	"rm":              {},
	"rename":          {},
	"passwd":          {},
	"recover":         {},
	"import":          {},
	"export":          {{"--format", "uri", "--password-file", "pw"}, {"--format", "google", "--password-file", "pw"}, {"--format", "backup", "--force"}},
	"clear-clipboard": {},
	"server":          {},
	"pair":            {},
	"devices":         {},
	"devices pause":   {},
	"devices resume":  {},
	"devices unblock": {},
	"unpair":          {},
	"approve":         {},
	"demo":            {},
	"agent":           {},
	"agent install":   {},
	"agent status":    {},
	"agent uninstall": {},
	"unlock":          {},
	"lock":            {},
	"man":             {},
}

// sampleArgs are arguments that satisfy each command's argument count, so
// that the flags are what is checked.
var sampleArgs = map[string][]string{
	"code": {"keep"}, "rm": {"keep"}, "rename": {"keep"}, "import": {"file"}, "pair": {"uri"},
	"devices pause": {"p"}, "devices resume": {"p"}, "devices unblock": {"p"}, "unpair": {"p"},
}

// globalArgs are the global flags with a value to give each.
var globalArgs = map[string][]string{
	"passphrase-file": {"--passphrase-file", "pw"},
	"store":           {"--store", "keyring"},
	"clear-after":     {"--clear-after", "5s"},
	"privacy":         {"--privacy"},
	"theme":           {"--theme", "dark"},
}

// TestIgnoredFlagsRefused walks the whole command tree: every global flag
// given to a command that does not read it, and every combination in
// ignoredFlags, is refused with exit 2 and a message naming the flag,
// before anything is read or written.
func TestIgnoredFlagsRefused(t *testing.T) {
	paths := commandPaths()
	for _, p := range paths {
		if _, ok := ignoredFlags[p]; !ok {
			t.Errorf("command %q is not in ignoredFlags: list the flag combinations it would ignore (or none)", p)
		}
	}
	for p := range ignoredFlags {
		if !slices.Contains(paths, p) {
			t.Errorf("ignoredFlags names %q, which is no command", p)
		}
	}
	for name, users := range globalUsers {
		for _, u := range users {
			if !slices.Contains(paths, u) {
				t.Errorf("globalUsers[%q] names %q, which is no command", name, u)
			}
		}
	}
	c := newCLI(t)
	c.ok("", "add", "otpauth://totp/Keep:me?secret=JBSWY3DPEHPK3PXP")
	vaultFile := filepath.Join(c.home, vault.FileName)
	before, err := os.ReadFile(vaultFile)
	if err != nil {
		t.Fatal(err)
	}
	check := func(args []string, flag string) {
		t.Helper()
		r := c.run("", args...)
		if r.code != 2 || !strings.Contains(r.stderr, flag) {
			t.Errorf("sesame %q: exit %d, stderr %q; want exit 2 and a message naming %s", args, r.code, r.stderr, flag)
		}
		if after, _ := os.ReadFile(vaultFile); !bytes.Equal(before, after) {
			t.Fatalf("sesame %q changed the vault", args)
		}
	}
	for _, p := range paths {
		for name, flagArgs := range globalArgs {
			if slices.Contains(globalUsers[name], p) {
				continue
			}
			args := append(append(strings.Fields(p), sampleArgs[p]...), flagArgs...)
			check(args, "--"+name)
		}
		for _, combo := range ignoredFlags[p] {
			check(append(strings.Fields(p), combo...), "--")
		}
	}
}

func TestSmallRefusals(t *testing.T) {
	c := newCLI(t)
	c.ok("", "add", "otpauth://totp/Keep:me?secret=JBSWY3DPEHPK3PXP")
	cases := []struct {
		args []string
		exit int
		says string
	}{
		{[]string{"code", "keep", "--copy", "--clear-after", "-5s"}, 2, "--clear-after must be 0"},
		{[]string{"--clear-after", "-1s"}, 2, "--clear-after must be 0"},
		{[]string{"lst"}, 2, "did you mean 'list'?"},
		{[]string{"rename", "keep", "--name", "a\u2028b"}, 1, "control characters"},
		{[]string{"add", "otpauth://totp/X:a%E2%80%A9b?secret=JBSWY3DPEHPK3PXQ"}, 1, "control characters"},
	}
	for _, tc := range cases {
		r := c.run("", tc.args...)
		if r.code != tc.exit || !strings.Contains(r.stderr, tc.says) {
			t.Errorf("sesame %q: exit %d, stderr %q; want exit %d and %q", tc.args, r.code, r.stderr, tc.exit, tc.says)
		}
	}
}

// The --format flags complete their values.
func TestFormatCompletion(t *testing.T) {
	c := newCLI(t)
	for cmd, want := range map[string]string{"export": "backup", "import": "aegis"} {
		out := c.ok("", "__complete", cmd, "--format", "")
		if !strings.Contains(out, want+"\n") || !strings.Contains(out, ":4") {
			t.Errorf("completion of %s --format: %q; want %s and no file completion", cmd, out, want)
		}
	}
}

func TestVersionFlag(t *testing.T) {
	if out := newCLI(t).ok("", "--version"); !strings.HasPrefix(out, "sesame ") {
		t.Errorf("--version printed %q", out)
	}
}
