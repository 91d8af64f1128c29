//go:build !lean

package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/tui/tuitest"
	"github.com/sesame-auth/sesame/vault/vaulttest"
)

// recordingProxy forwards to the server and keeps copies of the answers devices send.
type recordingProxy struct {
	mu      sync.Mutex
	answers []*http.Request
	bodies  [][]byte
}

func (p *recordingProxy) handler(target *url.URL) http.Handler {
	rp := httputil.NewSingleHostReverseProxy(target)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/answer") {
			b, _ := io.ReadAll(r.Body)
			r.Body = io.NopCloser(bytes.NewReader(b))
			p.mu.Lock()
			p.answers = append(p.answers, r.Clone(r.Context()))
			p.bodies = append(p.bodies, b)
			p.mu.Unlock()
		}
		rp.ServeHTTP(w, r)
	})
}

// approvalServer is the built 'sesame server' on loopback behind a proxy
// that records the answers devices send, with a vault paired to it for the
// user alice.
type approvalServer struct {
	t        *testing.T
	bin      string
	apiKey   string
	frontURL string
	backend  *url.URL
	proxy    *recordingProxy
	env      []string // SESAME_HOME and SESAME_PASSPHRASE of the paired vault
}

type signInStarted struct{ ID, Number string }
type signInOutcome struct{ Status, Reason string }

func startApprovalServer(t *testing.T) *approvalServer {
	t.Helper()
	return startApprovalServerStore(t, "passphrase")
}

// startApprovalServerStore is startApprovalServer with a vault whose key is
// in store: "passphrase", or "keyring" inside vaulttest.InSecretService.
func startApprovalServerStore(t *testing.T, store string) *approvalServer {
	t.Helper()
	bin := tuitest.Sesame(t)
	dir := t.TempDir()
	s := &approvalServer{t: t, bin: bin, apiKey: "e2e-api-key-0123456789abcdef", proxy: &recordingProxy{}}

	// A proxy in front of the server records what the device sends.
	front := httptest.NewUnstartedServer(nil)
	s.frontURL = "http://" + front.Listener.Addr().String()

	// The server prints its public (proxy) URL: pick its own port here.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	backendAddr := l.Addr().String()
	l.Close()
	srv := exec.Command(bin, "server", "--listen", backendAddr, "--data", filepath.Join(dir, "server"), "--url", s.frontURL)
	srv.Env = append(os.Environ(), "SESAME_API_KEY="+s.apiKey)
	stdout, _ := srv.StdoutPipe()
	var serverLog bytes.Buffer
	srv.Stderr = &serverLog
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { srv.Process.Signal(os.Interrupt); srv.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil || strings.TrimSpace(line) != s.frontURL {
		t.Fatalf("server printed %q (%v), want %s\n%s", line, err, s.frontURL, serverLog.String())
	}
	s.backend, _ = url.Parse("http://" + backendAddr)
	front.Config.Handler = s.proxy.handler(s.backend)
	front.Start()
	t.Cleanup(front.Close) // after the tmux session (cleanups run last-in first-out)

	// Pair a fresh vault with the server.
	s.env = []string{"SESAME_HOME=" + filepath.Join(dir, "vault"), "SESAME_PASSPHRASE=e2e passphrase"}
	if store == "keyring" {
		s.env[1] = "SESAME_PASSPHRASE="
	} else {
		// Made here at a cheap scrypt cost, so that no command of the test
		// pays the production one; pair then opens it like any vault.
		vaulttest.NewPassphraseIn(t, filepath.Join(dir, "vault"), "e2e passphrase")
	}
	var pairing struct{ URI string }
	if st := s.rp("POST", "/v1/rp/pairings", map[string]string{"user": "alice"}, &pairing); st != http.StatusCreated {
		t.Fatalf("create pairing: %d", st)
	}
	if out, errOut, code := runBinary(t, s.env, "", "--store", store, "pair", pairing.URI); code != 0 || !strings.Contains(out, "paired") {
		t.Fatalf("pair: %d %s %s", code, out, errOut)
	}
	if out, _, code := runBinary(t, s.env, "", "devices", "--json"); code != 0 || !strings.Contains(out, `"user": "alice"`) {
		t.Fatalf("devices: %d %s", code, out)
	}
	return s
}

// rp calls the relying-party API with the API key.
func (s *approvalServer) rp(method, path string, in, out any) int {
	s.t.Helper()
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, s.backend.String()+path, body)
	req.Header.Set("Authorization", "Bearer "+s.apiKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode
}

// start begins a sign-in for alice; ttl 0 is the server's default.
func (s *approvalServer) start(ttl int) signInStarted {
	s.t.Helper()
	var st signInStarted
	if code := s.rp("POST", "/v1/rp/signins", map[string]any{"user": "alice", "application": "Wiki", "ip": "192.0.2.7",
		"location": "Lyon, FR", "user_agent": "Firefox on Linux", "ttl_seconds": ttl}, &st); code != http.StatusCreated {
		s.t.Fatalf("start sign-in: HTTP %d", code)
	}
	return st
}

// outcome long-polls a sign-in's outcome for up to 5 s.
func (s *approvalServer) outcome(id string) signInOutcome {
	var o signInOutcome
	s.rp("GET", "/v1/rp/signins/"+id+"?wait=5", nil, &o)
	return o
}

// answersSent is how many answers the device has sent through the proxy.
func (s *approvalServer) answersSent() int {
	s.proxy.mu.Lock()
	defer s.proxy.mu.Unlock()
	return len(s.proxy.answers)
}

// TestApproveWatchInTmux runs the real server and the built sesame: a sign-in
// started through the API appears in 'sesame approve --watch' in tmux; the
// right number approves it, a wrong one and "not me" deny it, and a replayed
// answer is refused by the server.
func TestApproveWatchInTmux(t *testing.T) {
	t.Parallel()
	srv := startApprovalServer(t)
	bin, env, proxy, backend, frontURL := srv.bin, srv.env, srv.proxy, srv.backend, srv.frontURL
	start, outcome, rp := srv.start, srv.outcome, srv.rp

	tm := tuitest.Start(t, tuitest.TermOptions{Width: 150, Height: 50, Scrollback: 5000, Env: env}, bin, "approve", "--watch")
	tm.WaitFor(30*time.Second, "waiting for sign-in requests")
	tm.WaitFor(30*time.Second, ": ok")

	// 1. The right number approves.
	s1 := start(0)
	tm.WaitFor(15*time.Second, "Are you trying to sign in?")
	screen := tm.Screen()
	for _, want := range []string{"user:        alice", "application: Wiki", "from:        192.0.2.7, Lyon, FR", "using:       Firefox on Linux"} {
		if !strings.Contains(screen, want) {
			t.Fatalf("the prompt lacks %q:\n%s", want, screen)
		}
	}
	// As a word: the number may well be part of a port or an address.
	if regexp.MustCompile(`\b` + s1.Number + `\b`).MatchString(screen) {
		t.Fatalf("the number %s is shown before it was typed:\n%s", s1.Number, screen)
	}
	// The instruction is given once.
	if n := strings.Count(screen, "number shown on the sign-in screen"); n != 1 {
		t.Fatalf("the instruction is shown %d times:\n%s", n, screen)
	}
	// Two stray Enters answer nothing.
	tm.Line("")
	tm.Line("")
	tm.WaitCount(15*time.Second, 3, "Number (n = deny")
	if o := outcome(s1.ID); o.Status != "pending" {
		t.Fatalf("two Enters answered the request: %+v", o)
	}
	if n := srv.answersSent(); n != 0 {
		t.Fatalf("two Enters sent %d answers", n)
	}
	tm.Line(s1.Number)
	tm.WaitFor(15*time.Second, "Approved")
	if o := outcome(s1.ID); o.Status != "approved" {
		t.Fatalf("right number: %+v", o)
	}

	// 5. Replaying the recorded answer to the server is refused.
	proxy.mu.Lock()
	if len(proxy.answers) != 1 {
		t.Fatalf("%d answers sent, want 1", len(proxy.answers))
	}
	replay, _ := http.NewRequest("POST", backend.String()+proxy.answers[0].URL.RequestURI(), bytes.NewReader(proxy.bodies[0]))
	replay.Header = proxy.answers[0].Header.Clone()
	proxy.mu.Unlock()
	resp, err := http.DefaultClient.Do(replay)
	if err != nil {
		t.Fatal(err)
	}
	var er struct{ Error string }
	json.NewDecoder(resp.Body).Decode(&er)
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || er.Error != "replayed_nonce" {
		t.Fatalf("replayed answer: %d %+v", resp.StatusCode, er)
	}

	// 2. A wrong number denies.
	s2 := start(0)
	tm.WaitCount(15*time.Second, 2, "Are you trying to sign in?")
	wrong := "10"
	if s2.Number == wrong {
		wrong = "11"
	}
	tm.Line(wrong)
	tm.WaitFor(15*time.Second, "did not match")
	if o := outcome(s2.ID); o.Status != "denied" || o.Reason != "wrong_number" {
		t.Fatalf("wrong number: %+v", o)
	}

	// 3. "This wasn't me" denies and blocks until cleared.
	s3 := start(0)
	tm.WaitCount(15*time.Second, 3, "Are you trying to sign in?")
	tm.Line("x")
	tm.WaitFor(15*time.Second, "Reported as not you")
	if o := outcome(s3.ID); o.Status != "not_me" {
		t.Fatalf("not me: %+v", o)
	}
	if st := rp("POST", "/v1/rp/signins", map[string]any{"user": "alice"}, nil); st != http.StatusForbidden {
		t.Fatalf("sign-in while blocked: %d", st)
	}
	if out, errOut, code := runBinary(t, env, "", "devices", "unblock", "--yes", "alice@Sesame"); code != 0 {
		// The label is the server's host when the server has no --label.
		out2, errOut2, code2 := runBinary(t, env, "", "devices", "unblock", "--yes", strings.TrimPrefix(frontURL, "http://"))
		if code2 != 0 {
			t.Fatalf("unblock: %s %s / %s %s", out, errOut, out2, errOut2)
		}
	}

	// 4. An unanswered request expires: TestApproveWatchExpiryInTmux.
	if n := srv.answersSent(); n != 3 {
		t.Fatalf("%d answers sent, want 3 (one per answered request)", n)
	}

	// The decisions are in the vault's history, without the numbers.
	out, _, _ := runBinary(t, env, "", "devices", "--json")
	if strings.Contains(out, "device_key") || strings.Contains(out, "DeviceKey") {
		t.Fatalf("devices --json shows the key: %s", out)
	}
}

// TestApproveWatchExpiryInTmux: in 'sesame approve --watch' in tmux, against
// the real server, a request left unanswered expires, and typing its number
// afterwards sends nothing. It waits the shortest lifetime a server gives a
// request (10 s), in a test of its own so that the wait runs beside the
// other tests.
func TestApproveWatchExpiryInTmux(t *testing.T) {
	t.Parallel()
	srv := startApprovalServer(t)
	tm := tuitest.Start(t, tuitest.TermOptions{Width: 150, Height: 50, Env: srv.env}, srv.bin, "approve", "--watch")
	tm.WaitFor(30*time.Second, ": ok")
	s := srv.start(10)
	tm.WaitFor(15*time.Second, "Are you trying to sign in?")
	tm.WaitFor(30*time.Second, "The sign-in request expired.")
	if o := srv.outcome(s.ID); o.Status != "expired" {
		t.Fatalf("expiry: %+v", o)
	}
	tm.Line(s.Number)
	tm.WaitFor(10*time.Second, "no sign-in request is waiting")
	if n := srv.answersSent(); n != 0 {
		t.Fatalf("%d answers sent for a request that expired unanswered", n)
	}
}
