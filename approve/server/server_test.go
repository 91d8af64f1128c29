package server

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/approve"
	"github.com/sesame-auth/sesame/approve/sesame"
	"github.com/sesame-auth/sesame/vault"
)

// fakeClock is a settable clock shared by the server and the device in tests.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fakeClock { return &fakeClock{t: time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)} }

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

const testAPIKey = "test-api-key-0123456789"

type env struct {
	t     *testing.T
	h     *Handler
	ts    *httptest.Server
	clock *fakeClock
	key   ed25519.PrivateKey
	store Store
}

func newEnv(t *testing.T, mod func(*Config)) *env {
	t.Helper()
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	return newEnvWith(t, key, testStore(t), newClock(), mod)
}

func newEnvWith(t *testing.T, key ed25519.PrivateKey, st Store, clock *fakeClock, mod func(*Config)) *env {
	t.Helper()
	return newEnvListening(t, key, st, clock, mod, (*Handler).Listener)
}

// newEnvListening is newEnvWith whose server accepts from listen(h, ln),
// ln being its loopback listener.
func newEnvListening(t *testing.T, key ed25519.PrivateKey, st Store, clock *fakeClock, mod func(*Config), listen func(*Handler, net.Listener) net.Listener) *env {
	t.Helper()
	ts := httptest.NewUnstartedServer(nil)
	cfg := Config{Key: key, Store: st, APIKey: []byte(testAPIKey), URL: "http://" + ts.Listener.Addr().String(), Now: clock.Now, Label: "Test service"}
	if mod != nil {
		mod(&cfg)
	}
	h, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ts.Config.Handler = h
	ts.Listener = listen(h, ts.Listener)
	ts.Start()
	t.Cleanup(func() {
		if err := h.Shutdown(context.Background()); err != nil {
			t.Error(err)
		}
		ts.Close()
	})
	return &env{t: t, h: h, ts: ts, clock: clock, key: key, store: st}
}

func (e *env) opts() sesame.ClientOptions {
	return sesame.ClientOptions{HTTPClient: e.ts.Client(), Now: e.clock.Now}
}

// rp calls the relying-party API and decodes the JSON answer into out.
func (e *env) rp(method, path string, in, out any) int {
	e.t.Helper()
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, e.ts.URL+path, body)
	req.Header.Set("Authorization", "Bearer "+testAPIKey)
	resp, err := e.ts.Client().Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.Header.Get(sesame.HeaderTime) == "" {
		e.t.Errorf("%s %s: response without %s", method, path, sesame.HeaderTime)
	}
	b, _ := io.ReadAll(resp.Body)
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			e.t.Fatalf("%s %s: %v: %s", method, path, err, b)
		}
	}
	return resp.StatusCode
}

func (e *env) pairingURI(user string) string {
	e.t.Helper()
	var p PairingResponse
	if st := e.rp("POST", "/v1/rp/pairings", map[string]string{"user": user}, &p); st != http.StatusCreated {
		e.t.Fatalf("create pairing: status %d", st)
	}
	if !bytes.HasPrefix(p.QRPNG, []byte("\x89PNG")) {
		e.t.Errorf("pairing QR is not a PNG")
	}
	return p.URI
}

func (e *env) pair(user string) (vault.Pairing, *sesame.Client) {
	e.t.Helper()
	p, err := sesame.Pair(context.Background(), e.pairingURI(user), e.opts())
	if err != nil {
		e.t.Fatal(err)
	}
	c, err := sesame.NewClient(p, e.opts())
	if err != nil {
		e.t.Fatal(err)
	}
	return p, c
}

func (e *env) start(in SignInRequest) (SignInStarted, int) {
	e.t.Helper()
	if in.Application == "" {
		in.Application, in.IP, in.Location, in.UserAgent = "Wiki", "192.0.2.7", "Lyon, FR", "Firefox on Linux"
	}
	var out SignInStarted
	st := e.rp("POST", "/v1/rp/signins", in, &out)
	return out, st
}

func (e *env) status(id string, wait int) SignInStatus {
	e.t.Helper()
	var out SignInStatus
	if st := e.rp("GET", "/v1/rp/signins/"+id+"?wait="+itoa(wait), nil, &out); st != http.StatusOK {
		e.t.Fatalf("status of %s: HTTP %d", id, st)
	}
	return out
}

func itoa(i int) string { return strconv.Itoa(i) }

// pollOne polls until the device sees exactly one request, and returns it.
func pollOne(t *testing.T, c *sesame.Client) approve.Request {
	t.Helper()
	for i := 0; i < 3; i++ {
		reqs, err := c.Poll(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(reqs) == 1 {
			return reqs[0]
		}
	}
	t.Fatal("the device did not receive the request")
	return approve.Request{}
}

func TestSignInApprovedWithTheRightNumber(t *testing.T) {
	e := newEnv(t, nil)
	p, c := e.pair("alice")
	if p.Provider != "sesame" || p.User != "alice" || len(p.DeviceKey) != 32 || p.Label != "Test service" {
		t.Fatalf("pairing = %+v", p)
	}
	started, st := e.start(SignInRequest{User: "alice"})
	if st != http.StatusCreated || len(started.Number) != 2 || started.Mode != "type" {
		t.Fatalf("start: %d %+v", st, started)
	}
	r := pollOne(t, c)
	if r.ID != started.ID || r.User != "alice" || r.Application != "Wiki" || r.IP != "192.0.2.7" || r.Location != "Lyon, FR" ||
		r.UserAgent != "Firefox on Linux" || r.Mode != approve.ModeType || len(r.Choices) != 0 || r.PairingID != p.ID {
		t.Fatalf("request = %+v", r)
	}
	if got := r.Expires.Sub(r.Created); got != sesame.DefaultSignInTTL {
		t.Errorf("lifetime = %v", got)
	}
	if err := c.Respond(context.Background(), r, approve.Answer{Approve: true, Number: started.Number}); err != nil {
		t.Fatal(err)
	}
	if s := e.status(started.ID, 0); s.Status != sesame.StatusApproved {
		t.Fatalf("status = %+v", s)
	}
	// The request is no longer pending for the device.
	if reqs, err := c.Poll(context.Background()); err != nil || len(reqs) != 0 {
		t.Fatalf("after the answer: %v %v", reqs, err)
	}
}

func TestTheNumberIsNeverSentToTheDevice(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Digits = 3 })
	p, _ := e.pair("alice")
	started, _ := e.start(SignInRequest{User: "alice"})
	var saw []byte
	hc := &http.Client{Transport: roundTripFunc(func(r *http.Request) (*http.Response, error) {
		resp, err := http.DefaultTransport.RoundTrip(r)
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			saw = append(saw, b...)
			resp.Body = io.NopCloser(bytes.NewReader(b))
		}
		return resp, err
	})}
	c2, _ := sesame.NewClient(p, sesame.ClientOptions{HTTPClient: hc, Now: e.clock.Now})
	reqs, err := c2.Poll(context.Background())
	if err != nil || len(reqs) != 1 {
		t.Fatal(reqs, err)
	}
	if len(started.Number) != 3 {
		t.Fatalf("number %q has not 3 digits", started.Number)
	}
	if bytes.Contains(saw, []byte(`"`+started.Number+`"`)) || bytes.Contains(saw, []byte("number")) {
		t.Fatalf("the poll response reveals the number: %s", saw)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

func TestPairingTokenIsSingleUseAndExpires(t *testing.T) {
	e := newEnv(t, nil)
	uri := e.pairingURI("bob")
	if _, err := sesame.Pair(context.Background(), uri, e.opts()); err != nil {
		t.Fatal(err)
	}
	_, err := sesame.Pair(context.Background(), uri, e.opts())
	var se *sesame.ServerError
	if !errors.As(err, &se) || se.Code != sesame.CodeTokenInvalid || !errors.Is(err, approve.ErrPairing) {
		t.Fatalf("second pairing with the same token: %v", err)
	}
	uri = e.pairingURI("bob")
	e.clock.Add(sesame.DefaultPairTTL + time.Second)
	if _, err := sesame.Pair(context.Background(), uri, e.opts()); !errors.As(err, &se) || se.Code != sesame.CodeTokenInvalid {
		t.Fatalf("expired token: %v", err)
	}
	if devs, _ := e.h.Devices("bob"); len(devs) != 1 {
		t.Fatalf("bob has %d devices, want 1", len(devs))
	}
}

func TestPairingRefusesAnotherServerKey(t *testing.T) {
	e := newEnv(t, nil)
	uri := e.pairingURI("carol")
	other, _, _ := ed25519.GenerateKey(rand.Reader)
	bad := strings.Replace(uri, "fp="+e.h.Fingerprint(), "fp="+sesame.Fingerprint(other), 1)
	if bad == uri {
		t.Fatal("fingerprint not found in the URI")
	}
	if _, err := sesame.Pair(context.Background(), bad, e.opts()); !errors.Is(err, sesame.ErrFingerprint) {
		t.Fatalf("err = %v, want ErrFingerprint", err)
	}
}

func TestWrongNumberDeniesWithoutRetry(t *testing.T) {
	e := newEnv(t, nil)
	_, c := e.pair("alice")
	started, _ := e.start(SignInRequest{User: "alice"})
	r := pollOne(t, c)
	wrong := "10"
	if started.Number == wrong {
		wrong = "11"
	}
	if err := c.Respond(context.Background(), r, approve.Answer{Approve: true, Number: wrong}); !errors.Is(err, approve.ErrWrongNumber) {
		t.Fatalf("err = %v, want ErrWrongNumber", err)
	}
	s := e.status(started.ID, 0)
	if s.Status != sesame.StatusDenied || s.Reason != "wrong_number" {
		t.Fatalf("status = %+v", s)
	}
	// A second try with the right number is refused.
	if err := c.Respond(context.Background(), r, approve.Answer{Approve: true, Number: started.Number}); !errors.Is(err, approve.ErrAnswered) {
		t.Fatalf("retry: %v, want ErrAnswered", err)
	}
	if s := e.status(started.ID, 0); s.Status != sesame.StatusDenied {
		t.Fatalf("status after retry = %+v", s)
	}
}

func TestNotMeBlocksUntilCleared(t *testing.T) {
	for _, clear := range []string{"relying party", "device"} {
		t.Run(clear, func(t *testing.T) {
			e := newEnv(t, nil)
			_, c := e.pair("alice")
			started, _ := e.start(SignInRequest{User: "alice"})
			r := pollOne(t, c)
			if err := c.Respond(context.Background(), r, approve.Answer{Reason: approve.NotMe}); err != nil {
				t.Fatal(err)
			}
			if s := e.status(started.ID, 0); s.Status != sesame.StatusNotMe {
				t.Fatalf("status = %+v", s)
			}
			var er sesame.ErrorResponse
			if st := e.rp("POST", "/v1/rp/signins", SignInRequest{User: "alice"}, &er); st != http.StatusForbidden || er.Error != sesame.CodeBlocked {
				t.Fatalf("sign-in while blocked: %d %+v", st, er)
			}
			var devs struct{ Blocked bool }
			e.rp("GET", "/v1/rp/users/alice/devices", nil, &devs)
			if !devs.Blocked {
				t.Fatal("the block is not recorded")
			}
			if clear == "device" {
				if err := c.Unblock(context.Background()); err != nil {
					t.Fatal(err)
				}
			} else if st := e.rp("POST", "/v1/rp/users/alice/unblock", nil, nil); st != http.StatusNoContent {
				t.Fatalf("unblock: %d", st)
			}
			if _, st := e.start(SignInRequest{User: "alice"}); st != http.StatusCreated {
				t.Fatalf("sign-in after unblock: %d", st)
			}
		})
	}
}

func TestCancelledDenies(t *testing.T) {
	e := newEnv(t, nil)
	_, c := e.pair("alice")
	started, _ := e.start(SignInRequest{User: "alice"})
	r := pollOne(t, c)
	if err := c.Respond(context.Background(), r, approve.Answer{Reason: approve.Cancelled}); err != nil {
		t.Fatal(err)
	}
	if s := e.status(started.ID, 0); s.Status != sesame.StatusDenied || s.Reason != "cancelled" {
		t.Fatalf("status = %+v", s)
	}
	if _, st := e.start(SignInRequest{User: "alice"}); st != http.StatusCreated {
		t.Fatalf("a cancel must not block: %d", st)
	}
}

func TestLateAnswerIsRejected(t *testing.T) {
	e := newEnv(t, nil)
	_, c := e.pair("alice")
	started, _ := e.start(SignInRequest{User: "alice", TTLSeconds: 30})
	r := pollOne(t, c)
	e.clock.Add(31 * time.Second)
	if s := e.status(started.ID, 0); s.Status != sesame.StatusExpired {
		t.Fatalf("status = %+v", s)
	}
	if err := c.Respond(context.Background(), r, approve.Answer{Approve: true, Number: started.Number}); !errors.Is(err, approve.ErrExpired) {
		t.Fatalf("err = %v, want ErrExpired", err)
	}
	if reqs, err := c.Poll(context.Background()); err != nil || len(reqs) != 0 {
		t.Fatalf("expired request still pending: %v %v", reqs, err)
	}
}

func TestLifetimeLimits(t *testing.T) {
	e := newEnv(t, nil)
	e.pair("alice")
	if _, st := e.start(SignInRequest{User: "alice", TTLSeconds: 601}); st != http.StatusBadRequest {
		t.Fatalf("ttl over 10 min: %d", st)
	}
	if _, err := New(Config{Key: e.key, Store: NewMemoryStore(), URL: "https://x.example", SignInTTL: 11 * time.Minute}); !errors.Is(err, ErrConfig) {
		t.Fatalf("config with an 11 min lifetime: %v", err)
	}
}

// rawDevice sends hand-made signed device requests.
type rawDevice struct {
	e   *env
	id  string
	key ed25519.PrivateKey
}

func (e *env) rawDevice(p vault.Pairing) rawDevice {
	return rawDevice{e: e, id: p.Params["device_id"], key: ed25519.NewKeyFromSeed(p.DeviceKey)}
}

func (d rawDevice) request(method, path string, body []byte, at time.Time, nonce string) *http.Request {
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, _ := http.NewRequest(method, d.e.ts.URL+path, rd)
	sesame.SignHTTP(req, d.id, d.key, body, at, nonce)
	return req
}

func send(t *testing.T, e *env, req *http.Request) (int, sesame.ErrorResponse) {
	t.Helper()
	resp, err := e.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var er sesame.ErrorResponse
	json.Unmarshal(b, &er)
	nonce := req.Header.Get(sesame.HeaderNonce)
	if unsignedCodes[er.Error] && resp.StatusCode != http.StatusBadRequest {
		// The request was not authenticated: the server must sign nothing.
		if sig := resp.Header.Get(sesame.HeaderSignature); sig != "" {
			t.Errorf("%d %s: a refusal of an unauthenticated request is signed (%s)", resp.StatusCode, er.Error, sig)
		}
	} else if _, err := sesame.VerifyResponse(e.h.PublicKey(), nonce, resp.StatusCode, resp.Header, b); err != nil {
		t.Errorf("the server's response to a device does not verify: %v", err)
	}
	return resp.StatusCode, er
}

// unsignedCodes are the refusals given before a device request's signature
// has verified, which the server does not sign (a 400 bad_signature is about
// the signed answer in the body of an authenticated request, and signed).
var unsignedCodes = map[string]bool{
	sesame.CodeUnauthorized: true, sesame.CodeStaleTimestamp: true, sesame.CodeUnknownDevice: true,
	sesame.CodeBadSignature: true, sesame.CodeTooLarge: true,
}

func (d rawDevice) answer(started SignInStarted, decision, reason, number string, mutate func(*sesame.SignedAnswer)) []byte {
	a := sesame.SignedAnswer{V: 1, RequestID: started.ID, DeviceID: d.id, Decision: decision, Reason: reason, Number: number, Time: d.e.clock.Now().Unix()}
	a.Sig = ed25519.Sign(d.key, a.SigningBytes())
	if mutate != nil {
		mutate(&a)
	}
	b, _ := json.Marshal(a)
	return b
}

func TestReplayedAndUnsignedRequestsAreRejected(t *testing.T) {
	e := newEnv(t, nil)
	p, _ := e.pair("alice")
	d := e.rawDevice(p)
	started, _ := e.start(SignInRequest{User: "alice"})
	path := "/v1/device/requests/" + started.ID + "/answer"
	now := e.clock.Now()

	cases := []struct {
		name string
		req  *http.Request
		code string
	}{
		{"stale timestamp", d.request("POST", path, d.answer(started, "approve", "", started.Number, nil), now.Add(-61*time.Second), sesame.NewNonce()), sesame.CodeStaleTimestamp},
		{"future timestamp", d.request("POST", path, d.answer(started, "approve", "", started.Number, nil), now.Add(61*time.Second), sesame.NewNonce()), sesame.CodeStaleTimestamp},
		{"unknown device", rawDevice{e, "nope", d.key}.request("POST", path, d.answer(started, "approve", "", started.Number, nil), now, sesame.NewNonce()), sesame.CodeUnknownDevice},
		{"answer signed by another key", d.request("POST", path, d.answer(started, "approve", "", started.Number, func(a *sesame.SignedAnswer) {
			_, k, _ := ed25519.GenerateKey(rand.Reader)
			a.Sig = ed25519.Sign(k, a.SigningBytes())
		}), now, sesame.NewNonce()), sesame.CodeBadSignature},
		{"unsigned answer", d.request("POST", path, d.answer(started, "approve", "", started.Number, func(a *sesame.SignedAnswer) { a.Sig = nil }), now, sesame.NewNonce()), sesame.CodeBadSignature},
		{"answer for another request", d.request("POST", "/v1/device/requests/other/answer", d.answer(started, "approve", "", started.Number, nil), now, sesame.NewNonce()), sesame.CodeBadRequest},
		{"bad reason", d.request("POST", path, d.answer(started, "deny", "because", "", nil), now, sesame.NewNonce()), sesame.CodeBadRequest},
	}
	for _, c := range cases {
		st, er := send(t, e, c.req)
		if st/100 == 2 || er.Error != c.code {
			t.Errorf("%s: %d %+v, want %s", c.name, st, er, c.code)
		}
	}
	// A request whose HTTP signature covers another body.
	req := d.request("POST", path, d.answer(started, "approve", "", started.Number, nil), now, sesame.NewNonce())
	req2, _ := http.NewRequest("POST", req.URL.String(), bytes.NewReader(d.answer(started, "deny", "cancelled", "", nil)))
	req2.Header = req.Header.Clone()
	if st, er := send(t, e, req2); st != http.StatusUnauthorized || er.Error != sesame.CodeBadSignature {
		t.Errorf("swapped body: %d %+v", st, er)
	}
	if s := e.status(started.ID, 0); s.Status != sesame.StatusPending {
		t.Fatalf("a rejected answer changed the request: %+v", s)
	}

	// The genuine answer works once; the same HTTP request replayed is refused.
	nonce := sesame.NewNonce()
	body := d.answer(started, "approve", "", started.Number, nil)
	if st, er := send(t, e, d.request("POST", path, body, now, nonce)); st != http.StatusOK {
		t.Fatalf("genuine answer: %d %+v", st, er)
	}
	if st, er := send(t, e, d.request("POST", path, body, now, nonce)); st != http.StatusUnauthorized || er.Error != sesame.CodeReplayedNonce {
		t.Fatalf("replayed request: %d %+v", st, er)
	}
	// The same signed answer with a fresh nonce is the same answer (a retry): accepted, no change.
	if st, er := send(t, e, d.request("POST", path, body, now, sesame.NewNonce())); st != http.StatusOK {
		t.Fatalf("resent answer: %d %+v", st, er)
	}
	// A different answer to the answered request is refused.
	if st, er := send(t, e, d.request("POST", path, d.answer(started, "deny", "not_me", "", nil), now, sesame.NewNonce())); st != http.StatusConflict || er.Error != sesame.CodeAlreadyAnswered {
		t.Fatalf("second decision: %d %+v", st, er)
	}
	if s := e.status(started.ID, 0); s.Status != sesame.StatusApproved {
		t.Fatalf("status = %+v", s)
	}
}

func TestAnotherUsersDeviceCannotAnswer(t *testing.T) {
	e := newEnv(t, nil)
	e.pair("alice")
	pb, _ := e.pair("bob")
	d := e.rawDevice(pb)
	started, _ := e.start(SignInRequest{User: "alice"})
	st, er := send(t, e, d.request("POST", "/v1/device/requests/"+started.ID+"/answer", d.answer(started, "approve", "", started.Number, nil), e.clock.Now(), sesame.NewNonce()))
	if st != http.StatusNotFound || er.Error != sesame.CodeNotFound {
		t.Fatalf("bob answering alice's sign-in: %d %+v", st, er)
	}
}

func TestDeviceClockSkewIsReported(t *testing.T) {
	e := newEnv(t, nil)
	p, _ := e.pair("alice")
	skewed := &fakeClock{t: e.clock.Now().Add(-2 * time.Minute)}
	c, _ := sesame.NewClient(p, sesame.ClientOptions{HTTPClient: e.ts.Client(), Now: skewed.Now})
	_, err := c.Poll(context.Background())
	if !errors.Is(err, approve.ErrClockSkew) {
		t.Fatalf("err = %v, want ErrClockSkew", err)
	}
	if got := c.Skew(); got != 2*time.Minute {
		t.Fatalf("skew = %v, want 2m", got)
	}
	// Within the window the poll works and the skew is measured.
	skewed.Add(80 * time.Second)
	if _, err := c.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	if got := c.Skew(); got != 40*time.Second {
		t.Fatalf("skew = %v, want 40s", got)
	}
}

func TestOnePendingRequestPerUser(t *testing.T) {
	e := newEnv(t, nil)
	_, c := e.pair("alice")
	first, _ := e.start(SignInRequest{User: "alice"})
	second, _ := e.start(SignInRequest{User: "alice", Application: "Mail"})
	if s := e.status(first.ID, 0); s.Status != sesame.StatusExpired || s.Reason != "replaced" {
		t.Fatalf("first = %+v", s)
	}
	r := pollOne(t, c)
	if r.ID != second.ID || r.Application != "Mail" {
		t.Fatalf("pending = %+v", r)
	}
}

func TestSignInRateLimitPerUser(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.SignInBurst = 3; c.SignInEvery = time.Minute })
	e.pair("alice")
	e.pair("bob")
	for i := 0; i < 3; i++ {
		if _, st := e.start(SignInRequest{User: "alice"}); st != http.StatusCreated {
			t.Fatalf("sign-in %d: %d", i, st)
		}
	}
	var er sesame.ErrorResponse
	if st := e.rp("POST", "/v1/rp/signins", SignInRequest{User: "alice"}, &er); st != http.StatusTooManyRequests || er.Error != sesame.CodeRateLimited {
		t.Fatalf("4th sign-in: %d %+v", st, er)
	}
	if _, st := e.start(SignInRequest{User: "bob"}); st != http.StatusCreated {
		t.Fatalf("another user is limited too: %d", st)
	}
	e.clock.Add(time.Minute)
	if _, st := e.start(SignInRequest{User: "alice"}); st != http.StatusCreated {
		t.Fatalf("after a minute: %d", st)
	}
}

func TestAPIKeyIsRequired(t *testing.T) {
	e := newEnv(t, nil)
	for _, auth := range []string{"", "Bearer wrong", "Bearer " + testAPIKey + "x", testAPIKey} {
		req, _ := http.NewRequest("POST", e.ts.URL+"/v1/rp/pairings", strings.NewReader(`{"user":"a"}`))
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := e.ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("Authorization %q: %d", auth, resp.StatusCode)
		}
	}
	// No API key configured: the API is off.
	off := newEnv(t, func(c *Config) { c.APIKey = nil })
	req, _ := http.NewRequest("POST", off.ts.URL+"/v1/rp/pairings", strings.NewReader(`{"user":"a"}`))
	req.Header.Set("Authorization", "Bearer ")
	resp, _ := off.ts.Client().Do(req)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Errorf("empty key: %d", resp.StatusCode)
	}
}

func TestModes(t *testing.T) {
	e := newEnv(t, nil)
	_, c := e.pair("alice")
	var er sesame.ErrorResponse
	if st := e.rp("POST", "/v1/rp/signins", SignInRequest{User: "alice", Mode: "approve"}, &er); st != http.StatusForbidden || er.Error != sesame.CodeModeDisabled {
		t.Fatalf("approve mode while disabled: %d %+v", st, er)
	}
	started, _ := e.start(SignInRequest{User: "alice", Mode: "choose"})
	r := pollOne(t, c)
	if r.Mode != approve.ModeChoose || len(r.Choices) != 3 {
		t.Fatalf("request = %+v", r)
	}
	found := 0
	for _, ch := range r.Choices {
		if ch == started.Number {
			found++
		}
	}
	if found != 1 {
		t.Fatalf("choices %v hold the number %s %d times", r.Choices, started.Number, found)
	}
	if err := c.Respond(context.Background(), r, approve.Answer{Approve: true, Number: started.Number}); err != nil {
		t.Fatal(err)
	}

	on := newEnv(t, func(c *Config) { c.AllowApprove = true })
	_, c2 := on.pair("alice")
	started, st := on.start(SignInRequest{User: "alice", Mode: "approve"})
	if st != http.StatusCreated || started.Number != "" {
		t.Fatalf("approve mode: %d %+v", st, started)
	}
	r = pollOne(t, c2)
	if err := c2.Respond(context.Background(), r, approve.Answer{Approve: true}); err != nil {
		t.Fatal(err)
	}
	if s := on.status(started.ID, 0); s.Status != sesame.StatusApproved {
		t.Fatalf("status = %+v", s)
	}
}

func TestLongPollsWakeOnChange(t *testing.T) {
	e := newEnv(t, nil)
	_, c := e.pair("alice")
	if reqs, err := c.Poll(context.Background()); err != nil || len(reqs) != 0 {
		t.Fatal(reqs, err)
	}
	got := make(chan []approve.Request, 1)
	go func() {
		reqs, err := c.Poll(context.Background())
		if err != nil {
			t.Error(err)
		}
		got <- reqs
	}()
	// The poll is waiting: no request exists yet, so it cannot have returned.
	select {
	case r := <-got:
		t.Fatalf("the poll returned before a request existed: %v", r)
	default:
	}
	started, _ := e.start(SignInRequest{User: "alice"})
	var reqs []approve.Request
	select {
	case reqs = <-got:
	case <-time.After(10 * time.Second):
		t.Fatal("the waiting poll did not return within 10s of the sign-in")
	}
	if len(reqs) != 1 || reqs[0].ID != started.ID {
		t.Fatalf("reqs = %+v", reqs)
	}
	// The relying party's wait returns when the device answers.
	outcome := make(chan SignInStatus, 1)
	go func() { outcome <- e.status(started.ID, 9) }()
	if err := c.Respond(context.Background(), reqs[0], approve.Answer{Approve: true, Number: started.Number}); err != nil {
		t.Fatal(err)
	}
	select {
	case s := <-outcome:
		if s.Status != sesame.StatusApproved {
			t.Fatalf("outcome = %+v", s)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the relying party's wait did not return")
	}
}

func TestCloseEndsLongPolls(t *testing.T) {
	e := newEnv(t, nil)
	_, c := e.pair("alice")
	c.Poll(context.Background())
	done := make(chan error, 1)
	go func() { _, err := c.Poll(context.Background()); done <- err }()
	waitFor(t, "the long-poll to wait in the hub", func() bool { return len(hubUsers(e.h)) == 1 })
	e.h.Close()
	select {
	case err := <-done:
		// Handed back as unavailable: the device retries after its backoff.
		if !errors.Is(err, approve.ErrServer) {
			t.Fatalf("the long-poll ended with %v, want the server's unavailable", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not end the long-poll")
	}
}

func TestRevokedDeviceIsUnpaired(t *testing.T) {
	e := newEnv(t, nil)
	p, c := e.pair("alice")
	_, c2 := e.pair("alice")
	var list struct{ Devices []Device }
	e.rp("GET", "/v1/rp/users/alice/devices", nil, &list)
	if len(list.Devices) != 2 {
		t.Fatalf("devices = %+v", list)
	}
	if st := e.rp("DELETE", "/v1/rp/users/alice/devices/"+p.Params["device_id"], nil, nil); st != http.StatusNoContent {
		t.Fatalf("revoke: %d", st)
	}
	if _, err := c.Poll(context.Background()); !errors.Is(err, approve.ErrUnpaired) {
		t.Fatalf("poll of a revoked device: %v", err)
	}
	if err := c2.Unpair(context.Background()); err != nil {
		t.Fatal(err)
	}
	if _, st := e.start(SignInRequest{User: "alice"}); st != http.StatusNotFound {
		t.Fatalf("sign-in without devices: %d", st)
	}
}

func TestRequestsSurviveARestart(t *testing.T) {
	dir := t.TempDir()
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	clock := newClock()
	st, err := OpenBolt(filepath.Join(dir, "server.db"))
	if err != nil {
		t.Fatal(err)
	}
	e := newEnvWith(t, key, st, clock, nil)
	p, err := sesame.Pair(context.Background(), e.pairingURI("alice"), e.opts())
	if err != nil {
		t.Fatal(err)
	}
	started, _ := e.start(SignInRequest{User: "alice"})
	e.h.Close()
	e.ts.Close()
	st.Close()

	clock.Add(5 * time.Second)
	st2, err := OpenBolt(filepath.Join(dir, "server.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st2.Close()
	// The same address is not guaranteed; the pairing follows the new one.
	e2 := newEnvWith(t, key, st2, clock, nil)
	p.Server = e2.ts.URL
	c, err := sesame.NewClient(p, e2.opts())
	if err != nil {
		t.Fatal(err)
	}
	r := pollOne(t, c)
	if r.ID != started.ID {
		t.Fatalf("after restart: %+v", r)
	}
	if err := c.Respond(context.Background(), r, approve.Answer{Approve: true, Number: started.Number}); err != nil {
		t.Fatal(err)
	}
	if s := e2.status(started.ID, 0); s.Status != sesame.StatusApproved {
		t.Fatalf("status = %+v", s)
	}
}

func TestBodySizeIsCapped(t *testing.T) {
	e := newEnv(t, nil)
	big := bytes.Repeat([]byte("a"), sesame.MaxBodyBytes+10)
	req, _ := http.NewRequest("POST", e.ts.URL+"/v1/rp/signins", bytes.NewReader(big))
	req.Header.Set("Authorization", "Bearer "+testAPIKey)
	resp, err := e.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusRequestEntityTooLarge {
		t.Fatalf("status %d", resp.StatusCode)
	}
}

func TestPrune(t *testing.T) {
	e := newEnv(t, nil)
	e.pair("alice")
	started, _ := e.start(SignInRequest{User: "alice"})
	e.pairingURI("bob")
	e.clock.Add(25 * time.Hour)
	if err := e.h.Prune(); err != nil {
		t.Fatal(err)
	}
	if st := e.rp("GET", "/v1/rp/signins/"+started.ID, nil, nil); st != http.StatusNotFound {
		t.Fatalf("old request kept: %d", st)
	}
	n := 0
	e.store.View(func(tx Tx) error { return tx.Scan(bTokens, "", func(string, []byte) error { n++; return nil }) })
	if n != 0 {
		t.Fatalf("%d expired tokens kept", n)
	}
}

func TestPairingURIFromServer(t *testing.T) {
	e := newEnv(t, nil)
	pu, err := sesame.ParsePairingURI(e.pairingURI("dana"))
	if err != nil {
		t.Fatal(err)
	}
	tok, _ := sesame.DecodeB64(pu.Token, 64)
	u, _ := url.Parse(pu.Server)
	if pu.User != "dana" || len(tok) < 16 || pu.Fingerprint != e.h.Fingerprint() || u.Host != e.ts.Listener.Addr().String() {
		t.Fatalf("uri = %+v", pu)
	}
	// The token is stored hashed, never as is.
	e.store.View(func(tx Tx) error {
		return tx.Scan(bTokens, "", func(k string, v []byte) error {
			if strings.Contains(k+string(v), pu.Token) {
				t.Errorf("the token is stored in the clear")
			}
			return nil
		})
	})
}

func TestRelyingPartyCancelsAPendingSignIn(t *testing.T) {
	e := newEnv(t, nil)
	_, c := e.pair("alice")
	started, _ := e.start(SignInRequest{User: "alice"})
	r := pollOne(t, c)
	var s SignInStatus
	if st := e.rp("DELETE", "/v1/rp/signins/"+started.ID, nil, &s); st != http.StatusOK || s.Status != sesame.StatusExpired || s.Reason != "cancelled" {
		t.Fatalf("cancel: HTTP %d %+v", st, s)
	}
	if s := e.status(started.ID, 0); s.Status != sesame.StatusExpired || s.Reason != "cancelled" {
		t.Fatalf("after cancel: %+v", s)
	}
	if reqs, err := c.Poll(context.Background()); err != nil || len(reqs) != 0 {
		t.Fatalf("the device still sees %d request(s) (%v)", len(reqs), err)
	}
	if err := c.Respond(context.Background(), r, approve.Answer{Approve: true, Number: started.Number}); err == nil {
		t.Fatal("an answer to a cancelled sign-in was accepted")
	}
	if s := e.status(started.ID, 0); s.Status != sesame.StatusExpired {
		t.Fatalf("a late answer changed the status: %+v", s)
	}
	// Cancelling again, or after an answer, leaves the outcome as it is.
	if st := e.rp("DELETE", "/v1/rp/signins/"+started.ID, nil, &s); st != http.StatusOK || s.Reason != "cancelled" {
		t.Fatalf("second cancel: HTTP %d %+v", st, s)
	}
	second, _ := e.start(SignInRequest{User: "alice"})
	r = pollOne(t, c)
	if err := c.Respond(context.Background(), r, approve.Answer{Approve: true, Number: second.Number}); err != nil {
		t.Fatal(err)
	}
	if st := e.rp("DELETE", "/v1/rp/signins/"+second.ID, nil, &s); st != http.StatusOK || s.Status != sesame.StatusApproved {
		t.Fatalf("cancel after approval: HTTP %d %+v", st, s)
	}
	if st := e.rp("DELETE", "/v1/rp/signins/nosuch", nil, nil); st != http.StatusNotFound {
		t.Fatalf("cancel of an unknown sign-in: HTTP %d", st)
	}
}

// waitingNow is the waiting devices gauge's value.
func (h *Handler) waitingNow() int64 { return h.metrics.waiting.Load() }
