package server

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/approve/sesame"
	"github.com/sesame-auth/sesame/vault/vaulttest"
)

// fuzzRoutes are the server's routes; {req} and {dev} stand for the pending
// request's and the paired device's IDs.
var fuzzRoutes = []struct {
	method, path string
	device, rp   bool // signed by the device; needs the API key
}{
	{"GET", "/v1/info", false, false},
	{"POST", "/v1/pair", true, false},
	{"GET", "/v1/device/requests", true, false},
	{"POST", "/v1/device/requests/{req}/answer", true, false},
	{"DELETE", "/v1/device", true, false},
	{"POST", "/v1/device/unblock", true, false},
	{"POST", "/v1/rp/pairings", false, true},
	{"POST", "/v1/rp/signins", false, true},
	{"GET", "/v1/rp/signins/{req}", false, true},
	{"DELETE", "/v1/rp/signins/{req}", false, true},
	{"GET", "/v1/rp/users/alice/devices", false, true},
	{"DELETE", "/v1/rp/users/alice/devices/{dev}", false, true},
	{"POST", "/v1/rp/users/alice/unblock", false, true},
}

// fuzzServer is a server with one device paired for "alice" and one
// sign-in request pending for her, on a fixed clock.
type fuzzServer struct {
	h     *Handler
	store Store
	now   time.Time
	dev   string
	key   ed25519.PrivateKey
	req   string
}

// handlerTransport serves HTTP requests with h in process.
type handlerTransport struct{ h http.Handler }

func (t handlerTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	w := httptest.NewRecorder()
	t.h.ServeHTTP(w, r)
	return w.Result(), nil
}

// fuzzBase is a store in which "alice" has paired a device, made once per
// process: pairing draws a QR code and takes milliseconds, a fuzz input
// should not.
var fuzzBase struct {
	once    sync.Once
	err     error
	key     ed25519.PrivateKey
	dev     string
	devKey  ed25519.PrivateKey
	records map[[2]string][]byte // bucket and key: value
}

var fuzzNow = time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC)

func fuzzConfig(key ed25519.PrivateKey, st Store) Config {
	return Config{Key: key, Store: st, APIKey: []byte(testAPIKey), URL: "http://127.0.0.1:8440",
		Now: func() time.Time { return fuzzNow }, DeviceEvery: time.Nanosecond, DeviceBurst: 1 << 30,
		PairingEvery: time.Nanosecond, PairingBurst: 1 << 30, SignInEvery: time.Nanosecond, SignInBurst: 1 << 30}
}

func pairFuzzBase() error {
	_, fuzzBase.key, _ = ed25519.GenerateKey(rand.Reader)
	st := NewMemoryStore()
	h, err := New(fuzzConfig(fuzzBase.key, st))
	if err != nil {
		return err
	}
	pr, err := h.CreatePairing("alice")
	if err != nil {
		return err
	}
	p, err := sesame.Pair(context.Background(), pr.URI, sesame.ClientOptions{
		HTTPClient: &http.Client{Transport: handlerTransport{h}}, Now: func() time.Time { return fuzzNow }})
	if err != nil {
		return err
	}
	fuzzBase.dev, fuzzBase.devKey = p.Params["device_id"], ed25519.NewKeyFromSeed(p.DeviceKey)
	fuzzBase.records = map[[2]string][]byte{}
	return st.View(func(tx Tx) error {
		for _, b := range buckets {
			if err := tx.Scan(b, "", func(k string, v []byte) error {
				fuzzBase.records[[2]string{b, k}] = bytes.Clone(v)
				return nil
			}); err != nil {
				return err
			}
		}
		return nil
	})
}

func newFuzzServer(t testing.TB) *fuzzServer {
	t.Helper()
	fuzzBase.once.Do(func() { fuzzBase.err = pairFuzzBase() })
	if fuzzBase.err != nil {
		t.Fatal(fuzzBase.err)
	}
	st := NewMemoryStore()
	if err := st.Update(func(tx Tx) error {
		for bk, v := range fuzzBase.records {
			if err := tx.Put(bk[0], bk[1], bytes.Clone(v)); err != nil {
				return err
			}
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	h, err := New(fuzzConfig(fuzzBase.key, st))
	if err != nil {
		t.Fatal(err)
	}
	started, err := h.StartSignIn(SignInRequest{User: "alice", Application: "Wiki", IP: "192.0.2.7"})
	if err != nil {
		t.Fatal(err)
	}
	return &fuzzServer{h: h, store: st, now: fuzzNow, dev: fuzzBase.dev, key: fuzzBase.devKey, req: started.ID}
}

// fill puts the IDs and the time into a path or body template.
func (s *fuzzServer) fill(b []byte) []byte {
	r := strings.NewReplacer("{req}", s.req, "{dev}", s.dev, "{now}", itoa(int(s.now.Unix())))
	return []byte(r.Replace(string(b)))
}

// fuzzServerSeeds are requests of each kind: a poll, answers of each
// decision, a registration, a sign-in, and damaged records of the device,
// the request and the user.
func fuzzServerSeeds() [][]any {
	var out [][]any
	answer := []byte(`{"v":1,"request_id":"{req}","device_id":"{dev}","decision":"approve","number":"42","time":{now}}`)
	out = append(out, []any{uint8(0), "", []byte(nil), false, uint8(0), []byte(nil)})
	out = append(out, []any{uint8(2), "wait=0&since=0", []byte(nil), true, uint8(0), []byte(nil)})
	out = append(out, []any{uint8(3), "", answer, true, uint8(0), []byte(nil)})
	out = append(out, []any{uint8(3), "", []byte(`{"v":1,"request_id":"{req}","device_id":"{dev}","decision":"deny","reason":"not_me","time":{now}}`), true, uint8(0), []byte(nil)})
	out = append(out, []any{uint8(3), "", answer, true, uint8(2), []byte(`{"id":"{req}","user":"alice","expires":1}`)})
	out = append(out, []any{uint8(2), "", []byte(nil), true, uint8(1), []byte(`{"id":"{dev}","user":"alice","public_key":"AAAA"}`)})
	out = append(out, []any{uint8(5), "", []byte(nil), true, uint8(3), []byte(`{"blocked_by":"x"}`)})
	out = append(out, []any{uint8(1), "", []byte(`{"token":"abc","public_key":"AAAA","name":"n"}`), true, uint8(0), []byte(nil)})
	out = append(out, []any{uint8(7), "", []byte(`{"user":"alice","application":"Wiki","ip":"192.0.2.7","mode":"choose"}`), true, uint8(0), []byte(nil)})
	out = append(out, []any{uint8(8), "wait=5", []byte(nil), true, uint8(2), []byte(`null`)})
	out = append(out, []any{uint8(11), "", []byte(nil), true, uint8(1), []byte(`[]`)})
	return out
}

// TestSeedCorpora keeps the committed seed corpus of FuzzServerRequests
// (see vaulttest.SeedCorpus; rewrite it with -write-corpus).
func TestSeedCorpora(t *testing.T) {
	vaulttest.SeedCorpus(t, "FuzzServerRequests", fuzzServerSeeds()...)
}

// FuzzServerRequests sends arbitrary requests to every route of the server:
// any query and body, signed by the paired device (so that they get past
// the signature to the body) or not, with the store's records of the device,
// the request or the user damaged first. The server must never panic,
// must answer with a status it documents, must refuse unsigned device
// requests and relying-party calls without the API key, and must sign every
// answer to a device that it does not refuse unverified.
func FuzzServerRequests(f *testing.F) {
	for _, a := range fuzzServerSeeds() {
		f.Add(a[0].(uint8), a[1].(string), a[2].([]byte), a[3].(bool), a[4].(uint8), a[5].([]byte))
	}
	f.Fuzz(func(t *testing.T, route uint8, query string, body []byte, sign bool, damage uint8, record []byte) {
		s := newFuzzServer(t)
		rt := fuzzRoutes[int(route)%len(fuzzRoutes)]
		record = s.fill(record)
		if damage%4 != 0 {
			target := map[uint8][2]string{1: {bDevices, s.dev}, 2: {bRequests, s.req}, 3: {bUsers, "alice"}}[damage%4]
			bucket, key := target[0], target[1]
			if err := s.store.Update(func(tx Tx) error { return tx.Put(bucket, key, record) }); err != nil {
				t.Fatal(err)
			}
		}
		u, err := url.Parse("http://127.0.0.1:8440" + string(s.fill([]byte(rt.path))))
		if err != nil {
			t.Fatal(err)
		}
		q, err := url.ParseQuery(query)
		if err != nil {
			return
		}
		u.RawQuery = q.Encode()
		body = s.fill(body)
		if rt.path == "/v1/device/requests/{req}/answer" && sign {
			var a sesame.SignedAnswer
			if json.Unmarshal(body, &a) == nil && len(a.Sig) == 0 {
				a.Sig = ed25519.Sign(s.key, a.SigningBytes())
				body, _ = json.Marshal(a)
			}
		}
		req := httptest.NewRequest(rt.method, u.String(), bytes.NewReader(body))
		// Long polls end at once: the fuzzer looks for crashes, not waits.
		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		req = req.WithContext(ctx)
		nonce := sesame.EncodeB64(bytes.Repeat([]byte{byte(len(body))}, sesame.NonceBytes))
		switch {
		case rt.device && sign && rt.path == "/v1/pair":
			sesame.SignHTTP(req, "", s.key, body, s.now, nonce)
		case rt.device && sign:
			sesame.SignHTTP(req, s.dev, s.key, body, s.now, nonce)
		case rt.rp && sign:
			req.Header.Set("Authorization", "Bearer "+testAPIKey)
		}
		w := httptest.NewRecorder()
		s.h.ServeHTTP(w, req)
		res := w.Result()
		if res.StatusCode < 200 || res.StatusCode > 599 {
			t.Fatalf("%s %s: status %d", rt.method, rt.path, res.StatusCode)
		}
		ok := res.StatusCode < 300
		switch {
		case rt.device && !sign && ok:
			t.Fatalf("%s %s without a signature: status %d", rt.method, rt.path, res.StatusCode)
		case rt.rp && !sign && ok:
			t.Fatalf("%s %s without the API key: status %d", rt.method, rt.path, res.StatusCode)
		}
		if len(w.Body.Bytes()) > 0 && !json.Valid(w.Body.Bytes()) {
			t.Fatalf("%s %s: status %d with a body that is not JSON: %q", rt.method, rt.path, res.StatusCode, w.Body.Bytes())
		}
		// Errors about requests not yet verified are not signed; every other
		// answer to a device is.
		if rt.device && sign && (ok || res.Header.Get(sesame.HeaderSignature) != "") {
			if _, err := sesame.VerifyResponse(s.h.PublicKey(), nonce, res.StatusCode, res.Header, w.Body.Bytes()); err != nil {
				t.Fatalf("%s %s: status %d, the answer to a signed device request does not verify: %v", rt.method, rt.path, res.StatusCode, err)
			}
		}
	})
}
