//go:build !lean

package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"

	"github.com/sesame-auth/sesame/approve"
	"github.com/sesame-auth/sesame/approve/notify"
	"github.com/sesame-auth/sesame/vault"
)

// approveOnce answers one pending request, the one with id or else the
// oldest, and returns: what 'sesame approve ID' does from a notification.
func (a *app) approveOnce(ctx context.Context, v *vault.Vault, id string) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w, active, err := a.startWatcher(ctx, v)
	if err != nil {
		return err
	}

	// Every active pairing's first poll lists what is pending there.
	polled := map[string]bool{}
	var pending []approve.Request
	var target *approve.Request
	for target == nil {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case ev, ok := <-w.Events():
			if !ok {
				return ctx.Err()
			}
			switch {
			case ev.Status != nil && ev.Status.State != approve.StateConnecting:
				if ev.Status.State != approve.StateOK {
					fmt.Fprintf(a.stderr, "sesame: %s\n", ev.Status)
				}
				polled[ev.Status.PairingID] = true
			case ev.Request != nil:
				pending = append(pending, *ev.Request)
			case ev.Withdrawn != nil:
				pending = slices.DeleteFunc(pending, func(r approve.Request) bool {
					return r.PairingID == ev.Withdrawn.PairingID && r.ID == ev.Withdrawn.ID
				})
			}
		}
		if i := slices.IndexFunc(pending, func(r approve.Request) bool { return r.ID == id }); id != "" && i >= 0 {
			target = &pending[i]
			break
		}
		if len(polled) < active {
			continue
		}
		switch {
		case id != "":
			return fmt.Errorf("no sign-in request %s is pending: it was answered, has expired, or its pairing is paused", id)
		case len(pending) == 0:
			return errors.New("no sign-in request is waiting")
		}
		slices.SortStableFunc(pending, func(x, y approve.Request) int { return x.Created.Compare(y.Created) })
		target = &pending[0]
	}
	r := *target
	a.printRequest(r, len(pending)-1)
	lines := a.answerLines(ctx)
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case ev, ok := <-w.Events():
			if !ok {
				return ctx.Err()
			}
			if g := ev.Withdrawn; g != nil && g.PairingID == r.PairingID && g.ID == r.ID {
				fmt.Fprintln(a.stdout)
				return errors.New("the sign-in request expired or was answered elsewhere: nothing was sent")
			}
		case line, ok := <-lines:
			if !ok {
				fmt.Fprintln(a.stdout)
				return errors.New("no answer was given (end of input): nothing was sent")
			}
			ans, ok := a.readAnswer(r, line)
			if !ok {
				continue
			}
			ev, err := a.respond(ctx, w, v, r, ans)
			a.writeHistory(v, []vault.Event{ev})
			if err != nil {
				return errQuiet
			}
			return nil
		}
	}
}

// noNotify reports whether --no-notify or SESAME_NO_NOTIFY turns terminal
// notifications off.
func (a *app) noNotify() bool { return a.ui.noNotify || a.getenv("SESAME_NO_NOTIFY") != "" }

// terminalNotifier returns what rings the terminal for a new request: the
// bell and OSC 9 / OSC 777 on stdout when it is a terminal, unless
// --no-notify or SESAME_NO_NOTIFY says not to.
func (a *app) terminalNotifier() func(approve.Request) {
	if a.noNotify() || !isTerminal(a.stdout) {
		return func(approve.Request) {}
	}
	t := notify.TerminalFor(a.stdout.(*os.File), a.getenv)
	return func(r approve.Request) {
		t.Notify(notify.TerminalText(notify.ForRequest(r, a.now())))
	}
}
