package main

import (
	"context"
	"errors"
	"io"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/sesame-auth/sesame/vault"
)

// errCancelled is what a command says when the user stopped it while it
// waited: for the lock, the keyring or an answer at a prompt. Nothing is
// written while Sesame waits, so nothing was changed.
var errCancelled = errors.New("cancelled, nothing changed")

// signalCause is the cause of the run's context when a signal ended it.
type signalCause struct{ sig os.Signal }

func (s signalCause) Error() string { return "stopped by " + s.sig.String() }

// signalGrace is how long a command has, after SIGINT or SIGTERM cancelled
// its context, to finish on its own (restore the terminal, say why it
// stopped) before the process ends anyway: a call that cannot be cancelled,
// such as an OS keyring waiting for a prompt nobody sees, must not keep it
// alive.
const signalGrace = 2 * time.Second

// notifySignals returns a context that SIGINT or SIGTERM ends, with the
// signal as its cause, and a function that stops watching. Every wait of a
// command watches the context and gives up at once; a second signal, or
// signalGrace without the command ending, ends the process there and then.
//
// Watching starts the first time anything asks for the context's Done
// channel, which is when the command first waits on something that can
// take long: the vault's lock, the keyring's unlock prompt, an answer at a
// prompt, the network. Until then a signal ends the process at once, the
// way it ends any program that does not catch it, which is how a watched
// signal ends it too (endBy); nothing is left half-done, because every
// write of the vault is atomic and takes the lock first. Watching costs
// three goroutines and their threads, a tenth of what 'sesame code' takes
// (BENCHMARKS.md), which waits on nothing of the kind.
func notifySignals() (context.Context, func()) {
	ctx, cancel := context.WithCancelCause(context.Background())
	ch := make(chan os.Signal, 2)
	stopped := make(chan struct{})
	watching := false
	sc := &signalContext{Context: ctx}
	sc.watch = func() {
		watching = true
		signal.Notify(ch, os.Interrupt, syscall.SIGTERM)
		go func() {
			var s os.Signal
			select {
			case s = <-ch:
			case <-stopped:
				return
			}
			cancel(signalCause{s})
			select {
			case <-ch:
			case <-time.After(signalGrace):
			case <-stopped:
				return
			}
			endBy(s)
		}()
	}
	return sc, func() {
		sc.once.Do(func() {}) // no watching from here on
		if watching {
			signal.Stop(ch)
			close(stopped)
		}
		cancel(nil)
	}
}

// signalContext is the context notifySignals returns: it starts watching
// for signals when its Done channel is first asked for.
type signalContext struct {
	context.Context
	once  sync.Once
	watch func()
}

func (c *signalContext) Done() <-chan struct{} {
	c.once.Do(c.watch)
	return c.Context.Done()
}

// signalOf returns the signal that ended ctx, if one did.
func signalOf(ctx context.Context) (os.Signal, bool) {
	var s signalCause
	if errors.As(context.Cause(ctx), &s) {
		return s.sig, true
	}
	return nil, false
}

// exitStatus is the shell's status for a process a signal ended: 128 plus
// the signal's number (130 for SIGINT, 143 for SIGTERM).
func exitStatus(s os.Signal) int {
	if n, ok := s.(syscall.Signal); ok {
		return 128 + int(n)
	}
	return 130
}

// cancelStatus reports whether err ends a command the user cancelled, by a
// signal or by ending the input at a prompt (Ctrl-D), and its exit status.
func cancelStatus(ctx context.Context, err error) (int, bool) {
	if s, ok := signalOf(ctx); ok {
		return exitStatus(s), true
	}
	if errors.Is(err, errCancelled) {
		return exitStatus(os.Interrupt), true
	}
	return 0, false
}

// waitKeyring gives up a keyring call when ctx ends: a keyring that waits
// for a prompt nobody answers must not keep a command past Ctrl-C. The call
// itself runs on; the process exits without it. A keyring that can start a
// read (vault.SystemKeyring) is read that way instead, with ctx: its reads
// watch it only where they can wait for a person.
type waitKeyring struct {
	ctx context.Context
	k   vault.Keyring
}

// waitKeyring is a vault.Connector, so that vault.Open reads the key early
// through it.
var _ vault.Connector = waitKeyring{}

// Connect starts a read, or returns nil if the keyring cannot (vault.Open
// then calls Get).
func (w waitKeyring) Connect() *vault.KeyRead {
	if k, ok := w.k.(vault.Connector); ok {
		return k.Connect()
	}
	return nil
}

type keyringResult struct {
	value string
	err   error
}

func (w waitKeyring) wait(call func() (string, error)) (string, error) {
	cancelled := w.ctx.Done() // watched from before the call starts
	done := make(chan keyringResult, 1)
	go func() {
		v, err := call()
		done <- keyringResult{v, err}
	}()
	select {
	case r := <-done:
		return r.value, r.err
	case <-cancelled:
		return "", errCancelled
	}
}

func (w waitKeyring) Get(service, user string) (string, error) {
	if r := w.Connect(); r != nil {
		r.Ask(service, user)
		return r.Wait(w.ctx)
	}
	return w.wait(func() (string, error) { return w.k.Get(service, user) })
}

func (w waitKeyring) Set(service, user, secret string) error {
	_, err := w.wait(func() (string, error) { return "", w.k.Set(service, user, secret) })
	return err
}

func (w waitKeyring) Delete(service, user string) error {
	_, err := w.wait(func() (string, error) { return "", w.k.Delete(service, user) })
	return err
}

// cancelReader reads standard input until done is closed: then a Read that
// waits (a terminal nobody types at, a pipe that never ends) returns
// errCancelled at once. The read goes on into a buffer of its own, which
// nobody looks at any more; the process exits without it.
type cancelReader struct {
	done <-chan struct{}
	r    io.Reader
}

type readResult struct {
	n   int
	err error
}

func (c cancelReader) Read(p []byte) (int, error) {
	buf := make([]byte, len(p))
	got := make(chan readResult, 1)
	go func() {
		n, err := c.r.Read(buf)
		got <- readResult{n, err}
	}()
	select {
	case r := <-got:
		return copy(p, buf[:r.n]), r.err
	case <-c.done:
		return 0, errCancelled
	}
}
