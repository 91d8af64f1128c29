package sesame

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/approve"
	"github.com/sesame-auth/sesame/vault"
)

var testFP = strings.Repeat("a", 52)

func TestParsePairingURI(t *testing.T) {
	tok := EncodeB64(bytes.Repeat([]byte{7}, 16))
	good := PairingURI{Server: "https://auth.example.com", User: "alice", Token: tok, Fingerprint: testFP, Label: "Example"}
	p, err := ParsePairingURI(good.String())
	if err != nil || p != good {
		t.Fatalf("round trip: %+v %v", p, err)
	}
	bad := map[string]string{
		"http to a remote host": strings.Replace(good.String(), "https%3A%2F%2Fauth", "http%3A%2F%2Fauth", 1),
		"other scheme":          strings.Replace(good.String(), "sesame://", "otpauth://", 1),
		"other host":            strings.Replace(good.String(), "://pair", "://pear", 1),
		"short token":           strings.Replace(good.String(), tok, EncodeB64(make([]byte, 15)), 1),
		"bad fingerprint":       strings.Replace(good.String(), testFP, strings.Repeat("1", 52), 1),
		"version 2":             strings.Replace(good.String(), "v=1", "v=2", 1),
		"no user":               strings.Replace(good.String(), "user=alice", "user=", 1),
		"repeated user":         good.String() + "&user=bob",
		"control in label":      strings.Replace(good.String(), "label=Example", "label=Ex%07ample", 1),
		"too long":              good.String() + "&x=" + strings.Repeat("a", MaxURILength),
	}
	for name, uri := range bad {
		if _, err := ParsePairingURI(uri); err == nil {
			t.Errorf("%s: accepted %q", name, uri)
		}
	}
	loop := good
	loop.Server = "http://127.0.0.1:8440"
	if _, err := ParsePairingURI(loop.String()); err != nil {
		t.Errorf("plain http to loopback: %v", err)
	}
	loop.Server = "http://localhost:8440"
	if _, err := ParsePairingURI(loop.String()); err != nil {
		t.Errorf("plain http to localhost: %v", err)
	}
	if _, err := ParseServerURL("http://192.0.2.1"); !errors.Is(err, approve.ErrInsecure) {
		t.Errorf("http to a remote address: %v, want approve.ErrInsecure", err)
	}
	if !IsPairingURI(good.String()) || IsPairingURI("otpauth://totp/x") {
		t.Error("IsPairingURI")
	}
}

func TestCanonicalIsUnambiguous(t *testing.T) {
	a := Canonical("d", "ab", "c")
	b := Canonical("d", "a", "bc")
	c := Canonical("da", "b", "c")
	if bytes.Equal(a, b) || bytes.Equal(a, c) || bytes.Equal(b, c) {
		t.Fatal("different fields give the same bytes")
	}
	// The domains separate the message kinds.
	r := SignedRequest{V: 1, ID: "x"}
	s := SignedAnswer{V: 1, RequestID: "x"}
	if bytes.Equal(r.SigningBytes(), s.SigningBytes()) || !bytes.HasPrefix(r.SigningBytes()[4:], []byte(DomainRequest)) {
		t.Fatal("domain separation")
	}
	// Changing any field changes the signed bytes of a request.
	base := SignedRequest{V: 1, ID: "i", User: "u", Application: "a", IP: "p", Location: "l", UserAgent: "g", Created: 1, Expires: 2, Mode: "choose", Choices: []string{"11", "22", "33"}}
	muts := []func(*SignedRequest){
		func(r *SignedRequest) { r.ID = "j" }, func(r *SignedRequest) { r.User = "v" }, func(r *SignedRequest) { r.Application = "b" },
		func(r *SignedRequest) { r.IP = "q" }, func(r *SignedRequest) { r.Location = "m" }, func(r *SignedRequest) { r.UserAgent = "h" },
		func(r *SignedRequest) { r.Created = 0 }, func(r *SignedRequest) { r.Expires = 3 }, func(r *SignedRequest) { r.Mode = "type" },
		func(r *SignedRequest) { r.Digits = 3 }, func(r *SignedRequest) { r.Choices = []string{"11", "22"} },
		func(r *SignedRequest) { r.Choices = []string{"11", "22", "34"} },
	}
	for i, m := range muts {
		c := base
		c.Choices = append([]string(nil), base.Choices...)
		m(&c)
		if bytes.Equal(c.SigningBytes(), base.SigningBytes()) {
			t.Errorf("mutation %d does not change the signed bytes", i)
		}
	}
}

func TestBackoff(t *testing.T) {
	half := func(n int64) int64 { return 0 }
	full := func(n int64) int64 { return n - 1 }
	for attempt, want := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second} {
		if got := approve.Backoff(attempt, time.Second, time.Minute, half); got != want/2 {
			t.Errorf("attempt %d low: %v", attempt, got)
		}
		if got := approve.Backoff(attempt, time.Second, time.Minute, full); got >= want || got < want*9/10 {
			t.Errorf("attempt %d high: %v", attempt, got)
		}
	}
	if got := approve.Backoff(40, time.Second, time.Minute, full); got > time.Minute {
		t.Errorf("cap: %v", got)
	}
}

// fakeServer answers device requests with handler-chosen, optionally
// well-signed responses, to test the client against a misbehaving server.
type fakeServer struct {
	key ed25519.PrivateKey
	ts  *httptest.Server
}

func newFake(t *testing.T, h func(w http.ResponseWriter, r *http.Request, sign func(status int, body []byte))) *fakeServer {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	f := &fakeServer{key: key}
	f.ts = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h(w, r, func(status int, body []byte) {
			ms := strconv.FormatInt(time.Now().UnixMilli(), 10)
			w.Header().Set(HeaderTime, ms)
			w.Header().Set(HeaderSignature, EncodeB64(ed25519.Sign(key, ServerResponseSigningBytes(r.Header.Get(HeaderNonce), status, ms, body))))
			w.WriteHeader(status)
			w.Write(body)
		})
	}))
	t.Cleanup(f.ts.Close)
	return f
}

func (f *fakeServer) client(t *testing.T) *Client {
	_, dk, _ := ed25519.GenerateKey(rand.Reader)
	c, err := NewClient(vault.Pairing{ID: "p1", Provider: "sesame", Server: f.ts.URL, User: "alice",
		DeviceKey: vault.Secret(dk.Seed()), ServerKey: f.key.Public().(ed25519.PublicKey), Params: map[string]string{"device_id": "d1"}}, ClientOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func (f *fakeServer) signedRequest(mut func(*SignedRequest)) SignedRequest {
	now := time.Now().Unix()
	r := SignedRequest{V: 1, ID: "r1", User: "alice", Application: "Wiki", Created: now, Expires: now + 120, Mode: "type", Digits: 2}
	if mut != nil {
		mut(&r)
	}
	r.Sig = ed25519.Sign(f.key, r.SigningBytes())
	return r
}

func pollBody(reqs ...SignedRequest) []byte {
	b, _ := json.Marshal(PollResponse{V: 1, Time: time.Now().UnixMilli(), State: "s", Requests: reqs})
	return b
}

func TestClientAgainstAMisbehavingServer(t *testing.T) {
	_, other, _ := ed25519.GenerateKey(rand.Reader)
	cases := []struct {
		name string
		h    func(f *fakeServer) func(w http.ResponseWriter, r *http.Request, sign func(int, []byte))
		want error
	}{
		{"unsigned 500", func(f *fakeServer) func(http.ResponseWriter, *http.Request, func(int, []byte)) {
			return func(w http.ResponseWriter, r *http.Request, sign func(int, []byte)) { w.WriteHeader(500) }
		}, approve.ErrServer},
		{"unsigned 502 from a proxy", func(f *fakeServer) func(http.ResponseWriter, *http.Request, func(int, []byte)) {
			return func(w http.ResponseWriter, r *http.Request, sign func(int, []byte)) {
				w.WriteHeader(502)
				w.Write([]byte("<html>bad gateway</html>"))
			}
		}, approve.ErrServer},
		{"unsigned 200", func(f *fakeServer) func(http.ResponseWriter, *http.Request, func(int, []byte)) {
			return func(w http.ResponseWriter, r *http.Request, sign func(int, []byte)) { w.Write(pollBody()) }
		}, approve.ErrBadSig},
		{"signed garbage", func(f *fakeServer) func(http.ResponseWriter, *http.Request, func(int, []byte)) {
			return func(w http.ResponseWriter, r *http.Request, sign func(int, []byte)) {
				sign(200, []byte("\x00garbage{"))
			}
		}, approve.ErrBadSig},
		{"signed for another nonce (replayed response)", func(f *fakeServer) func(http.ResponseWriter, *http.Request, func(int, []byte)) {
			return func(w http.ResponseWriter, r *http.Request, sign func(int, []byte)) {
				r.Header.Set(HeaderNonce, NewNonce())
				sign(200, pollBody())
			}
		}, approve.ErrBadSig},
		{"request signed by another key", func(f *fakeServer) func(http.ResponseWriter, *http.Request, func(int, []byte)) {
			return func(w http.ResponseWriter, r *http.Request, sign func(int, []byte)) {
				req := f.signedRequest(nil)
				req.Sig = ed25519.Sign(other, req.SigningBytes())
				sign(200, pollBody(req))
			}
		}, approve.ErrBadSig},
		{"request altered after signing", func(f *fakeServer) func(http.ResponseWriter, *http.Request, func(int, []byte)) {
			return func(w http.ResponseWriter, r *http.Request, sign func(int, []byte)) {
				req := f.signedRequest(nil)
				req.Application = "Bank"
				sign(200, pollBody(req))
			}
		}, approve.ErrBadSig},
		{"request for another user", func(f *fakeServer) func(http.ResponseWriter, *http.Request, func(int, []byte)) {
			return func(w http.ResponseWriter, r *http.Request, sign func(int, []byte)) {
				sign(200, pollBody(f.signedRequest(func(r *SignedRequest) { r.User = "mallory" })))
			}
		}, approve.ErrBadSig},
		{"request with a 1-hour lifetime", func(f *fakeServer) func(http.ResponseWriter, *http.Request, func(int, []byte)) {
			return func(w http.ResponseWriter, r *http.Request, sign func(int, []byte)) {
				sign(200, pollBody(f.signedRequest(func(r *SignedRequest) { r.Expires = r.Created + 3600 })))
			}
		}, approve.ErrBadRequest},
		{"huge response", func(f *fakeServer) func(http.ResponseWriter, *http.Request, func(int, []byte)) {
			return func(w http.ResponseWriter, r *http.Request, sign func(int, []byte)) {
				sign(200, bytes.Repeat([]byte(" "), MaxBodyBytes+1))
			}
		}, approve.ErrBadSig},
		{"redirect", func(f *fakeServer) func(http.ResponseWriter, *http.Request, func(int, []byte)) {
			return func(w http.ResponseWriter, r *http.Request, sign func(int, []byte)) {
				http.Redirect(w, r, "http://192.0.2.1/", http.StatusFound)
			}
		}, approve.ErrBadSig},
		{"signed 401 stale timestamp", func(f *fakeServer) func(http.ResponseWriter, *http.Request, func(int, []byte)) {
			return func(w http.ResponseWriter, r *http.Request, sign func(int, []byte)) {
				b, _ := json.Marshal(ErrorResponse{V: 1, Error: CodeStaleTimestamp, Message: "clock"})
				sign(401, b)
			}
		}, approve.ErrClockSkew},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var f *fakeServer
			f = newFake(t, func(w http.ResponseWriter, r *http.Request, sign func(int, []byte)) { c.h(f)(w, r, sign) })
			reqs, err := f.client(t).Poll(context.Background())
			if !errors.Is(err, c.want) || reqs != nil {
				t.Fatalf("Poll = %v, %v; want %v", reqs, err, c.want)
			}
		})
	}
	t.Run("well-behaved", func(t *testing.T) {
		var f *fakeServer
		f = newFake(t, func(w http.ResponseWriter, r *http.Request, sign func(int, []byte)) {
			sign(200, pollBody(f.signedRequest(nil)))
		})
		reqs, err := f.client(t).Poll(context.Background())
		if err != nil || len(reqs) != 1 || reqs[0].ID != "r1" || reqs[0].PairingID != "p1" {
			t.Fatalf("Poll = %+v, %v", reqs, err)
		}
	})
	t.Run("server down", func(t *testing.T) {
		f := newFake(t, nil)
		f.ts.Close()
		if _, err := f.client(t).Poll(context.Background()); !errors.Is(err, approve.ErrServer) {
			t.Fatalf("err = %v", err)
		}
	})
	t.Run("slow server", func(t *testing.T) {
		release := make(chan struct{})
		f := newFake(t, func(w http.ResponseWriter, r *http.Request, sign func(int, []byte)) {
			select {
			case <-release:
			case <-r.Context().Done():
			}
		})
		defer close(release)
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		defer cancel()
		if _, err := f.client(t).Poll(ctx); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestRespondRetriesTheSameAnswerAfter5xx(t *testing.T) {
	var bodies [][]byte
	var nonces []string
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, sign func(int, []byte)) {
		b := new(bytes.Buffer)
		b.ReadFrom(r.Body)
		bodies = append(bodies, b.Bytes())
		nonces = append(nonces, r.Header.Get(HeaderNonce))
		if len(bodies) < 3 {
			w.WriteHeader(503)
			return
		}
		sign(200, []byte(`{"v":1,"status":"approved"}`))
	})
	c := f.client(t)
	r := approve.Request{PairingID: "p1", ID: "r1", Mode: approve.ModeType, Expires: time.Now().Add(time.Minute)}
	if err := c.Respond(context.Background(), r, approve.Answer{Approve: true, Number: "42"}); err != nil {
		t.Fatal(err)
	}
	if len(bodies) != 3 || !bytes.Equal(bodies[0], bodies[2]) || nonces[0] == nonces[2] {
		t.Fatalf("%d attempts; the same signed answer each time with fresh nonces expected", len(bodies))
	}
	var a SignedAnswer
	json.Unmarshal(bodies[2], &a)
	if a.Decision != "approve" || a.Number != "42" || a.RequestID != "r1" || a.DeviceID != "d1" {
		t.Fatalf("answer = %+v", a)
	}
}

func TestRespondRefusesANonNumber(t *testing.T) {
	f := newFake(t, func(w http.ResponseWriter, r *http.Request, sign func(int, []byte)) { t.Error("sent a request") })
	r := approve.Request{PairingID: "p1", ID: "r1", Mode: approve.ModeType}
	if err := f.client(t).Respond(context.Background(), r, approve.Answer{Approve: true, Number: "4a"}); !errors.Is(err, approve.ErrBadRequest) {
		t.Fatalf("err = %v", err)
	}
}

func FuzzParsePairingURI(f *testing.F) {
	f.Add(PairingURI{Server: "https://a.example", User: "u", Token: EncodeB64(make([]byte, 16)), Fingerprint: testFP}.String())
	f.Add("sesame://pair?v=1")
	f.Add("sesame://pair?v=1&server=http%3A%2F%2F%5B%3A%3A1%5D%3A80&user=%00")
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParsePairingURI(s)
		if err != nil {
			return
		}
		again, err := ParsePairingURI(p.String())
		if err != nil || again != p {
			t.Fatalf("round trip of %q: %+v %v", s, again, err)
		}
	})
}

// FuzzPollResponse feeds signed poll responses to the client's decoder.
func FuzzPollResponse(f *testing.F) {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	r := SignedRequest{V: 1, ID: "r1", User: "alice", Created: 1, Expires: 100, Mode: "choose", Choices: []string{"12", "34", "56"}}
	r.Sig = ed25519.Sign(key, r.SigningBytes())
	b, _ := json.Marshal(PollResponse{V: 1, State: "r1", Requests: []SignedRequest{r}})
	f.Add(b)
	f.Add([]byte(`{"v":1,"requests":[{}]}`))
	f.Add([]byte(`{"v":1,"requests":null}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		reqs, _, err := decodePoll(body, key.Public().(ed25519.PublicKey), "alice")
		if err == nil {
			for _, q := range reqs {
				if q.Verify(key.Public().(ed25519.PublicKey)) != nil {
					t.Fatal("accepted an unverified request")
				}
			}
		}
	})
}

func FuzzSignedAnswer(f *testing.F) {
	f.Add([]byte(`{"v":1,"request_id":"r","device_id":"d","decision":"approve","number":"12","time":5,"sig":"AA=="}`))
	f.Add([]byte(`{"v":1,"decision":"deny","reason":"not_me"}`))
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	pub := key.Public().(ed25519.PublicKey)
	f.Fuzz(func(t *testing.T, body []byte) {
		var a SignedAnswer
		if json.Unmarshal(body, &a) != nil {
			return
		}
		if a.Check() == nil && a.Verify(pub) == nil {
			t.Fatal("a random answer verified")
		}
	})
}
