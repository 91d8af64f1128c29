package approve_test

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/approve"
	"github.com/sesame-auth/sesame/approve/sesame"
	"github.com/sesame-auth/sesame/vault"
)

// fakeServer is a misbehaving Sesame server with a real key: answer decides
// each poll's requests and whether the server is down (an unsigned 503).
type fakeServer struct {
	t      *testing.T
	key    ed25519.PrivateKey
	ts     *httptest.Server
	answer func(n int, since string) (reqs []sesame.SignedRequest, down bool)

	mu    sync.Mutex
	polls []time.Time
	query []string
}

func newFakeServer(t *testing.T, answer func(n int, since string) ([]sesame.SignedRequest, bool)) *fakeServer {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	f := &fakeServer{t: t, key: key, answer: answer}
	f.ts = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.ts.Close)
	return f
}

func (f *fakeServer) serve(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	n := len(f.polls)
	f.polls = append(f.polls, time.Now())
	f.query = append(f.query, r.URL.RawQuery)
	f.mu.Unlock()
	reqs, down := f.answer(n, r.URL.Query().Get("since"))
	if down {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	state := "none"
	if len(reqs) > 0 {
		state = reqs[0].ID
	}
	if reqs == nil {
		reqs = []sesame.SignedRequest{}
	}
	b, _ := json.Marshal(sesame.PollResponse{V: 1, Time: time.Now().UnixMilli(), State: state, Requests: reqs})
	ms := strconv.FormatInt(time.Now().UnixMilli(), 10)
	sig := ed25519.Sign(f.key, sesame.ServerResponseSigningBytes(r.Header.Get(sesame.HeaderNonce), 200, ms, b))
	w.Header().Set(sesame.HeaderTime, ms)
	w.Header().Set(sesame.HeaderSignature, sesame.EncodeB64(sig))
	w.Write(b)
}

func (f *fakeServer) pairing() vault.Pairing {
	_, dk, _ := ed25519.GenerateKey(rand.Reader)
	return vault.Pairing{ID: "p", Provider: "sesame", Server: f.ts.URL, User: "alice", DeviceKey: vault.Secret(dk.Seed()),
		ServerKey: f.key.Public().(ed25519.PublicKey), Params: map[string]string{"device_id": "d"}}
}

func (f *fakeServer) request(id string) sesame.SignedRequest {
	now := time.Now().Unix()
	r := sesame.SignedRequest{V: 1, ID: id, User: "alice", Application: "Wiki", Created: now, Expires: now + 120, Mode: "type", Digits: 2}
	r.Sig = ed25519.Sign(f.key, r.SigningBytes())
	return r
}

func (f *fakeServer) pollTimes() []time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]time.Time(nil), f.polls...)
}

func TestFlappingServerCannotMakeTheDeviceSpin(t *testing.T) {
	t.Parallel() // waits on timers, not the CPU
	var f *fakeServer
	f = newFakeServer(t, func(n int, _ string) ([]sesame.SignedRequest, bool) {
		if n%2 == 0 {
			return []sesame.SignedRequest{f.request("r1")}, false
		}
		return nil, false
	})
	w := approve.NewWatcher([]vault.Pairing{f.pairing()}, approve.Options{Kinds: kinds})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go w.Run(ctx)
	const polls = 5
	requests, withdrawn := 0, 0
	deadline := time.After(20 * time.Second)
	for len(f.pollTimes()) < polls {
		select {
		case ev := <-w.Events():
			if ev.Request != nil {
				requests++
			}
			if ev.Withdrawn != nil {
				withdrawn++
			}
		case <-time.After(100 * time.Millisecond):
		case <-deadline:
			t.Fatalf("only %d polls in 20s", len(f.pollTimes()))
		}
	}
	times := f.pollTimes()
	for i := 1; i < polls; i++ {
		// Timers never fire early, so this cannot fail by chance.
		if gap := times[i].Sub(times[i-1]); gap < approve.MinPollInterval-50*time.Millisecond {
			t.Errorf("poll %d came %v after the previous one: a flapping server makes the device spin", i, gap)
		}
	}
	if requests != 1 || withdrawn > 1 {
		t.Errorf("the flapping request was reported %d times and withdrawn %d times, want once each at most", requests, withdrawn)
	}
}

func TestStatusIsOKAsSoonAsTheServerIsBack(t *testing.T) {
	t.Parallel() // waits on timers, not the CPU
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	f := newFakeServer(t, func(n int, since string) ([]sesame.SignedRequest, bool) {
		switch {
		case n == 1:
			return nil, true // the server restarts
		case since != "":
			// A long-poll with nothing new: held for the whole wait, as a real server does.
			select {
			case <-release:
			case <-time.After(sesame.PollWait):
			}
		}
		return nil, false
	})
	w := approve.NewWatcher([]vault.Pairing{f.pairing()}, approve.Options{Kinds: kinds, Rand: func(int64) int64 { return 0 }})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go w.Run(ctx)
	next(t, w, isState(approve.StateOK))
	next(t, w, isState(approve.StateDown))
	// The first poll after the failure must not be held: its answer says "ok".
	next(t, w, isState(approve.StateOK))
}

func TestSignedRequestWithBidiIsRefused(t *testing.T) {
	var f *fakeServer
	f = newFakeServer(t, func(int, string) ([]sesame.SignedRequest, bool) {
		r := f.request("r1")
		r.UserAgent = "Chrome on \u202eLinux"
		r.Sig = ed25519.Sign(f.key, r.SigningBytes())
		return []sesame.SignedRequest{r}, false
	})
	c, err := sesame.NewClient(f.pairing(), sesame.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if reqs, err := c.Poll(context.Background()); err == nil {
		t.Fatalf("a signed request with U+202E was accepted: %+v", reqs)
	}
}

func TestSkewIsNotTakenFromTheHoldOfALongPoll(t *testing.T) {
	t.Parallel() // waits on timers, not the CPU
	f := newFakeServer(t, func(n int, since string) ([]sesame.SignedRequest, bool) {
		if since != "" {
			time.Sleep(3 * time.Second) // a long-poll held by the server, which stamps its time at the end
		}
		return nil, false
	})
	c, err := sesame.NewClient(f.pairing(), sesame.ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if _, err := c.Poll(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if s := c.Skew(); s != 0 {
		t.Fatalf("skew after a held poll = %v, want 0 (same clock)", s)
	}
}
