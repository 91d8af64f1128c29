package server

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/approve"
)

func TestOpsEndpoints(t *testing.T) {
	e := newEnv(t, nil)
	_, c := e.pair("alice")
	started, _ := e.start(SignInRequest{User: "alice"})
	r := pollOne(t, c)
	if err := c.Respond(context.Background(), r, approve.Answer{Approve: true, Number: started.Number}); err != nil {
		t.Fatal(err)
	}
	get := func(path string) (int, string) {
		resp, err := e.ts.Client().Get(e.ts.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, p := range []string{"/healthz", "/readyz"} {
		if st, _ := get(p); st != http.StatusOK {
			t.Errorf("%s = %d", p, st)
		}
	}
	st, m := get("/metrics")
	for _, want := range []string{"sesame_signins_started_total 1", `sesame_signins_answered_total{outcome="approved"} 1`,
		"sesame_waiting_devices 0", "sesame_delivery_latency_seconds_count 1"} {
		if st != http.StatusOK || !strings.Contains(m, want) {
			t.Errorf("/metrics (%d) lacks %q", st, want)
		}
	}
	e.h.Close()
	if st, _ := get("/readyz"); st != http.StatusServiceUnavailable {
		t.Errorf("/readyz while shutting down = %d, want 503", st)
	}
}

func TestLongPollWaitsAreJittered(t *testing.T) {
	const wait = 25 * time.Second
	seen := map[time.Duration]bool{}
	for range 1000 {
		d := jitter(wait)
		if d < wait*3/5 || d > wait {
			t.Fatalf("jitter(%v) = %v, want within [%v, %v]", wait, d, wait*3/5, wait)
		}
		seen[d.Truncate(time.Second)] = true
	}
	// 1,000 draws over a 10 s range fall in every one of its 10 seconds.
	if len(seen) < 10 {
		t.Fatalf("1,000 jittered waits fell in %d distinct seconds, want 10", len(seen))
	}
}

// TestReconnectBackoffSpreadsTenThousandDevices checks the devices' side of a
// replica going away: 10,000 devices whose long-poll failed at the same
// moment come back spread over the first backoff's window (0.5–1 s), not
// in one burst.
func TestReconnectBackoffSpreadsTenThousandDevices(t *testing.T) {
	const devices = 10000
	var per10ms [100]int
	for range devices {
		d := approve.Backoff(0, time.Second, time.Minute, nil)
		if d < 500*time.Millisecond || d >= time.Second {
			t.Fatalf("first backoff %v, want within [0.5s, 1s)", d)
		}
		per10ms[d/(10*time.Millisecond)]++
	}
	// Uniform over 50 slots of 10 ms: 200 each on average (σ ≈ 14).
	for slot, n := range per10ms[50:] {
		if n > 300 || n < 100 {
			t.Fatalf("%d of %d devices come back in the 10 ms from %d ms: the backoff's jitter is not spreading them", n, devices, 500+10*slot)
		}
	}
}
