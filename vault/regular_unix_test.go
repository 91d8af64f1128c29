//go:build unix

package vault_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/sesame-auth/sesame/vault"
	"github.com/sesame-auth/sesame/vault/vaulttest"
)

// Something other than a regular file in the vault file's place is refused
// at once: a named pipe would block a plain open forever.
func TestVaultFileMustBeRegular(t *testing.T) {
	o := vaulttest.Options(t)
	if err := syscall.Mkfifo(filepath.Join(o.Dir, vault.FileName), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := vault.Open(o)
	if !errors.Is(err, vault.ErrNotRegular) || !strings.Contains(err.Error(), "vault.sesame is not a regular file") || !strings.Contains(err.Error(), "named pipe") {
		t.Fatalf("Open with a FIFO as the vault file: %v", err)
	}
	dir := vaulttest.Options(t).Dir
	if err := os.Mkdir(filepath.Join(dir, vault.FileName), 0o700); err != nil {
		t.Fatal(err)
	}
	if _, err := vault.Open(vault.Options{Dir: dir, Keyring: vaulttest.NewKeyring()}); !errors.Is(err, vault.ErrNotRegular) {
		t.Fatalf("Open with a folder as the vault file: %v", err)
	}
}
