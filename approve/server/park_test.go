package server

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/approve"
	"github.com/sesame-auth/sesame/approve/sesame"
)

// Long-polls parked off net/http (park.go), through the bytes on the wire.

// pairRaw pairs a device for user that signs its own requests.
func (e *env) pairRaw(user string) rawDevice {
	p, _ := e.pair(user)
	return e.rawDevice(p)
}

// poll is a signed long-poll and its nonce.
func (d rawDevice) poll(since string, wait int) (*http.Request, string) {
	n := make([]byte, sesame.NonceBytes)
	rand.Read(n)
	nonce := sesame.EncodeB64(n)
	return d.request("GET", "/v1/device/requests?since="+url.QueryEscape(since)+"&wait="+itoa(wait), nil, d.e.clock.Now(), nonce), nonce
}

// rawConn is a client connection that keeps the bytes the server sends.
type rawConn struct {
	t   *testing.T
	c   net.Conn
	got bytes.Buffer
	r   *bufio.Reader
}

func dialRaw(t *testing.T, addr string) *rawConn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	rc := &rawConn{t: t, c: c}
	rc.r = bufio.NewReader(io.TeeReader(c, &rc.got))
	return rc
}

func (e *env) dial() *rawConn { return dialRaw(e.t, e.ts.Listener.Addr().String()) }

func (rc *rawConn) send(req *http.Request) {
	rc.t.Helper()
	if err := req.Write(rc.c); err != nil {
		rc.t.Fatal(err)
	}
}

// response reads the answer to req, and the bytes it came in.
func (rc *rawConn) response(req *http.Request) (*http.Response, []byte, string) {
	rc.t.Helper()
	rc.got.Reset()
	rc.c.SetReadDeadline(time.Now().Add(30 * time.Second))
	resp, err := http.ReadResponse(rc.r, req)
	if err != nil {
		rc.t.Fatalf("reading the answer to %s: %v", req.URL.Path, err)
	}
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		rc.t.Fatal(err)
	}
	return resp, body, rc.got.String()
}

// closed reports whether the server closed the connection (within 10 s).
func (rc *rawConn) closed() bool {
	rc.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	_, err := rc.r.ReadByte()
	return err == io.EOF || errorsAs(err, new(*net.OpError))
}

// parkedNow is the number of long-polls parked on h.
func parkedNow(h *Handler) int {
	h.parking.mu.Lock()
	defer h.parking.mu.Unlock()
	return h.parking.n
}

// parkPoll sends d's long-poll for 25 s on a fresh connection and waits
// until it is parked, alone.
func (e *env) parkPoll(d rawDevice) (*rawConn, *http.Request, string) {
	rc := e.dial()
	req, nonce := d.poll("none", 25)
	rc.send(req)
	waitFor(e.t, "the long-poll to park", func() bool { return parkedNow(e.h) == 1 })
	return rc, req, nonce
}

// checkPoll checks that a poll's answer has status, verifies, and returns
// its state.
func checkPoll(t *testing.T, h *Handler, resp *http.Response, body []byte, nonce string, status int) sesame.PollResponse {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("poll: HTTP %d %s, want %d", resp.StatusCode, body, status)
	}
	if _, err := sesame.VerifyResponse(h.PublicKey(), nonce, resp.StatusCode, resp.Header, body); err != nil {
		t.Fatalf("the poll's answer does not verify: %v", err)
	}
	var pr sesame.PollResponse
	if status == http.StatusOK {
		if err := json.Unmarshal(body, &pr); err != nil {
			t.Fatal(err)
		}
	}
	return pr
}

var volatileHeaders = regexp.MustCompile(`(?m)^(Date|` + sesame.HeaderSignature + `): .*\r$`)

// TestParkedPollAnswersAsNetHTTPWould compares the bytes of a long-poll's
// answer, parked and waiting in its handler.
func TestParkedPollAnswersAsNetHTTPWould(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	clock := newClock() // the same server time in both answers
	parked := newEnvWith(t, key, testStore(t), clock, nil)
	inHandler := newEnvListening(t, key, testStore(t), clock, nil, func(_ *Handler, ln net.Listener) net.Listener { return ln })
	var raw [2]string
	for i, e := range []*env{parked, inHandler} {
		d := e.pairRaw("alice")
		rc := e.dial()
		req, nonce := d.poll("none", 2)
		rc.send(req)
		waitFor(t, "the device to wait", func() bool { return e.h.waitingNow() == 1 })
		if got, want := parkedNow(e.h), 1-i; got != want {
			t.Fatalf("%d long-polls parked, want %d", got, want)
		}
		resp, body, r := rc.response(req)
		if pr := checkPoll(t, e.h, resp, body, nonce, http.StatusOK); pr.State != "none" || len(pr.Requests) != 0 {
			t.Fatalf("the wait's end answered %+v", pr)
		}
		raw[i] = volatileHeaders.ReplaceAllString(r, "$1: -\r")
	}
	if raw[0] != raw[1] {
		t.Fatalf("a parked long-poll answers\n%q\nwhere net/http writes\n%q", raw[0], raw[1])
	}
}

// TestBufferedResponseIsWrittenAsNetHTTPWrites checks the parked answer's
// serialisation against net/http's own, around its chunking threshold and
// with the connection closed after it.
func TestBufferedResponseIsWrittenAsNetHTTPWrites(t *testing.T) {
	handler := func(size, status int) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Retry-After", "1")
			w.Header().Set("X-Content-Type-Options", "nosniff")
			w.WriteHeader(status)
			w.Write(bytes.Repeat([]byte("a"), size))
		}
	}
	for _, size := range []int{0, 100, chunkAbove, chunkAbove + 1, 5000} {
		for _, status := range []int{http.StatusOK, http.StatusServiceUnavailable} {
			for _, closeAfter := range []bool{false, true} {
				name := fmt.Sprintf("%d bytes, %d, close %v", size, status, closeAfter)
				ts := httptest.NewServer(handler(size, status))
				rc := dialRaw(t, ts.Listener.Addr().String())
				req, _ := http.NewRequest("GET", ts.URL, nil)
				req.Close = closeAfter
				rc.send(req)
				_, _, want := rc.response(req)
				ts.Close()
				rw := &bufferedResponse{header: http.Header{}}
				handler(size, status)(rw, req)
				got := string(rw.http11(closeAfter))
				norm := func(s string) string { return volatileHeaders.ReplaceAllString(s, "$1: -\r") }
				if norm(got) != norm(want) {
					t.Errorf("%s: written as\n%q\nnet/http writes\n%q", name, norm(got), norm(want))
				}
			}
		}
	}
}

func TestParkedDeviceThatDisconnectsIsForgotten(t *testing.T) {
	e := newEnv(t, nil)
	d := e.pairRaw("alice")
	rc, _, _ := e.parkPoll(d)
	waitFor(t, "the parked long-poll to count as waiting", func() bool { return e.h.waitingNow() == 1 && len(hubUsers(e.h)) == 1 })
	rc.c.Close()
	waitFor(t, "the parked long-poll to go away", func() bool {
		return parkedNow(e.h) == 0 && e.h.waitingNow() == 0 && len(hubUsers(e.h)) == 0
	})
}

func TestConnectionIsKeptAliveAfterAParkedPoll(t *testing.T) {
	e := newEnv(t, nil)
	d := e.pairRaw("alice")
	rc, req, nonce := e.parkPoll(d)
	started, st := e.start(SignInRequest{User: "alice"})
	if st != http.StatusCreated {
		t.Fatalf("start: %d", st)
	}
	resp, body, _ := rc.response(req)
	pr := checkPoll(t, e.h, resp, body, nonce, http.StatusOK)
	if pr.State != started.ID || len(pr.Requests) != 1 || pr.Requests[0].ID != started.ID || resp.Close {
		t.Fatalf("delivered %+v (close %v), want the request %s on a kept-alive connection", pr, resp.Close, started.ID)
	}
	waitFor(t, "the answered long-poll to be off the books", func() bool { return parkedNow(e.h) == 0 && e.h.waitingNow() == 0 })
	// The next request on the same connection is served, and can park again.
	for range 2 {
		req, nonce = d.poll(started.ID, 0)
		rc.send(req)
		resp, body, _ = rc.response(req)
		if pr := checkPoll(t, e.h, resp, body, nonce, http.StatusOK); pr.State != started.ID {
			t.Fatalf("next poll on the connection: %+v", pr)
		}
	}
	req, nonce = d.poll(started.ID, 25)
	rc.send(req)
	waitFor(t, "the second long-poll to park", func() bool { return parkedNow(e.h) == 1 })
	if _, err := e.h.CancelSignIn(started.ID); err != nil {
		t.Fatal(err)
	}
	resp, body, _ = rc.response(req)
	if pr := checkPoll(t, e.h, resp, body, nonce, http.StatusOK); pr.State != "none" {
		t.Fatalf("after the cancel: %+v", pr)
	}
}

func TestShutdownAnswersParkedPollsWithARetryHint(t *testing.T) {
	e := newEnv(t, nil)
	d := e.pairRaw("alice")
	rc, req, nonce := e.parkPoll(d)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// As sesame server shuts down.
	e.ts.Config.RegisterOnShutdown(e.h.Close)
	if err := e.ts.Config.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.h.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if n := parkedNow(e.h); n != 0 {
		t.Fatalf("Shutdown returned with %d long-polls parked", n)
	}
	resp, body, _ := rc.response(req)
	checkPoll(t, e.h, resp, body, nonce, http.StatusServiceUnavailable)
	if resp.Header.Get("Retry-After") != "1" || !resp.Close || !strings.Contains(string(body), sesame.CodeUnavailable) {
		t.Fatalf("shutdown answered %d %v %s, want 503 unavailable with Retry-After and the connection closed", resp.StatusCode, resp.Header, body)
	}
	if !rc.closed() {
		t.Fatal("the connection stayed open after the shutdown's answer")
	}
}

func TestConnectionCapsCountParkedConnections(t *testing.T) {
	var ll *limitListener
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	e := newEnvListening(t, key, testStore(t), newClock(), nil, func(h *Handler, ln net.Listener) net.Listener {
		ll = LimitListener(ln, ConnLimits{Total: 3, PerClient: 2}).(*limitListener)
		return h.Listener(ll)
	})
	open := func() int {
		ll.mu.Lock()
		defer ll.mu.Unlock()
		return ll.total
	}
	alice, bob := e.pairRaw("alice"), e.pairRaw("bob")
	e.ts.Client().CloseIdleConnections()
	waitFor(t, "the pairing connections to close", func() bool { return open() == 0 })

	a, b := e.dial(), e.dial()
	reqA, _ := alice.poll("none", 25)
	a.send(reqA)
	reqB, nonceB := bob.poll("none", 25)
	b.send(reqB)
	waitFor(t, "both long-polls to park", func() bool { return parkedNow(e.h) == 2 })
	if !e.dial().closed() {
		t.Fatal("a third connection from one address was kept open while two were parked")
	}
	// Bob's answer hands his connection back to the server: still one slot.
	started, err := e.h.StartSignIn(SignInRequest{User: "bob", Application: "Wiki"})
	if err != nil {
		t.Fatal(err)
	}
	resp, body, _ := b.response(reqB)
	if pr := checkPoll(t, e.h, resp, body, nonceB, http.StatusOK); pr.State != started.ID {
		t.Fatalf("bob's poll: %+v", pr)
	}
	req, nonce := bob.poll(started.ID, 0)
	b.send(req)
	resp, body, _ = b.response(req)
	checkPoll(t, e.h, resp, body, nonce, http.StatusOK)
	if n := open(); n != 2 {
		t.Fatalf("%d connections counted, want 2 (one parked, one handed back)", n)
	}
	if !e.dial().closed() {
		t.Fatal("a third connection from one address was kept open after one was handed back")
	}
	b.c.Close()
	waitFor(t, "bob's slot to be freed", func() bool { return open() == 1 })
	a.c.Close()
	waitFor(t, "alice's slot to be freed", func() bool { return open() == 0 && parkedNow(e.h) == 0 && e.h.waitingNow() == 0 })
}

// TestLongPollsOverTLS runs a device over TLS as sesame server serves it:
// over HTTP/1.1 its long-poll parks and its connection, handed back, carries
// its answer; over HTTP/2 the long-poll waits in its handler.
func TestLongPollsOverTLS(t *testing.T) {
	donor := httptest.NewTLSServer(nil) // for its certificate
	cert, roots := donor.TLS.Certificates[0], donor.Client().Transport.(*http.Transport).TLSClientConfig.RootCAs
	donor.Close()
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	var base string
	e := newEnvListening(t, key, testStore(t), newClock(), func(c *Config) {
		c.URL = strings.Replace(c.URL, "http://", "https://", 1)
		base = c.URL
	}, func(h *Handler, ln net.Listener) net.Listener {
		return h.Listener(tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{cert}, NextProtos: []string{"h2", "http/1.1"}}))
	})
	e.ts.URL = base
	*e.ts.Client() = http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}
	for i, h2 := range []bool{false, true} {
		t.Run(fmt.Sprintf("h2=%v", h2), func(t *testing.T) {
			var dials atomic.Int32
			dialer := &net.Dialer{}
			device := &http.Client{Transport: &http.Transport{
				TLSClientConfig: &tls.Config{RootCAs: roots}, ForceAttemptHTTP2: h2,
				DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
					dials.Add(1)
					return dialer.DialContext(ctx, network, addr)
				},
			}}
			opts := sesame.ClientOptions{HTTPClient: device, Now: e.clock.Now}
			user := "user" + itoa(i)
			p, err := sesame.Pair(context.Background(), e.pairingURI(user), opts)
			if err != nil {
				t.Fatal(err)
			}
			c, err := sesame.NewClient(p, opts)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := c.Poll(context.Background()); err != nil {
				t.Fatal(err)
			}
			type polled struct {
				reqs []approve.Request
				err  error
			}
			got := make(chan polled, 1)
			go func() {
				reqs, err := c.Poll(context.Background())
				got <- polled{reqs, err}
			}()
			waitFor(t, "the device to wait", func() bool { return e.h.waitingNow() == 1 })
			if n, want := parkedNow(e.h), map[bool]int{false: 1, true: 0}[h2]; n != want {
				t.Fatalf("%d long-polls parked, want %d", n, want)
			}
			started, st := e.start(SignInRequest{User: user})
			if st != http.StatusCreated {
				t.Fatalf("start: %d", st)
			}
			r := <-got
			if r.err != nil || len(r.reqs) != 1 || r.reqs[0].ID != started.ID {
				t.Fatalf("the long-poll returned %+v, %v", r.reqs, r.err)
			}
			if err := c.Respond(context.Background(), r.reqs[0], approve.Answer{Approve: true, Number: started.Number}); err != nil {
				t.Fatal(err)
			}
			if s := e.status(started.ID, 0); s.Status != sesame.StatusApproved {
				t.Fatalf("status = %+v", s)
			}
			if n := dials.Load(); n != 1 {
				t.Fatalf("the device opened %d connections, want 1 kept alive throughout", n)
			}
		})
	}
}
