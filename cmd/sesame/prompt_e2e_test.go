//go:build unix && !lean

package main

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/tui/tuitest"
	"github.com/sesame-auth/sesame/vault"
	"github.com/sesame-auth/sesame/vault/vaulttest"
)

// TestPromptsInTmux drives the built binary's prompts in a real terminal:
// "Secret:" does not echo what is typed; Ctrl-C at "Vault passphrase:" and
// Ctrl-D at "[y/N]" cancel at once with exit 130, changing nothing.
func TestPromptsInTmux(t *testing.T) {
	bin := tuitest.Sesame(t)
	o := vaulttest.Options(t)
	o.Passphrase = []byte(vaulttest.Passphrase)
	if _, err := vault.Create(o, vault.StorePassphrase); err != nil {
		t.Fatal(err)
	}
	pp := "SESAME_PASSPHRASE='" + vaulttest.Passphrase + "'"
	// The shell traps SIGINT so that Ctrl-C ends only sesame; the trap is
	// reset to the default in the commands it starts.
	script := strings.Join([]string{
		"trap : INT",
		pp + " " + bin + " add --secret - --issuer Typed --name in; echo exit=$?",
		bin + " list; echo exit=$?",
		pp + " " + bin + " rm typed; echo exit=$?",
		"exec sleep 600",
	}, "; ")
	tm := tuitest.Start(t, tuitest.TermOptions{Width: 120, Height: 30, Env: []string{"SESAME_HOME=" + o.Dir}}, "sh", "-c", script)

	tm.WaitFor(30*time.Second, "Secret:")
	const secret = "JBSWY3DPEHPK3PXP"
	tm.Line(secret)
	screen := tm.WaitFor(30*time.Second, "added Typed (in)", "exit=0")
	if strings.Contains(screen, secret) {
		t.Fatalf("the secret was echoed:\n%s", screen)
	}

	tm.WaitFor(30*time.Second, "Vault passphrase:")
	tm.Type("half a pass")
	tm.Keys("C-c")
	tm.WaitFor(30*time.Second, "cancelled, nothing changed", "exit=130")

	tm.WaitFor(30*time.Second, "Remove Typed (in)? Its codes cannot be recovered [y/N]")
	tm.Keys("C-d")
	tm.WaitCount(30*time.Second, 2, "cancelled, nothing changed")
	tm.WaitCount(30*time.Second, 2, "exit=130")

	v, err := vault.Open(o)
	if err != nil {
		t.Fatal(err)
	}
	if n := len(v.Data().Accounts); n != 1 {
		t.Fatalf("the vault holds %d accounts, want the one added", n)
	}
}

// The built binary refuses a named pipe in the vault file's place at once,
// where it used to hang until killed.
func TestBinaryRefusesFIFO(t *testing.T) {
	bin := tuitest.Sesame(t)
	home := t.TempDir()
	if err := syscall.Mkfifo(filepath.Join(home, vault.FileName), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{{"list"}, {"add", "otpauth://totp/X:y?secret=JBSWY3DPEHPK3PXP"}} {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		cmd := exec.CommandContext(ctx, bin, args...)
		cmd.Env = tuitest.Environ("SESAME_HOME="+home, "SESAME_PASSPHRASE=x")
		out, err := cmd.CombinedOutput()
		cancel()
		if errors.Is(ctx.Err(), context.DeadlineExceeded) {
			t.Fatalf("sesame %s hung on a named pipe", args[0])
		}
		ee, ok := err.(*exec.ExitError)
		if !ok || ee.ExitCode() != 1 || !strings.Contains(string(out), "vault.sesame is not a regular file") {
			t.Fatalf("sesame %s with a named pipe: %v\n%s", args[0], err, out)
		}
	}
	if _, err := os.Stat(filepath.Join(home, vault.BackupName)); err == nil {
		t.Fatal("a backup appeared")
	}
}
