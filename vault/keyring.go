package vault

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"time"

	gokeyring "github.com/zalando/go-keyring"
)

// ErrKeyringItemNotFound is what a Keyring returns when the item does not exist.
var ErrKeyringItemNotFound = gokeyring.ErrNotFound

// ErrKeyringLocked is matched by ProbeKeyring's error, and so by Create's
// with StoreAuto, when the OS keyring is there but cannot be used now: it is
// locked, or it does not answer (an unlock prompt nobody sees). A Keyring's
// own errors may match it too, to say that the keyring is locked.
var ErrKeyringLocked = errors.New("the OS keyring is locked")

// ErrNoKeyring is matched by SystemKeyring's errors when there is no OS
// keyring to talk to at all: on Linux, no D-Bus session bus. The message
// says why.
var ErrNoKeyring = errors.New("no OS keyring here")

// ErrKeyringTimeout is matched by SystemKeyring's errors when the keyring
// did not answer within its timeout. The message names the likely cause.
var ErrKeyringTimeout = errors.New("the OS keyring did not answer")

// DefaultKeyringTimeout bounds each call to the OS keyring when
// SystemKeyring.Timeout is zero.
const DefaultKeyringTimeout = 20 * time.Second

// SystemKeyring is the OS keyring: macOS Keychain, Windows Credential
// Manager or the Secret Service on Linux, through go-keyring. On Linux, a
// read (Get, or Connect, Ask and Wait) first reads an unlocked item of the
// login collection itself, in three round trips over the connection that
// showed the bus is there (startDirect, sendSearch, finishDirect), and
// leaves everything else (a locked item, one missing, any error) to
// go-keyring, so that its answers and errors stay go-keyring's.
//
// On Linux it talks to the Secret Service only over a session bus that is
// really there (DBUS_SESSION_BUS_ADDRESS set and reachable, or
// $XDG_RUNTIME_DIR/bus): without one every call fails at once with an error
// matching ErrNoKeyring, and no bus or keyring daemon is ever started. Each
// call gives up after Timeout with an error matching ErrKeyringTimeout (the
// call itself, which cannot be interrupted, is left to finish in the
// background).
type SystemKeyring struct {
	// Timeout bounds each call; DefaultKeyringTimeout when zero.
	Timeout time.Duration
}

// Get reads an item. It is GetContext without a context: only Timeout ends
// a call that waits.
func (k SystemKeyring) Get(service, user string) (string, error) {
	return k.GetContext(context.Background(), service, user)
}

// GetContext reads an item, giving up when ctx ends or after Timeout. It
// is Connect, Ask and Wait at once.
func (k SystemKeyring) GetContext(ctx context.Context, service, user string) (string, error) {
	r := k.Connect()
	r.Ask(service, user)
	return r.Wait(ctx)
}

// Connect starts a read before the item is known. On Linux it connects to
// the session bus and authenticates, which only the bus daemon answers and
// which asks nobody anything (startDirect); elsewhere it does nothing yet.
// Ask names the item; a read that is not asked for is Cancelled. Open
// connects before it reads the vault file, so that the bus daemon takes the
// new connection while the file is read.
func (k SystemKeyring) Connect() *KeyRead {
	r := &KeyRead{k: k}
	if r.bus, r.busErr = openBus(); r.busErr == nil {
		r.sendErr = startDirect(r.bus, k.timeout())
	}
	return r
}

// Ask names the item to read and, on Linux, sends the first request of a
// direct read of an unlocked item of the login collection, the search,
// without waiting for an answer (sendSearch): it cannot ask a person
// anything. The keyring's daemons answer while the caller works on (Open
// decodes the rest of the vault file); Wait makes the rest of the read.
func (r *KeyRead) Ask(service, user string) {
	r.service, r.user = service, user
	if r.bus != nil && r.sendErr == nil {
		r.sendErr = sendSearch(r.bus, service, user)
	}
}

// Connector is a Keyring that can start a read before its answer is
// needed (SystemKeyring): Open connects with it before it reads the vault
// file. A wrapper may return nil for a keyring that cannot; Open then calls
// Get.
type Connector interface {
	Connect() *KeyRead
}

// KeyRead is a read of the OS keyring under way (SystemKeyring.Connect).
type KeyRead struct {
	k             SystemKeyring
	service, user string
	bus           net.Conn // nil where there is no session bus to read over
	busErr        error    // why there is no bus: the read's answer
	sendErr       error    // why the direct read could not start
}

// Wait finishes the read, giving up when ctx ends or after the keyring's
// Timeout; call it once. The direct read (finishDirect) waits on the calling
// goroutine, within Timeout, and does not watch ctx, nor ask for its Done
// channel: nothing there waits for a person, and a goroutine and a timer
// would cost a process that only prints a code a tenth of its time
// (BENCHMARKS.md). Anything it cannot answer (a locked or missing item, with
// its unlock prompt) goes to go-keyring, and that call watches ctx.
func (r *KeyRead) Wait(ctx context.Context) (string, error) {
	if r.busErr != nil {
		return "", r.busErr
	}
	err := r.sendErr
	var secret string
	if err == nil && r.bus != nil {
		secret, err = finishDirect(r.bus)
	}
	r.Cancel()
	switch {
	case err == nil:
		return secret, nil
	case errors.Is(err, os.ErrDeadlineExceeded):
		return "", keyringTimeoutError(r.k.timeout()) // go-keyring would wait on the same bus
	}
	return within(ctx, r.k.timeout(), func() (string, error) {
		introduceClient(r.service, r.user)
		return gokeyring.Get(r.service, r.user)
	})
}

// Cancel ends a read that Wait will not finish: it hangs up on the bus. A
// nil KeyRead may be Cancelled.
func (r *KeyRead) Cancel() {
	if r != nil && r.bus != nil {
		r.bus.Close()
		r.bus = nil
	}
}

// Set writes an item, through go-keyring. Like every go-keyring call here,
// it is preceded on Linux by a search (introduceClient), so that
// gnome-keyring knows the client before go-keyring opens its session.
func (k SystemKeyring) Set(service, user, secret string) error {
	if err := keyringReachable(); err != nil {
		return err
	}
	_, err := within(context.Background(), k.timeout(), func() (struct{}, error) {
		introduceClient(service, user)
		return struct{}{}, gokeyring.Set(service, user, secret)
	})
	return err
}

// Delete removes an item.
func (k SystemKeyring) Delete(service, user string) error {
	if err := keyringReachable(); err != nil {
		return err
	}
	_, err := within(context.Background(), k.timeout(), func() (struct{}, error) {
		introduceClient(service, user)
		return struct{}{}, gokeyring.Delete(service, user)
	})
	return err
}

// timeout is Timeout, or DefaultKeyringTimeout when that is zero.
func (k SystemKeyring) timeout() time.Duration {
	if k.Timeout <= 0 {
		return DefaultKeyringTimeout
	}
	return k.Timeout
}

// within runs a keyring call and gives up on it after timeout, or when ctx
// ends (then with an error that wraps ctx's cause). The call itself, which
// cannot be interrupted, is left to finish in the background.
func within[T any](ctx context.Context, timeout time.Duration, call func() (T, error)) (T, error) {
	var zero T
	type result struct {
		v   T
		err error
	}
	cancelled := ctx.Done() // watched from before the call starts
	done := make(chan result, 1)
	go func() {
		v, err := call()
		done <- result{v, err}
	}()
	t := time.NewTimer(timeout)
	defer t.Stop()
	select {
	case r := <-done:
		return r.v, r.err
	case <-t.C:
		return zero, keyringTimeoutError(timeout)
	case <-cancelled:
		return zero, fmt.Errorf("stopped waiting for the OS keyring: %w", context.Cause(ctx))
	}
}

// keyringTimeoutError says that the keyring did not answer in time, and why
// that usually happens.
type keyringTimeoutError time.Duration

func (e keyringTimeoutError) Error() string {
	return fmt.Sprintf("the OS keyring did not answer within %s: it is most likely waiting for its unlock prompt on a display nobody is looking at (ssh -X, VNC, a locked screen); unlock the keyring there and try again, or allow it longer with --keyring-timeout", time.Duration(e))
}

// Is matches ErrKeyringTimeout and ErrKeyringUnavailable.
func (e keyringTimeoutError) Is(target error) bool {
	return target == ErrKeyringTimeout || target == ErrKeyringUnavailable
}

// noKeyringError says why there is no OS keyring to talk to.
type noKeyringError struct{ why string }

func (e noKeyringError) Error() string { return e.why }

// Is matches ErrNoKeyring.
func (e noKeyringError) Is(target error) bool { return target == ErrNoKeyring }

// ProbeKeyring checks that the keyring works with a write-read-delete of a
// throwaway item. It returns why it does not: an error matching
// ErrKeyringLocked when the keyring is there but locked or not answering
// (Create with StoreAuto then fails rather than fall back to a passphrase),
// any other error when there is no working keyring.
func ProbeKeyring(k Keyring) error {
	const user = "probe"
	want := "probe-" + NewID()
	if err := k.Set(KeyringService, user, want); err != nil {
		switch {
		case keyringLocked(err):
			return lockedError{err}
		case errors.Is(err, ErrNoKeyring):
			return err // it says why already
		}
		return fmt.Errorf("cannot write to the OS keyring: %w", err)
	}
	got, err := k.Get(KeyringService, user)
	_ = k.Delete(KeyringService, user)
	if err != nil {
		if keyringLocked(err) {
			return lockedError{err}
		}
		return fmt.Errorf("cannot read from the OS keyring: %w", err)
	}
	if got != want {
		return errors.New("the OS keyring returned something other than what was stored")
	}
	return nil
}

// lockedError is ProbeKeyring's error for a keyring that is there but
// cannot be used now. It says both ways on: unlock the keyring, or make a
// passphrase vault instead.
type lockedError struct{ cause error }

const passphraseInstead = "or make a passphrase vault instead with --store passphrase (in scripts, set SESAME_PASSPHRASE too)"

func (e lockedError) Error() string {
	if errors.Is(e.cause, ErrKeyringTimeout) {
		return e.cause.Error() + "; " + passphraseInstead
	}
	return fmt.Sprintf("the OS keyring is locked (%v): unlock it (log in to the desktop session, or see Troubleshooting in Sesame's README) and try again, %s", e.cause, passphraseInstead)
}

// Is matches ErrKeyringLocked.
func (e lockedError) Is(target error) bool { return target == ErrKeyringLocked }

// Unwrap gives the keyring's own error.
func (e lockedError) Unwrap() error { return e.cause }

// secretServiceLocked starts the error go-keyring's Secret Service backend
// (Linux and the BSDs) returns when it cannot unlock the login collection:
// the collection is locked and no prompt unlocked it (none could be shown,
// or the user dismissed it). With no login collection at all, go-keyring
// names the default alias (".../aliases/default") instead; gnome-keyring
// started on demand with no keyring set up (a headless session) answers that
// way, so that is taken as no keyring, like no Secret Service or no D-Bus.
// go-keyring's macOS and Windows backends report no locked state apart from
// other failures.
const secretServiceLocked = "failed to unlock correct collection '/org/freedesktop/secrets/collection/"

// keyringLocked reports whether err says the keyring is there but locked, or
// there but not answering.
func keyringLocked(err error) bool {
	return errors.Is(err, ErrKeyringLocked) || errors.Is(err, ErrKeyringTimeout) || strings.Contains(err.Error(), secretServiceLocked)
}
