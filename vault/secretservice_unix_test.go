//go:build !darwin && !windows

package vault_test

import (
	"errors"
	"os/exec"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/vault"
	"github.com/sesame-auth/sesame/vault/vaulttest"
)

// SystemKeyring.Get reads an unlocked item itself, in three round trips, and
// leaves missing and locked items to go-keyring: against a real
// gnome-keyring, the short read finds what go-keyring wrote (and what
// secret-tool sees), finds nothing where there is nothing, and refuses a
// locked item, for which Get still says that the keyring is locked.
func TestSecretServiceShortRead(t *testing.T) {
	if !vaulttest.InSecretService(t) {
		return
	}
	k := vault.SystemKeyring{}
	const service, user, secret = "sesame-short-read", "someone", "AGE-SECRET-KEY-1 with spaces, ünïcode"
	if err := k.Set(service, user, secret); err != nil {
		t.Fatal(err)
	}
	if got, err := vault.ReadUnlocked(service, user); got != secret || err != nil {
		t.Fatalf("short read of an unlocked item: %q, %v", got, err)
	}
	if got, err := k.Get(service, user); got != secret || err != nil {
		t.Fatalf("Get of an unlocked item: %q, %v", got, err)
	}
	// The short read waits on nothing but the bus: it never asks for the
	// context's Done channel, which would start a command's signal watch.
	var watched doneSpy
	if got, err := k.GetContext(&watched, service, user); got != secret || err != nil || watched.asked.Load() {
		t.Fatalf("GetContext of an unlocked item: %q, %v, Done asked for: %v; want the secret without a wait on the context", got, err, watched.asked.Load())
	}
	if out, err := exec.Command("secret-tool", "lookup", "service", service, "username", user).Output(); string(out) != secret || err != nil {
		t.Fatalf("secret-tool sees %q, %v: not the item Sesame reads", out, err)
	}

	if _, err := vault.ReadUnlocked(service, "nobody"); !errors.Is(err, vault.ErrNotUnlocked) {
		t.Fatalf("short read of a missing item: %v, want ErrNotUnlocked", err)
	}
	if _, err := k.Get(service, "nobody"); !errors.Is(err, vault.ErrKeyringItemNotFound) {
		t.Fatalf("Get of a missing item: %v, want ErrKeyringItemNotFound", err)
	}

	lock := exec.Command("dbus-send", "--session", "--dest=org.freedesktop.secrets", "--print-reply",
		"/org/freedesktop/secrets", "org.freedesktop.Secret.Service.Lock", "array:objpath:/org/freedesktop/secrets/collection/login")
	if out, err := lock.CombinedOutput(); err != nil {
		t.Fatalf("lock the keyring: %v\n%s", err, out)
	}
	if got, err := vault.ReadUnlocked(service, user); !errors.Is(err, vault.ErrNotUnlocked) || got != "" {
		t.Fatalf("short read of a locked item: %q, %v; want nothing and ErrNotUnlocked", got, err)
	}
	// go-keyring's own error, which Sesame reads as a locked keyring. Its
	// path may wait for an unlock prompt, so it watches the context.
	if got, err := k.GetContext(&watched, service, user); got != "" || err == nil || !strings.Contains(err.Error(), "failed to unlock correct collection '/org/freedesktop/secrets/collection/login'") {
		t.Fatalf("Get of a locked item: %q, %v; want go-keyring's error saying the login collection stays locked", got, err)
	}
	if !watched.asked.Load() {
		t.Fatal("go-keyring's read of a locked item did not watch the context")
	}
}

// doneSpy is a context that never ends and records whether its Done
// channel was asked for.
type doneSpy struct{ asked atomic.Bool }

func (d *doneSpy) Done() <-chan struct{} {
	d.asked.Store(true)
	return nil
}

func (d *doneSpy) Err() error                  { return nil }
func (d *doneSpy) Value(any) any               { return nil }
func (d *doneSpy) Deadline() (time.Time, bool) { return time.Time{}, false }
