package server

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/approve/sesame"
	"github.com/sesame-auth/sesame/vault/safetext"
)

// Findings of issue 10: a server under attack by clients and relying parties.

// rawHTTP sends head (a request line and headers, without the blank line) on
// a fresh connection, then the body bytes in the background one every
// gap, and returns the first response line the server sends, or an error
// when the connection ends or the test's deadline passes.
func rawHTTP(t *testing.T, addr, head string, body []byte, gap time.Duration) (string, error) {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	if _, err := fmt.Fprintf(c, "%s\r\nContent-Length: %d\r\n\r\n", head, len(body)); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	defer close(stop)
	go func() {
		for i := range body {
			select {
			case <-stop:
				return
			case <-time.After(gap):
			}
			if _, err := c.Write(body[i : i+1]); err != nil {
				return
			}
		}
	}()
	// The deadline of the test's wait, not of the server: well past the
	// server's body deadline, well before the body could be complete.
	c.SetReadDeadline(time.Now().Add(15 * time.Second))
	return bufio.NewReader(c).ReadString('\n')
}

func TestAnswerFromAnUnknownDeviceIsRefusedBeforeItsBody(t *testing.T) {
	e := newEnv(t, nil)
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	req, _ := http.NewRequest("POST", e.ts.URL+"/v1/device/requests/x/answer", nil)
	sesame.SignHTTP(req, "no-such-device", key, []byte("{}"), e.clock.Now(), sesame.NewNonce())
	head := "POST /v1/device/requests/x/answer HTTP/1.1\r\nHost: x"
	for k := range req.Header {
		head += "\r\n" + k + ": " + req.Header.Get(k)
	}
	// The body would take 40 s: the refusal must come from the headers alone.
	line, err := rawHTTP(t, e.ts.Listener.Addr().String(), head, bytes.Repeat([]byte(" "), 20), 2*time.Second)
	if err != nil {
		t.Fatalf("no answer before the body was sent: %v", err)
	}
	if !strings.Contains(line, " 401 ") {
		t.Fatalf("got %q, want 401", line)
	}
}

func TestSlowBodyIsCutAtTheDeadline(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.BodyTimeout = 500 * time.Millisecond })
	p, _ := e.pair("alice")
	d := e.rawDevice(p)
	started, _ := e.start(SignInRequest{User: "alice"})
	path := "/v1/device/requests/" + started.ID + "/answer"
	body := d.answer(started, "approve", "", started.Number, nil)
	req := d.request("POST", path, body, e.clock.Now(), sesame.NewNonce())
	head := "POST " + path + " HTTP/1.1\r\nHost: x"
	for k := range req.Header {
		head += "\r\n" + k + ": " + req.Header.Get(k)
	}
	// One byte every 200 ms: the whole body would take over 20 s.
	line, err := rawHTTP(t, e.ts.Listener.Addr().String(), head, body, 200*time.Millisecond)
	if err != nil && !strings.Contains(err.Error(), "EOF") && !strings.Contains(err.Error(), "reset") {
		t.Fatalf("the slow body was not cut: %v", err)
	}
	if err == nil && !strings.Contains(line, " 408 ") {
		t.Fatalf("got %q, want 408 or a closed connection", line)
	}
	if s := e.status(started.ID, 0); s.Status != sesame.StatusPending {
		t.Fatalf("a cut body changed the request: %+v", s)
	}
}

func TestConnectionCaps(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ll := LimitListener(ln, ConnLimits{Total: 3, PerClient: 2})
	defer ll.Close()
	accepted := make(chan net.Conn, 8)
	go func() {
		for {
			c, err := ll.Accept()
			if err != nil {
				close(accepted)
				return
			}
			accepted <- c
		}
	}()
	dial := func() net.Conn {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	// closedByServer reports whether the server closed c at once.
	closedByServer := func(c net.Conn) bool {
		c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
		_, err := c.Read(make([]byte, 1))
		var ne net.Error
		if errorsAs(err, &ne) && ne.Timeout() {
			return false
		}
		return true
	}
	a, b := dial(), dial()
	first, second := <-accepted, <-accepted
	if over := dial(); !closedByServer(over) {
		t.Fatal("a third connection from one address was kept open")
	}
	if closedByServer(a) || closedByServer(b) {
		t.Fatal("connections within the cap were closed")
	}
	// Freeing a slot lets the client in again.
	first.Close()
	again := dial()
	third := <-accepted
	if closedByServer(again) {
		t.Fatal("a connection after a slot was freed was closed")
	}
	second.Close()
	third.Close()

	// Behind a trusted proxy only the total counts.
	pl, _ := net.Listen("tcp", "127.0.0.1:0")
	tl := LimitListener(pl, ConnLimits{Total: 3, PerClient: 1, TrustedProxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
	defer tl.Close()
	go func() {
		for {
			c, err := tl.Accept()
			if err != nil {
				return
			}
			t.Cleanup(func() { c.Close() })
		}
	}()
	var conns []net.Conn
	for range 4 {
		c, err := net.Dial("tcp", pl.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		conns = append(conns, c)
	}
	for i, c := range conns[:3] {
		if closedByServer(c) {
			t.Fatalf("proxied connection %d was closed under the total cap", i)
		}
	}
	if !closedByServer(conns[3]) {
		t.Fatal("a connection over the total cap was kept open")
	}
}

func TestTextFieldsAreCleanedBeforeSigning(t *testing.T) {
	e := newEnv(t, nil)
	_, c := e.pair("alice")
	in := SignInRequest{User: "alice", Application: "Wi\u200bki", IP: "192.0.2.7", Location: "\u2066Lyon\u2069, FR",
		UserAgent: "Firefox\u202e xuniL no \x1b[31mred"}
	if _, st := e.start(in); st != http.StatusCreated {
		t.Fatalf("start: %d", st)
	}
	reqs, err := c.Poll(context.Background())
	if err != nil || len(reqs) != 1 {
		t.Fatalf("poll: %v %v", reqs, err)
	}
	r := reqs[0]
	for _, f := range []string{r.Application, r.Location, r.UserAgent} {
		if !safetext.IsClean(f) {
			t.Errorf("signed field %q holds characters that reorder or hide text", f)
		}
	}
	if r.Application != "Wiki" || r.Location != "Lyon, FR" || r.UserAgent != "Firefox xuniL no red" {
		t.Errorf("cleaned fields = %q %q %q", r.Application, r.Location, r.UserAgent)
	}
}

func TestDeviceNameIsCleaned(t *testing.T) {
	e := newEnv(t, nil)
	pu, err := sesame.ParsePairingURI(e.pairingURI("alice"))
	if err != nil {
		t.Fatal(err)
	}
	pub, key, _ := ed25519.GenerateKey(rand.Reader)
	body, _ := json.Marshal(sesame.RegisterRequest{V: 1, Token: pu.Token, PublicKey: pub, Name: "Sesame on \u202elaptop\x1b[2J"})
	req, _ := http.NewRequest("POST", e.ts.URL+"/v1/pair", bytes.NewReader(body))
	sesame.SignHTTP(req, "", key, body, e.clock.Now(), sesame.NewNonce())
	resp, err := e.ts.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("register: %d", resp.StatusCode)
	}
	var list struct{ Devices []Device }
	e.rp("GET", "/v1/rp/users/alice/devices", nil, &list)
	if len(list.Devices) != 1 || list.Devices[0].Name != "Sesame on laptop" {
		t.Fatalf("devices = %+v", list.Devices)
	}
}

func TestRefusedSignInsDoNotUseTheBudget(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.SignInBurst = 2; c.SignInEvery = time.Hour })
	for range 5 {
		if _, st := e.start(SignInRequest{User: "alice"}); st != http.StatusNotFound {
			t.Fatalf("sign-in without a device: %d, want 404", st)
		}
	}
	p, _ := e.pair("alice")
	first, st := e.start(SignInRequest{User: "alice"})
	if st != http.StatusCreated {
		t.Fatalf("first sign-in after pairing: %d: refused sign-ins used the budget", st)
	}
	d := e.rawDevice(p)
	path := "/v1/device/requests/" + first.ID + "/answer"
	if st, er := send(t, e, d.request("POST", path, d.answer(first, "deny", "not_me", "", nil), e.clock.Now(), sesame.NewNonce())); st != http.StatusOK {
		t.Fatalf("not_me: %d %+v", st, er)
	}
	for range 5 {
		if _, st := e.start(SignInRequest{User: "alice"}); st != http.StatusForbidden {
			t.Fatalf("sign-in while blocked: %d, want 403", st)
		}
	}
	if st := e.rp("POST", "/v1/rp/users/alice/unblock", nil, nil); st != http.StatusNoContent {
		t.Fatalf("unblock: %d", st)
	}
	if _, st := e.start(SignInRequest{User: "alice"}); st != http.StatusCreated {
		t.Fatalf("second sign-in: %d: blocked sign-ins used the budget", st)
	}
	if _, st := e.start(SignInRequest{User: "alice"}); st != http.StatusTooManyRequests {
		t.Fatalf("third sign-in: %d, want 429 (the budget is 2)", st)
	}
}

func TestBearerSchemeIsCaseInsensitive(t *testing.T) {
	e := newEnv(t, nil)
	for _, h := range []string{"Bearer " + testAPIKey, "bearer " + testAPIKey, "BEARER  " + testAPIKey, "Basic " + testAPIKey, testAPIKey} {
		req, _ := http.NewRequest("GET", e.ts.URL+"/v1/rp/users/alice/devices", nil)
		req.Header.Set("Authorization", h)
		resp, err := e.ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		want := http.StatusOK
		if !strings.HasPrefix(strings.ToLower(h), "bearer") {
			want = http.StatusUnauthorized
		}
		if resp.StatusCode != want {
			t.Errorf("Authorization: %q: %d, want %d", h, resp.StatusCode, want)
		}
	}
}

func TestForwardedForOnlyFromTrustedProxies(t *testing.T) {
	h := &Handler{cfg: Config{TrustedProxies: []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}}}
	for _, tc := range []struct{ remote, xff, want string }{
		{"192.0.2.1:5000", "198.51.100.7", "192.0.2.1"},            // not a proxy: the header is ignored
		{"10.0.0.2:5000", "198.51.100.7", "198.51.100.7"},          // a trusted proxy
		{"10.0.0.2:5000", "6.6.6.6, 198.51.100.7", "198.51.100.7"}, // the client cannot choose its address
		{"10.0.0.2:5000", "198.51.100.7, 10.0.0.9", "198.51.100.7"},
		{"[::1]:5000", "2001:db8::1", "2001:db8::1"},
		{"10.0.0.2:5000", "", "10.0.0.2"},
		{"10.0.0.2:5000", "junk", "10.0.0.2"},
	} {
		r := httptest.NewRequest("POST", "/v1/pair", nil)
		r.RemoteAddr = tc.remote
		if tc.xff != "" {
			r.Header.Set("X-Forwarded-For", tc.xff)
		}
		if got := h.clientAddr(r); got != tc.want {
			t.Errorf("%s with X-Forwarded-For %q: %s, want %s", tc.remote, tc.xff, got, tc.want)
		}
	}
}

func errorsAs(err error, target any) bool { return err != nil && errors.As(err, target) }
