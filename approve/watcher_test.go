package approve_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/approve"
	"github.com/sesame-auth/sesame/approve/server"
	"github.com/sesame-auth/sesame/approve/sesame"
	"github.com/sesame-auth/sesame/vault"
)

type testServer struct {
	h  *server.Handler
	ts *httptest.Server
}

func newServer(t *testing.T) *testServer {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	ts := httptest.NewUnstartedServer(nil)
	h, err := server.New(server.Config{Key: key, Store: server.NewMemoryStore(), URL: "http://" + ts.Listener.Addr().String(), SignInBurst: 100})
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = h
	ts.Start()
	t.Cleanup(func() { h.Close(); ts.Close() })
	return &testServer{h, ts}
}

func (s *testServer) pair(t *testing.T, user string) vault.Pairing {
	pr, err := s.h.CreatePairing(user)
	if err != nil {
		t.Fatal(err)
	}
	p, err := approve.Pair(context.Background(), pr.URI, approve.Options{Kinds: kinds})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// next returns the next event matching want, failing after a deadline.
func next(t *testing.T, w *approve.Watcher, want func(approve.Event) bool) approve.Event {
	t.Helper()
	deadline := time.After(15 * time.Second)
	for {
		select {
		case ev, ok := <-w.Events():
			if !ok {
				t.Fatal("events closed")
			}
			if want(ev) {
				return ev
			}
		case <-deadline:
			t.Fatal("no matching event within 15s")
		}
	}
}

func isRequest(ev approve.Event) bool   { return ev.Request != nil }
func isWithdrawn(ev approve.Event) bool { return ev.Withdrawn != nil }
func isState(s approve.State) func(approve.Event) bool {
	return func(ev approve.Event) bool { return ev.Status != nil && ev.Status.State == s }
}

func TestWatcherDeliversOnceAndRespondsOnce(t *testing.T) {
	t.Parallel() // waits on timers, not the CPU
	s := newServer(t)
	alice, bob := s.pair(t, "alice"), s.pair(t, "bob")
	w := approve.NewWatcher([]vault.Pairing{alice, bob}, approve.Options{Kinds: kinds})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go w.Run(ctx)
	next(t, w, isState(approve.StateOK))
	next(t, w, isState(approve.StateOK))

	started, err := s.h.StartSignIn(server.SignInRequest{User: "bob", Application: "Mail"})
	if err != nil {
		t.Fatal(err)
	}
	ev := next(t, w, isRequest)
	r := *ev.Request
	if r.ID != started.ID || r.PairingID != bob.ID || r.Application != "Mail" {
		t.Fatalf("request = %+v", r)
	}
	// A second device of the same user would see it too; this one must not see it twice.
	if err := w.Respond(ctx, r, approve.Answer{Approve: true, Number: started.Number}); err != nil {
		t.Fatal(err)
	}
	if err := w.Respond(ctx, r, approve.Answer{Reason: approve.NotMe}); !errors.Is(err, approve.ErrAnswered) {
		t.Fatalf("second Respond = %v, want ErrAnswered", err)
	}
	st, _ := s.h.WaitSignIn(ctx, started.ID, 0)
	if st.Status != sesame.StatusApproved {
		t.Fatalf("status = %+v", st)
	}
	// A new request replaces nothing of bob's and is delivered once.
	second, _ := s.h.StartSignIn(server.SignInRequest{User: "alice"})
	ev = next(t, w, func(ev approve.Event) bool { return ev.Request != nil || ev.Withdrawn != nil })
	if ev.Request == nil || ev.Request.ID != second.ID {
		t.Fatalf("event = %+v", ev)
	}
	// Replaced on the server: withdrawn here, and the new one delivered.
	third, _ := s.h.StartSignIn(server.SignInRequest{User: "alice"})
	got := map[string]string{}
	for len(got) < 2 {
		ev := next(t, w, func(ev approve.Event) bool { return ev.Request != nil || ev.Withdrawn != nil })
		if ev.Request != nil {
			got["new"] = ev.Request.ID
		} else {
			got["gone"] = ev.Withdrawn.ID
		}
	}
	if got["new"] != third.ID || got["gone"] != second.ID {
		t.Fatalf("events = %v", got)
	}
}

func TestWatcherPauseAndRemove(t *testing.T) {
	s := newServer(t)
	alice := s.pair(t, "alice")
	w := approve.NewWatcher([]vault.Pairing{alice}, approve.Options{Kinds: kinds})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() { w.Run(ctx); close(done) }()
	next(t, w, isState(approve.StateOK))
	paused := alice
	paused.Paused = true
	w.SetPairings([]vault.Pairing{paused})
	next(t, w, isState(approve.StatePaused))
	if _, err := s.h.StartSignIn(server.SignInRequest{User: "alice"}); err != nil {
		t.Fatal(err)
	}
	w.SetPairings([]vault.Pairing{alice})
	ev := next(t, w, func(ev approve.Event) bool {
		return ev.Request != nil || ev.Status != nil && ev.Status.State == approve.StateOK
	})
	if ev.Request == nil {
		ev = next(t, w, isRequest)
	}
	w.SetPairings(nil)
	next(t, w, isWithdrawn)
	if err := w.Respond(ctx, *ev.Request, approve.Answer{Reason: approve.Cancelled}); err == nil {
		t.Fatal("answered through a removed pairing")
	}
	cancel()
	<-done
	if _, ok := <-w.Events(); ok {
		// Drain: events may remain buffered; the channel must end closed.
		for range w.Events() {
		}
	}
}

func TestWatcherReportsFaultsAndBacksOff(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	mode := make(chan string, 1)
	mode <- "500"
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m := <-mode
		mode <- m
		switch m {
		case "500":
			w.WriteHeader(500)
		case "badsig":
			w.Header().Set(sesame.HeaderTime, "1")
			w.Header().Set(sesame.HeaderSignature, sesame.EncodeB64(bytes.Repeat([]byte{1}, 64)))
			w.Write([]byte(`{"v":1,"requests":[]}`))
		}
	}))
	defer ts.Close()
	_, dk, _ := ed25519.GenerateKey(rand.Reader)
	p := vault.Pairing{ID: "p", Provider: "sesame", Server: ts.URL, User: "alice", DeviceKey: vault.Secret(dk.Seed()),
		ServerKey: key.Public().(ed25519.PublicKey), Params: map[string]string{"device_id": "d"}}
	fixedNow := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	w := approve.NewWatcher([]vault.Pairing{p}, approve.Options{Kinds: kinds, Now: func() time.Time { return fixedNow }, Rand: func(n int64) int64 { return 0 }})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go w.Run(ctx)
	ev := next(t, w, isState(approve.StateDown))
	if !errors.Is(ev.Status.Err, approve.ErrServer) || ev.Status.Until.Sub(ev.Status.At) != approve.BackoffBase/2 {
		t.Fatalf("status = %+v", ev.Status)
	}
	<-mode
	mode <- "badsig"
	ev = next(t, w, isState(approve.StateBadSignature))
	if ev.Status.String() == "" || ev.Status.Until.IsZero() {
		t.Fatalf("status = %+v", ev.Status)
	}
}

// kinds are the providers the tests hand to the watcher: Sesame's own.
var kinds = []approve.Kind{sesame.Kind}
