package privacyidea

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/approve"
	"github.com/sesame-auth/sesame/approve/privacyidea/pitest"
	"github.com/sesame-auth/sesame/vault"
)

// testKeyBits keeps key generation fast under -race; TestReal4096 uses the
// real size once.
const testKeyBits = 1024

// clock is a settable clock shared by a fake server and the device.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Now().UTC()} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func testKey(t testing.TB) *rsa.PrivateKey {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, testKeyBits)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

// setup pairs a device with a fresh fake server and returns the provider.
func setup(t *testing.T, cfg pitest.Config) (*pitest.Server, *provider, *clock, vault.Pairing) {
	t.Helper()
	clk := newClock()
	if cfg.KeyBits == 0 {
		cfg.KeyBits = testKeyBits
	}
	if cfg.Now == nil {
		cfg.Now = clk.Now
	}
	srv := pitest.New(t, cfg)
	opts := Options{HTTPClient: srv.HTTP.Client(), Now: clk.Now}
	p, err := PairWithKey(context.Background(), srv.EnrollURI(), opts, testKey(t))
	if err != nil {
		t.Fatalf("PairWithKey: %v", err)
	}
	pr, err := newProvider(p, opts, 5*time.Millisecond, 200*time.Millisecond)
	if err != nil {
		t.Fatalf("newProvider: %v", err)
	}
	return srv, pr, clk, p
}

func pollOne(t *testing.T, pr *provider) approve.Request {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	reqs, err := pr.Poll(ctx)
	if err != nil {
		t.Fatalf("Poll: %v", err)
	}
	if len(reqs) != 1 {
		t.Fatalf("Poll returned %d requests, want 1: %+v", len(reqs), reqs)
	}
	return reqs[0]
}

func TestParseEnrollURI(t *testing.T) {
	const cred = "0123456789abcdef0123456789abcdef01234567"
	good := "otpauth://pipush/alice%40realm1?url=https%3A//pi.example.com/ttype/push&ttl=10&issuer=privacyIDEA&enrollment_credential=" + cred + "&v=1&serial=PIPU0006EF85&sslverify=1&poll_only=True&projectid=x"
	e, err := ParseEnrollURI(good)
	if err != nil {
		t.Fatal(err)
	}
	want := EnrollURI{Label: "alice@realm1", Issuer: "privacyIDEA", URL: "https://pi.example.com/ttype/push", Serial: "PIPU0006EF85",
		Credential: cred, TTL: 10 * time.Minute, SSLVerify: true, PollOnly: true, Version: 1}
	if e != want {
		t.Fatalf("got %+v\nwant %+v", e, want)
	}
	if e.User() != "alice@realm1" || e.Origin() != "https://pi.example.com" {
		t.Fatalf("User %q Origin %q", e.User(), e.Origin())
	}
	pia := strings.Replace(good, "otpauth://", "PIA://", 1)
	if !IsEnrollURI(pia) {
		t.Fatal("pia:// not recognised")
	}
	if e2, err := ParseEnrollURI(pia); err != nil || e2.Serial != "PIPU0006EF85" {
		t.Fatalf("pia: %+v %v", e2, err)
	}
	if e3, _ := ParseEnrollURI(strings.Replace(good, "alice%40realm1", "ACME:bob", 1)); e3.User() != "bob" {
		t.Fatalf("User from issuer:account label = %q", e3.User())
	}

	bad := map[string]struct {
		uri  string
		want error
	}{
		"totp":            {"otpauth://totp/x?secret=AAAA", ErrNotEnrollURI},
		"no serial":       {strings.Replace(good, "&serial=PIPU0006EF85", "", 1), ErrBadEnrollURI},
		"no credential":   {strings.Replace(good, "&enrollment_credential="+cred, "", 1), ErrBadEnrollURI},
		"no url":          {strings.Replace(good, "url=https%3A//pi.example.com/ttype/push&", "", 1), ErrBadEnrollURI},
		"plain http":      {strings.Replace(good, "https%3A//pi.example.com", "http%3A//pi.example.com", 1), approve.ErrInsecure},
		"ftp":             {strings.Replace(good, "https%3A//pi.example.com", "ftp%3A//pi.example.com", 1), ErrBadEnrollURI},
		"sslverify=2":     {strings.Replace(good, "sslverify=1", "sslverify=2", 1), ErrBadEnrollURI},
		"twice":           {good + "&serial=PIPU2", ErrBadEnrollURI},
		"ttl":             {strings.Replace(good, "ttl=10", "ttl=ten", 1), ErrBadEnrollURI},
		"serial pipe":     {strings.Replace(good, "PIPU0006EF85", "PI%7CPU", 1), ErrBadEnrollURI},
		"control in text": {strings.Replace(good, "issuer=privacyIDEA", "issuer=a%0Ab", 1), ErrBadEnrollURI},
		"huge":            {good + "&x=" + strings.Repeat("a", maxURILength), ErrBadEnrollURI},
	}
	for name, c := range bad {
		_, err := ParseEnrollURI(c.uri)
		if !errors.Is(err, c.want) {
			t.Errorf("%s: err = %v, want %v", name, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), cred) {
			t.Errorf("%s: the error shows the enrolment credential", name)
		}
	}
	if _, err := ParseEnrollURI(strings.Replace(good, "https%3A//pi.example.com", "http%3A//127.0.0.1:8080", 1)); err != nil {
		t.Errorf("http to loopback refused: %v", err)
	}
}

func TestPairSendsTheSecondStep(t *testing.T) {
	clk := newClock()
	srv := pitest.New(t, pitest.Config{KeyBits: testKeyBits, Now: clk.Now, Label: "alice@realm1"})
	key := testKey(t)
	p, err := PairWithKey(context.Background(), srv.EnrollURI(), Options{Now: clk.Now}, key)
	if err != nil {
		t.Fatal(err)
	}
	ok, devPub, form := srv.Enrolled()
	if !ok || !devPub.Equal(&key.PublicKey) {
		t.Fatal("the server did not enrol the device key")
	}
	keys := []string{}
	for k := range form {
		keys = append(keys, k)
	}
	if len(form) != 4 || form.Get("fbtoken") != "no_firebase_token" || form.Get("serial") != srv.Serial() || len(form.Get("enrollment_credential")) != 40 {
		t.Fatalf("enrolment form fields %v", keys)
	}
	spki, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
	if form.Get("pubkey") != base64.StdEncoding.EncodeToString(spki) {
		t.Fatalf("pubkey is not one-line base64 of the DER SubjectPublicKeyInfo")
	}
	if p.Provider != "privacyidea" || p.Server != srv.URL || p.User != "alice@realm1" || p.Params[ParamSerial] != srv.Serial() ||
		p.Params[ParamURL] != srv.RegistrationURL || p.Params[ParamSSLVerify] != "1" || p.Params[ParamIssuer] != "privacyIDEA" || p.ID == "" ||
		p.Label != "privacyIDEA "+srv.Serial() || p.Params[ParamLabel] != "alice@realm1" {
		t.Fatalf("pairing %+v", p)
	}
	dk, err := x509.ParsePKCS8PrivateKey(p.DeviceKey)
	if err != nil || !dk.(*rsa.PrivateKey).Equal(key) {
		t.Fatalf("DeviceKey is not the PKCS#8 of the device key: %v", err)
	}
	sk, err := x509.ParsePKIXPublicKey(p.ServerKey)
	if err != nil || !sk.(*rsa.PublicKey).Equal(srv.PublicKey()) {
		t.Fatalf("ServerKey is not the server's key: %v", err)
	}
	if s := fmt.Sprintf("%v %+v", p, p); strings.Contains(s, form.Get("enrollment_credential")) || !strings.Contains(s, "[secret]") {
		t.Fatalf("printing the pairing leaks or does not hide the key: %.200s", s)
	}
}

func TestPairReadsServerKeyForms(t *testing.T) {
	for name, q := range map[string]pitest.EnrollQuirks{
		"newlines inside (strip_key)": {},
		"one line":                    {KeyOneLine: true},
		"whole PEM":                   {KeyAsPEM: true},
		"unescaped plus as space":     {KeySpacesForPlus: true},
	} {
		t.Run(name, func(t *testing.T) {
			srv := pitest.New(t, pitest.Config{KeyBits: testKeyBits})
			srv.SetEnrollQuirks(q)
			p, err := PairWithKey(context.Background(), srv.EnrollURI(), Options{}, testKey(t))
			if err != nil {
				t.Fatal(err)
			}
			sk, _ := x509.ParsePKIXPublicKey(p.ServerKey)
			if !sk.(*rsa.PublicKey).Equal(srv.PublicKey()) {
				t.Fatal("wrong server key")
			}
		})
	}
}

func TestPairFailures(t *testing.T) {
	cases := map[string]struct {
		q    pitest.EnrollQuirks
		uri  func(string) string
		want error
		msg  string
	}{
		"rollout state": {q: pitest.EnrollQuirks{RolloutState: "clientwait"}, want: ErrBadResponse, msg: `"clientwait"`},
		"http error":    {q: pitest.EnrollQuirks{Status: http.StatusBadRequest}, want: approve.ErrBadRequest, msg: "Invalid enrollment credential"},
		"garbage":       {q: pitest.EnrollQuirks{Garbage: true}, want: ErrBadResponse},
		"wrong cred": {uri: func(u string) string {
			return strings.Replace(u, "enrollment_credential=", "enrollment_credential=00", 1)
		}, want: approve.ErrBadRequest},
		"wrong serial": {uri: func(u string) string { return strings.Replace(u, "serial=PIPU", "serial=XIPU", 1) }, want: approve.ErrBadRequest, msg: "clientwait"},
		"unreachable": {uri: func(u string) string {
			return strings.Replace(u, "url=http%3A%2F%2F127.0.0.1%3A", "url=http%3A%2F%2F127.0.0.1%3A1", 1)
		}},
		"not enrol link": {uri: func(string) string { return "otpauth://totp/a?secret=AAAA" }, want: ErrNotEnrollURI},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			srv := pitest.New(t, pitest.Config{KeyBits: testKeyBits})
			srv.SetEnrollQuirks(c.q)
			uri := srv.EnrollURI()
			if c.uri != nil {
				uri = c.uri(uri)
			}
			_, err := PairWithKey(context.Background(), uri, Options{}, testKey(t))
			if !errors.Is(err, approve.ErrPairing) {
				t.Fatalf("err = %v, want ErrPairing", err)
			}
			if c.want != nil && !errors.Is(err, c.want) {
				t.Fatalf("err = %v, want %v", err, c.want)
			}
			if !strings.Contains(err.Error(), c.msg) {
				t.Fatalf("err = %v, want it to mention %q", err, c.msg)
			}
			if u, _ := url.Parse(srv.EnrollURI()); strings.Contains(err.Error(), u.Query().Get("enrollment_credential")) {
				t.Fatal("the error shows the enrolment credential")
			}
		})
	}
}

// The fake must read keys the way _build_verify_object does, including an
// unescaped '+' that arrives as a space, or it would not be a faithful judge.
func TestFakeReadsUnescapedPlus(t *testing.T) {
	srv := pitest.New(t, pitest.Config{KeyBits: testKeyBits})
	var key *rsa.PrivateKey
	var b64 string
	for key == nil || !strings.Contains(b64, "+") {
		key = testKey(t)
		der, _ := x509.MarshalPKIXPublicKey(&key.PublicKey)
		b64 = base64.StdEncoding.EncodeToString(der)
	}
	u, _ := url.Parse(srv.EnrollURI())
	body := "enrollment_credential=" + u.Query().Get("enrollment_credential") + "&serial=" + srv.Serial() + "&fbtoken=no_firebase_token&pubkey=" + b64
	resp, err := http.Post(srv.RegistrationURL, "application/x-www-form-urlencoded", strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if ok, pub, _ := srv.Enrolled(); !ok || !pub.Equal(&key.PublicKey) {
		t.Fatalf("the fake did not read an unescaped '+' (HTTP %d)", resp.StatusCode)
	}
}

func TestPollAndAccept(t *testing.T) {
	srv, pr, clk, p := setup(t, pitest.Config{})
	nonce := srv.Trigger(pitest.ChallengeOptions{Question: "Sign in to VPN from 10.0.0.7?", Title: "ACME login"})
	r := pollOne(t, pr)
	want := approve.Request{PairingID: p.ID, ID: nonce, User: p.User, Application: "privacyIDEA", Title: "ACME login",
		Question: "Sign in to VPN from 10.0.0.7?", Mode: approve.ModeApprove, Created: clk.Now(), Expires: clk.Now().Add(120 * time.Second)}
	if fmt.Sprintf("%+v", r) != fmt.Sprintf("%+v", want) {
		t.Fatalf("request\n%+v\nwant\n%+v", r, want)
	}
	if n, refused := srv.Polls(); n == 0 || len(refused) != 0 {
		t.Fatalf("server verified %d polls, refused %v", n, refused)
	}
	if err := pr.Respond(context.Background(), r, approve.Answer{Approve: true}); err != nil {
		t.Fatal(err)
	}
	o, _ := srv.Outcome(nonce)
	if o.State != "accepted" || o.Answers != 1 || o.Form.Has("decline") || o.Form.Has("presence_answer") || o.Form.Get("nonce") != nonce {
		t.Fatalf("outcome %+v", o)
	}
	// Polling again hands out nothing: the challenge is answered.
	reqs, err := pr.Poll(context.Background())
	if err != nil || len(reqs) != 0 {
		t.Fatalf("second poll: %v %v", reqs, err)
	}
}

func TestPollHandsOutEachChallengeOnce(t *testing.T) {
	srv, pr, _, _ := setup(t, pitest.Config{})
	srv.Trigger(pitest.ChallengeOptions{})
	pollOne(t, pr)
	polls, _ := srv.Polls()
	pr.window = time.Second // room for several polls on a loaded machine
	reqs, err := pr.Poll(context.Background())
	if err != nil || len(reqs) != 0 {
		t.Fatalf("the open challenge came again: %v %v", reqs, err)
	}
	if n, _ := srv.Polls(); n < polls+2 {
		t.Fatalf("Poll did not keep polling during its window: %d polls after %d", n, polls)
	}
	second := srv.Trigger(pitest.ChallengeOptions{})
	if r := pollOne(t, pr); r.ID != second {
		t.Fatalf("got %s, want the new challenge %s", r.ID, second)
	}
}

func TestPollStopsWithContext(t *testing.T) {
	_, pr, _, _ := setup(t, pitest.Config{})
	pr.window = time.Hour
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { _, err := pr.Poll(ctx); done <- err }()
	cancel()
	select {
	case err := <-done:
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Poll did not return after cancel")
	}
}

func TestPollTimestampSkew(t *testing.T) {
	srv, pr, _, _ := setup(t, pitest.Config{})
	srvClock := newClock()
	for _, c := range []struct {
		skew time.Duration
		ok   bool
	}{{50 * time.Second, true}, {-55 * time.Second, true}, {61 * time.Second, false}, {-2 * time.Minute, false}} {
		skew := c.skew
		pr.now = func() time.Time { return srvClock.Now().Add(skew) }
		_, err := pr.pollOnce(context.Background())
		if c.ok && err != nil {
			t.Errorf("skew %v: %v", skew, err)
		}
		if !c.ok && !errors.Is(err, approve.ErrClockSkew) {
			t.Errorf("skew %v: err = %v, want ErrClockSkew", skew, err)
		}
	}
	if n, _ := srv.Polls(); n != 2 {
		t.Errorf("the server verified %d polls, want 2", n)
	}
}

// The server's own clock decides; the timestamp string is what it parses.
func TestTimestampFormat(t *testing.T) {
	ts := time.Date(2020, 6, 19, 13, 27, 0, 123456789, time.FixedZone("CEST", 2*3600))
	if got := Timestamp(ts); got != "2020-06-19T11:27:00.123456+00:00" {
		t.Fatalf("Timestamp = %q", got)
	}
}

func TestBadSignaturesAreDropped(t *testing.T) {
	srv, pr, _, _ := setup(t, pitest.Config{})
	srv.Trigger(pitest.ChallengeOptions{BadSignature: true, Question: "forged"})
	good := srv.Trigger(pitest.ChallengeOptions{Question: "real"})
	r := pollOne(t, pr)
	if r.ID != good {
		t.Fatalf("got %q", r.Question)
	}
	// A challenge signed by another key is dropped too.
	forged := wireChallenge{Nonce: "N", URL: srv.RegistrationURL, Serial: srv.Serial(), Question: "q", Title: "t", SSLVerify: "1"}
	forged.Signature, _ = sign(testKey(t), challengeSignString(forged))
	if got := pr.admit([]wireChallenge{forged}, time.Now()); len(got) != 0 {
		t.Fatal("a challenge signed by another key was admitted")
	}
	// So is one for another serial, even with a valid signature over it.
	if got := pr.admit([]wireChallenge{{Nonce: "M", Serial: "PIPUOTHER", Signature: "AAAA"}}, time.Now()); len(got) != 0 {
		t.Fatal("a challenge for another serial was admitted")
	}
}

func TestPresence(t *testing.T) {
	srv, pr, _, _ := setup(t, pitest.Config{})
	nonce := srv.Trigger(pitest.ChallengeOptions{Presence: []string{"0A", "1B", "2C"}, Correct: "1B"})
	r := pollOne(t, pr)
	if r.Mode != approve.ModePresence || strings.Join(r.Choices, ",") != "0A,1B,2C" {
		t.Fatalf("request %+v", r)
	}
	if err := pr.Respond(context.Background(), r, approve.Answer{Approve: true, Number: "9Z"}); !errors.Is(err, ErrBadChoice) {
		t.Fatalf("err = %v, want ErrBadChoice", err)
	}
	if err := pr.Respond(context.Background(), r, approve.Answer{Approve: true, Number: "1B"}); err != nil {
		t.Fatalf("the bad choice consumed the request: %v", err)
	}
	o, _ := srv.Outcome(nonce)
	if o.State != "accepted" || o.PresenceAnswer != "1B" || o.Form.Get("presence_answer") != "1B" {
		t.Fatalf("outcome %+v", o)
	}
}

func TestPresenceWrongOptionIsNotAccepted(t *testing.T) {
	srv, pr, _, _ := setup(t, pitest.Config{})
	nonce := srv.Trigger(pitest.ChallengeOptions{Presence: []string{"A", "B", "C"}, Correct: "C"})
	r := pollOne(t, pr)
	if err := pr.Respond(context.Background(), r, approve.Answer{Approve: true, Number: "A"}); !errors.Is(err, ErrNotAccepted) {
		t.Fatalf("err = %v, want ErrNotAccepted", err)
	}
	if o, _ := srv.Outcome(nonce); o.State != "pending" || o.Posts != 1 {
		t.Fatalf("outcome %+v", o)
	}
}

func TestDecline(t *testing.T) {
	cases := []struct {
		name      string
		caps      bool
		badCapSig bool
		presence  bool
		reason    approve.DenyReason
		state     string
		sent      string
	}{
		{"legacy server, not me", false, false, false, approve.NotMe, "declined", ""},
		{"capable server, not me", true, false, false, approve.NotMe, "declined", "unknown_trigger"},
		{"capable server, cancelled", true, false, false, approve.Cancelled, "cancelled", "cancelled"},
		{"capable server, no reason", true, false, false, "", "declined", ""},
		{"badly signed capabilities", true, true, false, approve.Cancelled, "declined", ""},
		{"presence decline", true, false, true, approve.NotMe, "declined", "unknown_trigger"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			srv, pr, _, _ := setup(t, pitest.Config{Capabilities: c.caps})
			o := pitest.ChallengeOptions{BadCapSignature: c.badCapSig}
			if c.presence {
				o.Presence, o.Correct = []string{"A", "B"}, "A"
			}
			nonce := srv.Trigger(o)
			r := pollOne(t, pr)
			if err := pr.Respond(context.Background(), r, approve.Answer{Approve: false, Reason: c.reason}); err != nil {
				t.Fatal(err)
			}
			out, _ := srv.Outcome(nonce)
			if out.State != c.state || out.Form.Get("decline") != "1" || out.Form.Get("decline_reason") != c.sent || out.Form.Has("presence_answer") {
				t.Fatalf("outcome %+v", out)
			}
			if _, has := out.Form["decline_reason"]; has != (c.sent != "") {
				t.Fatalf("decline_reason sent = %v", has)
			}
		})
	}
}

func TestAnswerIsSentOnce(t *testing.T) {
	srv, pr, _, _ := setup(t, pitest.Config{})
	nonce := srv.Trigger(pitest.ChallengeOptions{})
	r := pollOne(t, pr)
	if err := pr.Respond(context.Background(), r, approve.Answer{Approve: true}); err != nil {
		t.Fatal(err)
	}
	if err := pr.Respond(context.Background(), r, approve.Answer{Approve: false, Reason: approve.NotMe}); !errors.Is(err, approve.ErrAnswered) {
		t.Fatalf("second Respond: %v", err)
	}
	if o, _ := srv.Outcome(nonce); o.Posts != 1 || o.State != "accepted" {
		t.Fatalf("outcome %+v", o)
	}
	if err := pr.Respond(context.Background(), approve.Request{ID: "never-polled"}, approve.Answer{Approve: true}); !errors.Is(err, ErrUnknownRequest) {
		t.Fatalf("unknown request: %v", err)
	}
}

func TestExpiredChallenges(t *testing.T) {
	srv, pr, clk, _ := setup(t, pitest.Config{Validity: time.Hour})
	nonce := srv.Trigger(pitest.ChallengeOptions{})
	r := pollOne(t, pr)
	clk.Add(ChallengeLifetime + time.Second)
	if err := pr.Respond(context.Background(), r, approve.Answer{Approve: true}); !errors.Is(err, approve.ErrExpired) {
		t.Fatalf("err = %v, want ErrExpired", err)
	}
	if o, _ := srv.Outcome(nonce); o.Posts != 0 {
		t.Fatalf("an expired answer was sent: %+v", o)
	}
	// The server still lists it (its validity is an hour here): Sesame does
	// not hand an expired challenge out again.
	reqs, err := pr.Poll(context.Background())
	if err != nil || len(reqs) != 0 {
		t.Fatalf("expired challenge came back: %v %v", reqs, err)
	}
	// One that was never answered and expired locally is dropped as well.
	n2 := srv.Trigger(pitest.ChallengeOptions{})
	r2 := pollOne(t, pr)
	if r2.ID != n2 {
		t.Fatal("wrong challenge")
	}
	clk.Add(ChallengeLifetime + time.Second)
	if reqs, _ := pr.Poll(context.Background()); len(reqs) != 0 {
		t.Fatalf("expired challenge came back: %v", reqs)
	}
	if err := pr.Respond(context.Background(), r2, approve.Answer{Approve: true}); !errors.Is(err, approve.ErrAnswered) && !errors.Is(err, approve.ErrExpired) {
		t.Fatalf("answering a dropped expired request: %v", err)
	}
}

func TestServerSideExpiryIsNotListed(t *testing.T) {
	srv, pr, clk, _ := setup(t, pitest.Config{})
	srv.Trigger(pitest.ChallengeOptions{})
	clk.Add(121 * time.Second)
	if reqs, err := pr.Poll(context.Background()); err != nil || len(reqs) != 0 {
		t.Fatalf("%v %v", reqs, err)
	}
}

func TestDisplayCode(t *testing.T) {
	srv, pr, _, _ := setup(t, pitest.Config{})
	srv.Trigger(pitest.ChallengeOptions{DisplayCode: "42"})
	r := pollOne(t, pr)
	if _, ok := pr.DisplayCode(r.ID); ok {
		t.Fatal("display code before answering")
	}
	if err := pr.Respond(context.Background(), r, approve.Answer{Approve: true}); err != nil {
		t.Fatal(err)
	}
	var cd approve.CodeDisplayer = pr
	if c, ok := cd.DisplayCode(r.ID); !ok || c != "42" {
		t.Fatalf("DisplayCode = %q %v", c, ok)
	}
}

func TestPollErrors(t *testing.T) {
	srv, pr, _, p := setup(t, pitest.Config{})
	srv.DenyPolling(true)
	if _, err := pr.pollOnce(context.Background()); !errors.Is(err, ErrPollingDenied) {
		t.Fatalf("err = %v", err)
	}
	srv.DenyPolling(false)
	// A device key the server does not know: "Could not verify signature!"
	other, _ := x509.MarshalPKCS8PrivateKey(testKey(t))
	p.DeviceKey = other
	pr2, err := newProvider(p, Options{}, time.Millisecond, time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := pr2.pollOnce(context.Background()); !errors.Is(err, ErrPollRejected) || !errors.Is(err, approve.ErrBadRequest) {
		t.Fatalf("err = %v", err)
	}
}

func TestNewChecksThePairing(t *testing.T) {
	_, _, _, p := setup(t, pitest.Config{})
	mod := func(f func(*vault.Pairing)) vault.Pairing {
		c := p
		c.Params = map[string]string{}
		for k, v := range p.Params {
			c.Params[k] = v
		}
		f(&c)
		return c
	}
	for name, bad := range map[string]vault.Pairing{
		"provider":             mod(func(c *vault.Pairing) { c.Provider = "sesame" }),
		"device key":           mod(func(c *vault.Pairing) { c.DeviceKey = vault.Secret("junk") }),
		"server key":           mod(func(c *vault.Pairing) { c.ServerKey = []byte("junk") }),
		"serial":               mod(func(c *vault.Pairing) { delete(c.Params, ParamSerial) }),
		"url":                  mod(func(c *vault.Pairing) { c.Params[ParamURL] = "http://example.com/ttype/push" }),
		"unconfirmed insecure": mod(func(c *vault.Pairing) { c.Params[ParamSSLVerify] = "0" }),
	} {
		if _, err := New(bad, Options{}); !errors.Is(err, ErrBadPairing) {
			t.Errorf("%s: err = %v", name, err)
		}
	}
	// PKCS#1 server keys are read too.
	pk, _ := x509.ParsePKIXPublicKey(p.ServerKey)
	if _, err := New(mod(func(c *vault.Pairing) { c.ServerKey = x509.MarshalPKCS1PublicKey(pk.(*rsa.PublicKey)) }), Options{}); err != nil {
		t.Errorf("PKCS#1 server key: %v", err)
	}
}

func TestTLSSelfSignedIsRefused(t *testing.T) {
	srv := pitest.New(t, pitest.Config{KeyBits: testKeyBits, TLS: true})
	asked := false
	_, err := PairWithKey(context.Background(), srv.EnrollURI(), Options{AllowInsecureTLS: func(string) bool { asked = true; return true }}, testKey(t))
	if !errors.Is(err, ErrUntrustedCert) || !errors.Is(err, approve.ErrPairing) {
		t.Fatalf("err = %v, want ErrUntrustedCert", err)
	}
	if asked {
		t.Fatal("sslverify=1 must never offer to skip verification")
	}
	if ok, _, _ := srv.Enrolled(); ok {
		t.Fatal("enrolled over an unverified connection")
	}
}

func TestSSLVerify0NeedsConfirmation(t *testing.T) {
	clk := newClock()
	srv := pitest.New(t, pitest.Config{KeyBits: testKeyBits, TLS: true, SSLVerify: "0", Now: clk.Now})
	for name, allow := range map[string]func(string) bool{"nil": nil, "declined": func(string) bool { return false }} {
		_, err := PairWithKey(context.Background(), srv.EnrollURI(), Options{AllowInsecureTLS: allow}, testKey(t))
		if !errors.Is(err, ErrTLSNotConfirmed) {
			t.Fatalf("%s: err = %v, want ErrTLSNotConfirmed", name, err)
		}
	}
	var asked []string
	opts := Options{Now: clk.Now, AllowInsecureTLS: func(s string) bool { asked = append(asked, s); return true }}
	p, err := PairWithKey(context.Background(), srv.EnrollURI(), opts, testKey(t))
	if err != nil {
		t.Fatal(err)
	}
	if len(asked) != 1 || asked[0] != srv.URL {
		t.Fatalf("asked %v, want once for %s", asked, srv.URL)
	}
	if p.Params[ParamSSLVerify] != "0" || p.Params[ParamInsecureConfirmed] != "1" {
		t.Fatalf("params %v", p.Params)
	}
	pr, err := newProvider(p, Options{Now: clk.Now}, time.Millisecond, 100*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	nonce := srv.Trigger(pitest.ChallengeOptions{})
	r := pollOne(t, pr)
	if err := pr.Respond(context.Background(), r, approve.Answer{Approve: true}); err != nil {
		t.Fatal(err)
	}
	if o, _ := srv.Outcome(nonce); o.State != "accepted" {
		t.Fatalf("outcome %+v", o)
	}
	// The opt-out is for the paired server only: an answer URL elsewhere is verified.
	other := pitest.New(t, pitest.Config{KeyBits: testKeyBits, TLS: true})
	if c := pr.answerClient(wireChallenge{URL: other.RegistrationURL, SSLVerify: "0"}); c == pr.insecure {
		t.Fatal("skipped TLS checks for another server")
	}
	if c := pr.answerClient(wireChallenge{URL: srv.RegistrationURL, SSLVerify: "1"}); c == pr.insecure {
		t.Fatal("skipped TLS checks although the challenge says sslverify=1")
	}
}

// The real sizes once: a 4096-bit device key made by Pair and a 4096-bit server key.
func TestReal4096(t *testing.T) {
	clk := newClock()
	srv := pitest.New(t, pitest.Config{KeyBits: 4096, Now: clk.Now, PIAScheme: true, Capabilities: true})
	opts := Options{Now: clk.Now}
	p, err := Pair(context.Background(), srv.EnrollURI(), opts)
	if err != nil {
		t.Fatal(err)
	}
	dk, _ := x509.ParsePKCS8PrivateKey(p.DeviceKey)
	if b := dk.(*rsa.PrivateKey).N.BitLen(); b != 4096 || dk.(*rsa.PrivateKey).E != 65537 {
		t.Fatalf("device key has %d bits", b)
	}
	prov, err := New(p, opts)
	if err != nil {
		t.Fatal(err)
	}
	pr := prov.(*provider)
	pr.interval = 5 * time.Millisecond
	nonce := srv.Trigger(pitest.ChallengeOptions{})
	r := pollOne(t, pr)
	if err := pr.Respond(context.Background(), r, approve.Answer{Approve: false, Reason: approve.Cancelled}); err != nil {
		t.Fatal(err)
	}
	if o, _ := srv.Outcome(nonce); o.State != "cancelled" {
		t.Fatalf("outcome %+v", o)
	}
}

func TestCapabilitiesCanonicalForm(t *testing.T) {
	// tests/test_lib_tokens_push.py test_02_signed_bytes_reference_vector
	c, err := canonicalJSON([]byte(`{"decline_reason": true}`))
	if err != nil {
		t.Fatal(err)
	}
	doc := `{"capabilities":` + string(c) + `,"nonce":"ABC123"}`
	if doc != `{"capabilities":{"decline_reason":true},"nonce":"ABC123"}` {
		t.Fatalf("got %s", doc)
	}
	for in, want := range map[string]string{
		`{"b":1,"a":[true,null,"x"],"é":{"z":false,"\u00e9":0}}`: `{"a":[true,null,"x"],"b":1,"é":{"z":false,"é":0}}`,
		`"tab\tquote\"slash/\u0001"`:                             `"tab\tquote\"slash/\u0001"`,
		`{"\uffff":2,"\ud83d\ude00":1}`:                          "{\"😀\":1,\"\uffff\":2}",
	} {
		got, err := canonicalJSON([]byte(in))
		if err != nil || string(got) != want {
			t.Errorf("%s: got %s %v, want %s", in, got, err, want)
		}
	}
	for _, in := range []string{`{"a":1,"a":2}`, `{"a":1.5}`, `{"a":1e3}`, `{} {}`, `[`} {
		if _, err := canonicalJSON([]byte(in)); err == nil {
			t.Errorf("%s: accepted", in)
		}
	}
}
