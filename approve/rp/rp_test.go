package rp_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"net"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/approve"
	"github.com/sesame-auth/sesame/approve/rp"
	"github.com/sesame-auth/sesame/approve/server"
	"github.com/sesame-auth/sesame/approve/sesame"
)

const apiKey = "rp-test-api-key-0123456789"

// TestAgainstTheReferenceServer runs the client against approve/server,
// with a real device answering.
func TestAgainstTheReferenceServer(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	ts := httptest.NewUnstartedServer(nil)
	h, err := server.New(server.Config{Key: key, Store: server.NewMemoryStore(), APIKey: []byte(apiKey), URL: "http://" + ts.Listener.Addr().String()})
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = h
	ts.Start()
	t.Cleanup(func() { h.Close(); ts.Close() })
	ctx := context.Background()
	c, err := rp.New(ts.URL, apiKey, nil)
	if err != nil {
		t.Fatal(err)
	}

	var ae *rp.APIError
	if _, err := c.Start(ctx, rp.SignIn{User: "alice"}); !errors.As(err, &ae) || ae.Code != "no_devices" || errors.Is(err, rp.ErrUnavailable) {
		t.Fatalf("unpaired user: %v", err)
	}
	pr, err := h.CreatePairing("alice")
	if err != nil {
		t.Fatal(err)
	}
	p, err := sesame.Pair(ctx, pr.URI, sesame.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	dev, err := sesame.NewClient(p, sesame.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}

	s, err := c.Start(ctx, rp.SignIn{User: "alice", Application: "SSH to box", Mode: "choose", TTLSeconds: 30})
	if err != nil || len(s.Number) != 2 || s.Mode != "choose" || s.Status != rp.StatusPending {
		t.Fatalf("start: %+v %v", s, err)
	}
	if st, err := c.Wait(ctx, s.ID, 0); err != nil || st.Status != rp.StatusPending || st.User != "alice" {
		t.Fatalf("wait: %+v %v", st, err)
	}
	reqs, err := dev.Poll(ctx)
	if err != nil || len(reqs) != 1 {
		t.Fatalf("poll: %v %v", reqs, err)
	}
	go dev.Respond(ctx, reqs[0], approve.Answer{Approve: true, Number: s.Number})
	if st, err := c.Wait(ctx, s.ID, 10*time.Second); err != nil || st.Status != rp.StatusApproved {
		t.Fatalf("wait for the answer: %+v %v", st, err)
	}

	s, _ = c.Start(ctx, rp.SignIn{User: "alice"})
	if st, err := c.Cancel(ctx, s.ID); err != nil || st.Status != rp.StatusExpired || st.Reason != "cancelled" {
		t.Fatalf("cancel: %+v %v", st, err)
	}

	bad, _ := rp.New(ts.URL, "wrong-key-0123456789", nil)
	if _, err := bad.Start(ctx, rp.SignIn{User: "alice"}); !errors.As(err, &ae) || ae.Code != "unauthorized" {
		t.Fatalf("wrong key: %v", err)
	}
}

func TestUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	c, _ := rp.New("http://"+addr, apiKey, nil)
	if _, err := c.Start(context.Background(), rp.SignIn{User: "alice"}); !errors.Is(err, rp.ErrUnavailable) {
		t.Fatalf("closed port: %v", err)
	}
	ts := httptest.NewServer(nil) // 404 without a JSON error: not a Sesame server
	defer ts.Close()
	c, _ = rp.New(ts.URL, apiKey, nil)
	if _, err := c.Start(context.Background(), rp.SignIn{User: "alice"}); err == nil || errors.Is(err, rp.ErrUnavailable) {
		t.Fatalf("not a Sesame server: %v", err)
	}
}

func TestNewChecksTheURL(t *testing.T) {
	for _, u := range []string{"http://auth.example.com", "ftp://x", "auth.example.com", "https://u:p@auth.example.com"} {
		if _, err := rp.New(u, apiKey, nil); err == nil {
			t.Errorf("%s accepted", u)
		}
	}
	for _, u := range []string{"https://auth.example.com/", "http://127.0.0.1:8440", "http://[::1]:1", "http://localhost:1"} {
		if _, err := rp.New(u, apiKey, nil); err != nil {
			t.Errorf("%s: %v", u, err)
		}
	}
}
