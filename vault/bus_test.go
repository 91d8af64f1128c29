//go:build !darwin && !windows

package vault

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// listen opens a unix socket that accepts connections (and never answers),
// as a session bus socket would before authentication.
func listen(t *testing.T, path string) {
	t.Helper()
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
}

// A session bus is used only when it is there: the address in
// DBUS_SESSION_BUS_ADDRESS or the runtime folder's socket must accept a
// connection; anything else is "no keyring", said in words, and never an
// address that would make the D-Bus library start a bus.
func TestSessionBus(t *testing.T) {
	live := t.TempDir()
	listen(t, filepath.Join(live, "bus"))
	odd := filepath.Join(t.TempDir(), "a dir,with=odd;chars")
	if err := os.Mkdir(odd, 0o700); err != nil {
		t.Fatal(err)
	}
	listen(t, filepath.Join(odd, "s"))
	stale := t.TempDir()
	l, err := net.Listen("unix", filepath.Join(stale, "bus"))
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	l.Close() // the socket file stays, nobody listens: a bus that died
	empty := t.TempDir()

	for _, tc := range []struct {
		name     string
		env      map[string]string
		uid      int
		want     string // the address, or "" for no keyring
		whyParts []string
	}{
		{name: "runtime folder socket", env: map[string]string{"XDG_RUNTIME_DIR": live},
			want: "unix:path=" + live + "/bus"},
		{name: "address set and live", env: map[string]string{"DBUS_SESSION_BUS_ADDRESS": "unix:path=" + escapeBusValue(odd+"/s") + ",guid=0123"},
			want: "unix:path=" + escapeBusValue(odd+"/s") + ",guid=0123"},
		{name: "second address of a list is live", env: map[string]string{"DBUS_SESSION_BUS_ADDRESS": "unix:path=" + empty + "/nothing;unix:path=" + live + "/bus"},
			want: "unix:path=" + empty + "/nothing;unix:path=" + live + "/bus"},
		{name: "nothing at all", env: map[string]string{"XDG_RUNTIME_DIR": empty},
			whyParts: []string{"no D-Bus session bus", "DBUS_SESSION_BUS_ADDRESS is not set", empty + "/bus does not exist"}},
		{name: "no runtime folder variable", env: map[string]string{}, uid: 1234567,
			whyParts: []string{"/run/user/1234567/bus does not exist"}},
		{name: "dead socket", env: map[string]string{"XDG_RUNTIME_DIR": stale},
			whyParts: []string{stale + "/bus does not answer"}},
		{name: "address set but dead", env: map[string]string{"DBUS_SESSION_BUS_ADDRESS": "unix:path=" + empty + "/nothing", "XDG_RUNTIME_DIR": live},
			whyParts: []string{"DBUS_SESSION_BUS_ADDRESS", "does not answer"}},
		{name: "autolaunch", env: map[string]string{"DBUS_SESSION_BUS_ADDRESS": "autolaunch:", "XDG_RUNTIME_DIR": live},
			whyParts: []string{"does not answer", "unix: and tcp: addresses only"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, c, err := sessionBus(func(k string) string { return tc.env[k] }, tc.uid)
			if c != nil {
				c.Close()
			}
			if tc.want != "" {
				if err != nil || got != tc.want {
					t.Fatalf("sessionBus = %q, %v; want %q", got, err, tc.want)
				}
				return
			}
			if err == nil || !errors.Is(err, ErrNoKeyring) {
				t.Fatalf("sessionBus = %q, %v; want an error matching ErrNoKeyring", got, err)
			}
			for _, p := range tc.whyParts {
				if !strings.Contains(err.Error(), p) {
					t.Errorf("error %q does not say %q", err, p)
				}
			}
		})
	}
}

func TestBusValueEscaping(t *testing.T) {
	for _, s := range []string{"/run/user/1000/bus", "/tmp/a b,c=d;e%f", "ünï"} {
		e := escapeBusValue(s)
		if strings.ContainsAny(e, " ,=;") || unescapeBusValue(e) != s {
			t.Errorf("escape %q = %q, back %q", s, e, unescapeBusValue(e))
		}
	}
	if got := unescapeBusValue("a%2"); got != "a%2" {
		t.Errorf("a cut escape became %q", got)
	}
}

// A keyring call that does not answer ends in a timeout error that names
// the likely cause, or when its context ends; one that answers returns its
// own result.
func TestKeyringCallTimeout(t *testing.T) {
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", "")
	dir := t.TempDir()
	listen(t, filepath.Join(dir, "bus"))
	t.Setenv("XDG_RUNTIME_DIR", dir)
	release := make(chan struct{})
	defer close(release)
	_, err := within(context.Background(), 10*time.Millisecond, func() (string, error) { <-release; return "late", nil })
	if !errors.Is(err, ErrKeyringTimeout) || !errors.Is(err, ErrKeyringUnavailable) || !strings.Contains(err.Error(), "unlock prompt on a display nobody is looking at") || !strings.Contains(err.Error(), "10ms") {
		t.Fatalf("a call that never answers: %v", err)
	}
	v, err := within(context.Background(), time.Minute, func() (string, error) { return "item", nil })
	if v != "item" || err != nil {
		t.Fatalf("a call that answers: %q, %v", v, err)
	}
	stop := errors.New("stopped by SIGINT")
	ctx, cancel := context.WithCancelCause(context.Background())
	cancel(stop)
	if _, err := within(ctx, time.Minute, func() (string, error) { <-release; return "late", nil }); !errors.Is(err, stop) || !strings.Contains(err.Error(), "stopped waiting for the OS keyring") {
		t.Fatalf("a call whose context ended: %v, want an error that says so and wraps the cause", err)
	}
	if err := ProbeKeyring(hangingKeyring{release}); !errors.Is(err, ErrKeyringLocked) || !strings.Contains(err.Error(), "--store passphrase") {
		t.Fatalf("probe of a keyring that does not answer: %v, want ErrKeyringLocked saying --store passphrase", err)
	}
}

// hangingKeyring times out every call, as SystemKeyring does when the
// keyring waits for a prompt.
type hangingKeyring struct{ release chan struct{} }

func (k hangingKeyring) Get(string, string) (string, error) {
	return within(context.Background(), time.Millisecond, func() (string, error) { <-k.release; return "", nil })
}
func (k hangingKeyring) Set(string, string, string) error {
	_, err := k.Get("", "")
	return err
}
func (k hangingKeyring) Delete(string, string) error { return k.Set("", "", "") }
