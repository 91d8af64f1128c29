package server

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/sesame-auth/sesame/approve"
	"github.com/sesame-auth/sesame/approve/server/pgtest"
	"github.com/sesame-auth/sesame/approve/sesame"
	"github.com/sesame-auth/sesame/vault"
)

// replicas starts two handlers (A and B) on one fresh PostgreSQL database,
// as two replicas behind a load balancer are.
func replicas(t *testing.T, mod func(*Config)) (a, b *env, url string) {
	t.Helper()
	url = newDatabase(t)
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	clock := newClock()
	open := func() Store {
		st, err := OpenPostgres(context.Background(), url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { st.Close() })
		return st
	}
	a, b = newEnvWith(t, key, open(), clock, mod), newEnvWith(t, key, open(), clock, mod)
	// Both listen for wake-ups before the test starts (a replica that starts
	// listening wakes all its waiters once, which would hide a lost wake-up).
	for _, e := range []*env{a, b} {
		waitFor(t, "the replica to listen for wake-ups", func() bool { return e.h.Ready(context.Background()) == nil })
	}
	return a, b, url
}

// on returns a client of pairing p that talks to replica e.
func (e *env) on(p vault.Pairing) *sesame.Client {
	e.t.Helper()
	p.Server = e.ts.URL
	c, err := sesame.NewClient(p, e.opts())
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

func TestReplicasShareEverything(t *testing.T) {
	a, b, _ := replicas(t, func(c *Config) { c.SignInBurst = 3; c.SignInEvery = time.Hour })

	// A pairing token issued and used on A is refused on B.
	uri := a.pairingURI("alice")
	p, err := sesame.Pair(context.Background(), uri, a.opts())
	if err != nil {
		t.Fatal(err)
	}
	onB := strings.Replace(uri, strings.TrimPrefix(a.ts.URL, "http://"), strings.TrimPrefix(b.ts.URL, "http://"), 1)
	if _, err := sesame.Pair(context.Background(), onB, b.opts()); !errors.Is(err, approve.ErrPairing) {
		t.Fatalf("a used token on the other replica: %v, want the pairing refused", err)
	}

	// A device waiting on B learns of a sign-in started on A.
	cb := b.on(p)
	if _, err := cb.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	type polled struct {
		reqs []approve.Request
		err  error
	}
	got := make(chan polled, 1) // no t.Error in the goroutine: it may outlive a failed test
	go func() {
		reqs, err := cb.Poll(context.Background())
		got <- polled{reqs, err}
	}()
	waitFor(t, "the device's long-poll to wait on B", func() bool { return len(hubUsers(b.h)) == 1 })
	started, st := a.start(SignInRequest{User: "alice"})
	if st != http.StatusCreated {
		t.Fatalf("start on A: %d", st)
	}
	var reqs []approve.Request
	select {
	case r := <-got:
		if r.err != nil {
			t.Fatal(r.err)
		}
		reqs = r.reqs
	case <-time.After(10 * time.Second):
		t.Fatal("the device waiting on B did not learn of the sign-in started on A within 10s")
	}
	if len(reqs) != 1 || reqs[0].ID != started.ID {
		t.Fatalf("B delivered %+v", reqs)
	}

	// The relying party waiting on A learns of the answer given on B.
	outcome := make(chan SignInStatus, 1)
	go func() { outcome <- a.status(started.ID, 20) }()
	waitFor(t, "the relying party's wait on A", func() bool { return len(hubUsers(a.h)) == 1 })
	if err := cb.Respond(context.Background(), reqs[0], approve.Answer{Approve: true, Number: started.Number}); err != nil {
		t.Fatal(err)
	}
	select {
	case s := <-outcome:
		if s.Status != sesame.StatusApproved {
			t.Fatalf("A says %+v", s)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the relying party waiting on A did not learn of the answer given on B within 10s")
	}

	// A device request replayed to the other replica is refused.
	d := a.rawDevice(p)
	nonce := sesame.NewNonce()
	if st, er := send(t, a, d.request("POST", "/v1/device/unblock", nil, a.clock.Now(), nonce)); st != http.StatusOK {
		t.Fatalf("unblock on A: %d %+v", st, er)
	}
	replay := rawDevice{b, d.id, d.key}.request("POST", "/v1/device/unblock", nil, a.clock.Now(), nonce)
	if st, er := send(t, b, replay); st != http.StatusUnauthorized || er.Error != sesame.CodeReplayedNonce {
		t.Fatalf("replay on B: %d %+v, want %s", st, er, sesame.CodeReplayedNonce)
	}

	// The per-user sign-in limit holds across replicas: 3 in all, then 429.
	if _, st := b.start(SignInRequest{User: "alice"}); st != http.StatusCreated {
		t.Fatalf("second sign-in on B: %d", st)
	}
	if _, st := a.start(SignInRequest{User: "alice"}); st != http.StatusCreated {
		t.Fatalf("third sign-in on A: %d", st)
	}
	var er sesame.ErrorResponse
	if st := b.rp("POST", "/v1/rp/signins", SignInRequest{User: "alice", Application: "x"}, &er); st != http.StatusTooManyRequests {
		t.Fatalf("fourth sign-in on B: %d %+v, want 429", st, er)
	}
}

// hubUsers lists the users someone waits for on h.
func hubUsers(h *Handler) []string {
	h.hub.mu.Lock()
	defer h.hub.mu.Unlock()
	var us []string
	for u := range h.hub.ch {
		us = append(us, u)
	}
	for u := range h.hub.parked {
		if _, ok := h.hub.ch[u]; !ok {
			us = append(us, u)
		}
	}
	return us
}

// waitFor polls cond until it holds, failing the test at a 10 s deadline.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func TestPostgresMigratesOnceWhenReplicasStartTogether(t *testing.T) {
	url := newDatabase(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			st, err := OpenPostgres(context.Background(), url)
			if err == nil {
				st.Close()
			}
			errs[i] = err
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("replica %d: %v", i, err)
		}
	}
	c, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	var n, v int
	if err := c.QueryRow(context.Background(), "SELECT count(*), max(version) FROM sesame_schema").Scan(&n, &v); err != nil {
		t.Fatal(err)
	}
	if n != 1 || v != PostgresSchemaVersion {
		t.Fatalf("sesame_schema has %d rows, version %d; want 1 row at %d", n, v, PostgresSchemaVersion)
	}
}

func TestPostgresRefusesANewerSchema(t *testing.T) {
	url := newDatabase(t)
	st, err := OpenPostgres(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	st.Close()
	c, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close(context.Background())
	if _, err := c.Exec(context.Background(), "UPDATE sesame_schema SET version = 99"); err != nil {
		t.Fatal(err)
	}
	_, err = OpenPostgres(context.Background(), url)
	if !errors.Is(err, ErrSchemaTooNew) || !strings.Contains(err.Error(), "version 99") || !strings.Contains(err.Error(), "up to 1") {
		t.Fatalf("err = %v, want ErrSchemaTooNew naming versions 99 and 1", err)
	}
}

func TestPostgresUnreachableAtStart(t *testing.T) {
	needPostgres(t)
	port, err := pgtest.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	_, err = OpenPostgres(context.Background(), "postgres://sesame:secret-pw@127.0.0.1:"+itoa(port)+"/sesame?sslmode=disable")
	if err == nil || !strings.Contains(err.Error(), "cannot reach the database") {
		t.Fatalf("err = %v", err)
	}
	if strings.Contains(err.Error(), "secret-pw") {
		t.Fatalf("the error shows the password: %v", err)
	}
}

// TestPostgresLostWhileRunning cuts the database off: /readyz fails, device
// calls get a signed 503 unavailable, and nothing is half-written; when the
// database is back, so is the server.
func TestPostgresLostWhileRunning(t *testing.T) {
	a, _, url := replicas(t, nil)
	p, c := a.pair("alice")
	started, _ := a.start(SignInRequest{User: "alice"})
	req := pollOne(t, c)

	admin, err := pgx.Connect(context.Background(), needPostgres(t).URL("postgres"))
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(context.Background())
	db := url[strings.LastIndex(url, "/")+1 : strings.Index(url, "?")]
	cut := func(allow bool) {
		t.Helper()
		if _, err := admin.Exec(context.Background(), "ALTER DATABASE "+db+" ALLOW_CONNECTIONS "+map[bool]string{true: "true", false: "false"}[allow]); err != nil {
			t.Fatal(err)
		}
		if !allow {
			if _, err := admin.Exec(context.Background(), "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1", db); err != nil {
				t.Fatal(err)
			}
		}
	}
	ready := func() int {
		resp, err := a.ts.Client().Get(a.ts.URL + "/readyz")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if st := ready(); st != http.StatusOK {
		t.Fatalf("/readyz = %d before the cut", st)
	}
	cut(false)
	if st := ready(); st != http.StatusServiceUnavailable {
		t.Fatalf("/readyz = %d with the database cut off, want 503", st)
	}
	d := a.rawDevice(p)
	body := d.answer(started, "approve", "", started.Number, nil)
	st, er := send(t, a, d.request("POST", "/v1/device/requests/"+req.ID+"/answer", body, a.clock.Now(), sesame.NewNonce()))
	if st != http.StatusServiceUnavailable || er.Error != sesame.CodeUnavailable {
		t.Fatalf("answer with the database cut off: %d %+v, want a signed 503 unavailable", st, er)
	}
	if resp, err := a.ts.Client().Get(a.ts.URL + "/healthz"); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("/healthz with the database cut off: %v %v", resp, err)
	}

	cut(true)
	waitFor(t, "/readyz to recover", func() bool { return ready() == http.StatusOK })
	if s := a.status(started.ID, 0); s.Status != sesame.StatusPending {
		t.Fatalf("the failed answer changed the request: %+v", s)
	}
	if st, er := send(t, a, d.request("POST", "/v1/device/requests/"+req.ID+"/answer", body, a.clock.Now(), sesame.NewNonce())); st != http.StatusOK {
		t.Fatalf("the answer after the database came back: %d %+v", st, er)
	}
	if s := a.status(started.ID, 0); s.Status != sesame.StatusApproved {
		t.Fatalf("status = %+v", s)
	}
}

func TestBindKeyRefusesAnotherKey(t *testing.T) {
	st := testStore(t)
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	other, _, _ := ed25519.GenerateKey(rand.Reader)
	if err := BindKey(st, pub); err != nil {
		t.Fatal(err)
	}
	if err := BindKey(st, pub); err != nil {
		t.Fatalf("the same key again: %v", err)
	}
	err := BindKey(st, other)
	if !errors.Is(err, ErrOtherKey) || !strings.Contains(err.Error(), sesame.Fingerprint(pub)) || !strings.Contains(err.Error(), sesame.Fingerprint(other)) {
		t.Fatalf("err = %v, want ErrOtherKey naming both fingerprints", err)
	}
	if got, err := BoundKey(st); err != nil || !pub.Equal(got) {
		t.Fatalf("BoundKey = %x, %v", got, err)
	}
}
