// Package pitest is a fake privacyIDEA server for tests: the /ttype/push
// endpoint of a PUSH token in poll-only mode, written from privacyIDEA's
// published formats (privacyidea/lib/tokens/pushtoken.py PushTokenClass.
// api_endpoint, _build_smartphone_data, get_init_detail, strip_key,
// _build_verify_object, _check_timestamp_in_range; tests/test_api_push.py)
// and independent of the client code it tests. It verifies every signature
// the device sends the way the server does, and can be told to misbehave.
package pitest

import (
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/subtle"
	"crypto/x509"
	"encoding/base32"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"encoding/pem"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Config sets up a fake server.
type Config struct {
	KeyBits   int              // server key size; 2048 when 0
	TLS       bool             // serve HTTPS with httptest's self-signed certificate
	Now       func() time.Time // the server's clock; time.Now when nil
	Serial    string           // token serial; PIPU0001A2B3 when empty
	Label     string           // QR label; the serial when empty
	Issuer    string           // QR issuer; privacyIDEA when empty
	SSLVerify string           // sslverify in the QR and the challenges; "1" when empty
	Validity  time.Duration    // challenge validity; 120 s (PushChallengeValidityTime) when 0
	// Capabilities makes challenges carry capabilities={"decline_reason": true}
	// and its detached capabilities_signature (push_types.py SERVER_PUSH_CAPABILITIES).
	Capabilities bool
	// PIAScheme makes EnrollURI use pia:// (push_use_pia_scheme).
	PIAScheme bool
}

// EnrollQuirks change the answer to the second enrolment step.
type EnrollQuirks struct {
	KeySpacesForPlus bool   // send '+' in public_key as ' ', as an unescaped form value decodes
	KeyOneLine       bool   // send public_key without the newlines strip_key leaves inside
	KeyAsPEM         bool   // send public_key as a whole PEM block
	RolloutState     string // send this rollout_state instead of "enrolled"
	Status           int    // answer with this HTTP status and a privacyIDEA error
	Garbage          bool   // answer with a body that is not JSON
}

// ChallengeOptions describe a sign-in challenge made by Trigger.
type ChallengeOptions struct {
	Question, Title string
	Presence        []string // options for require_presence mode, the correct one is Correct
	Correct         string
	BadSignature    bool   // sign something else, so the device must drop it
	BadCapSignature bool   // sign the capabilities over another nonce
	DisplayCode     string // code_to_phone: answer an approval with this display_code
	URL             string // answer URL in the challenge; the registration URL when empty
}

// Outcome is what happened to a challenge.
type Outcome struct {
	State          string // pending, accepted, declined, cancelled
	DeclineReason  string
	PresenceAnswer string
	Answers        int        // answer POSTs that verified and changed the state
	Posts          int        // all answer POSTs naming this nonce
	Form           url.Values // the last verified answer
}

// Server is a running fake privacyIDEA server.
type Server struct {
	// URL is the server's base URL; RegistrationURL is URL + "/ttype/push".
	URL, RegistrationURL string
	// HTTP is the underlying test server (its Client trusts its certificate).
	HTTP *httptest.Server

	cfg        Config
	key        *rsa.PrivateKey
	credential string

	mu         sync.Mutex
	state      string // clientwait, enrolled
	devicePub  *rsa.PublicKey
	fbtoken    string
	enrollForm url.Values
	quirks     EnrollQuirks
	denyPoll   bool
	challenges []*challenge
	polls      int
	pollErrors []string
	changed    chan struct{}
}

type challenge struct {
	nonce   string
	opts    ChallengeOptions
	created time.Time
	out     Outcome
}

// New starts a fake server that is closed when the test ends.
func New(t testing.TB, cfg Config) *Server {
	t.Helper()
	if cfg.KeyBits == 0 {
		cfg.KeyBits = 2048
	}
	if cfg.Serial == "" {
		cfg.Serial = "PIPU0001A2B3"
	}
	if cfg.Issuer == "" {
		cfg.Issuer = "privacyIDEA"
	}
	if cfg.SSLVerify == "" {
		cfg.SSLVerify = "1"
	}
	if cfg.Validity == 0 {
		cfg.Validity = 120 * time.Second
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	key, err := rsa.GenerateKey(rand.Reader, cfg.KeyBits)
	if err != nil {
		t.Fatal(err)
	}
	var cred [20]byte
	if _, err := rand.Read(cred[:]); err != nil {
		t.Fatal(err)
	}
	s := &Server{cfg: cfg, key: key, credential: hex.EncodeToString(cred[:]), state: "clientwait", changed: make(chan struct{})}
	mux := http.NewServeMux()
	mux.HandleFunc("/ttype/push", s.handle)
	if cfg.TLS {
		s.HTTP = httptest.NewTLSServer(mux)
	} else {
		s.HTTP = httptest.NewServer(mux)
	}
	t.Cleanup(s.HTTP.Close)
	s.URL = s.HTTP.URL
	s.RegistrationURL = s.URL + "/ttype/push"
	return s
}

// EnrollURI is the QR content of create_push_token_url with the extra data
// of get_init_detail.
func (s *Server) EnrollURI() string {
	scheme := "otpauth"
	if s.cfg.PIAScheme {
		scheme = "pia"
	}
	label := s.cfg.Label
	if label == "" {
		label = s.cfg.Serial
	}
	return fmt.Sprintf("%s://pipush/%s?url=%s&ttl=10&issuer=%s&enrollment_credential=%s&v=1&serial=%s&sslverify=%s&poll_only=True",
		scheme, url.PathEscape(label), url.QueryEscape(s.RegistrationURL), url.QueryEscape(s.cfg.Issuer),
		s.credential, url.QueryEscape(s.cfg.Serial), s.cfg.SSLVerify)
}

// Serial is the token serial.
func (s *Server) Serial() string { return s.cfg.Serial }

// PublicKey is the server's key the device must trust.
func (s *Server) PublicKey() *rsa.PublicKey { return &s.key.PublicKey }

// SetEnrollQuirks changes how the next enrolment is answered.
func (s *Server) SetEnrollQuirks(q EnrollQuirks) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.quirks = q
}

// DenyPolling makes polls fail with privacyIDEA's PolicyError.
func (s *Server) DenyPolling(deny bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.denyPoll = deny
}

// Enrolled reports whether the second step succeeded, with the device's key
// and the form it posted.
func (s *Server) Enrolled() (ok bool, device *rsa.PublicKey, form url.Values) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.state == "enrolled", s.devicePub, s.enrollForm
}

// EnrollAs marks the token enrolled with a device key, skipping step two.
func (s *Server) EnrollAs(pub *rsa.PublicKey) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.state, s.devicePub = "enrolled", pub
}

// Trigger opens a challenge, as /validate/check does, and returns its nonce.
func (s *Server) Trigger(o ChallengeOptions) string {
	if o.Question == "" {
		o.Question = "Do you want to confirm the login?" // DEFAULT_MOBILE_TEXT
	}
	if o.Title == "" {
		o.Title = "privacyIDEA"
	}
	var b [20]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	// create_challenge: b32encode_and_unicode(geturandom())
	nonce := base32.StdEncoding.EncodeToString(b[:])
	s.mu.Lock()
	defer s.mu.Unlock()
	s.challenges = append(s.challenges, &challenge{nonce: nonce, opts: o, created: s.cfg.Now(), out: Outcome{State: "pending"}})
	s.notify()
	return nonce
}

// Outcome returns what happened to a challenge.
func (s *Server) Outcome(nonce string) (Outcome, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range s.challenges {
		if c.nonce == nonce {
			o := c.out
			o.Form = cloneValues(c.out.Form)
			return o, true
		}
	}
	return Outcome{}, false
}

// WaitOutcome waits until the challenge leaves the pending state or the
// deadline passes.
func (s *Server) WaitOutcome(nonce string, timeout time.Duration) (Outcome, bool) {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		ch := s.changed
		s.mu.Unlock()
		if o, ok := s.Outcome(nonce); ok && o.State != "pending" {
			return o, true
		}
		select {
		case <-ch:
		case <-deadline.C:
			o, _ := s.Outcome(nonce)
			return o, false
		}
	}
}

// WaitPolls waits until the server has answered at least n polls.
func (s *Server) WaitPolls(n int, timeout time.Duration) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		ch, got := s.changed, s.polls
		s.mu.Unlock()
		if got >= n {
			return true
		}
		select {
		case <-ch:
		case <-deadline.C:
			return false
		}
	}
}

// Polls returns how many polls verified, and the reasons of refused ones.
func (s *Server) Polls() (ok int, refused []string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.polls, append([]string(nil), s.pollErrors...)
}

func (s *Server) notify() {
	close(s.changed)
	s.changed = make(chan struct{})
}

// handle is PushTokenClass.api_endpoint.
func (s *Server) handle(w http.ResponseWriter, r *http.Request) {
	// Flask's request.all_data merges the query and the form.
	if err := r.ParseForm(); err != nil {
		writeError(w, http.StatusBadRequest, 905, "could not parse the request")
		return
	}
	data := r.Form
	switch r.Method {
	case http.MethodPost:
		if !data.Has("serial") {
			writeError(w, http.StatusBadRequest, 905, "ERR905: Missing parameter: 'serial'")
			return
		}
		switch {
		case data.Has("fbtoken") && data.Has("pubkey"):
			s.enroll(w, data)
		case data.Has("signature"):
			s.answer(w, data)
		default:
			writeError(w, http.StatusBadRequest, 905, "Missing parameters!")
		}
	case http.MethodGet:
		s.poll(w, data)
	default:
		writeError(w, http.StatusMethodNotAllowed, 10, fmt.Sprintf("Method %s not allowed in 'api_endpoint' for push token.", r.Method))
	}
}

// enroll is the second enrolment step: PushTokenClass.update with serial,
// fbtoken and pubkey, then get_init_detail in the enrolled state.
func (s *Server) enroll(w http.ResponseWriter, data url.Values) {
	s.mu.Lock()
	defer s.mu.Unlock()
	q := s.quirks
	if q.Status != 0 {
		writeError(w, q.Status, 601, "ERR601: Invalid enrollment credential. You are not authorized to finalize this token.")
		return
	}
	if q.Garbage {
		w.Header().Set("Content-Type", "text/html")
		fmt.Fprint(w, "<html><body>502 Bad Gateway</body></html>")
		return
	}
	if data.Get("serial") != s.cfg.Serial || s.state != "clientwait" {
		writeError(w, http.StatusNotFound, 601, "No token with this serial number in the rollout state 'clientwait'.")
		return
	}
	if subtle.ConstantTimeCompare([]byte(data.Get("enrollment_credential")), []byte(s.credential)) != 1 {
		writeError(w, http.StatusBadRequest, 905, "ERR905: Invalid enrollment credential. You are not authorized to finalize this token.")
		return
	}
	pub, err := loadDeviceKey(data.Get("pubkey"))
	if err != nil {
		writeError(w, http.StatusBadRequest, 905, "ERR905: Could not load the public key: "+err.Error())
		return
	}
	s.state, s.devicePub, s.fbtoken, s.enrollForm = "enrolled", pub, data.Get("fbtoken"), cloneValues(data)
	s.notify()

	state := "enrolled"
	if q.RolloutState != "" {
		state = q.RolloutState
	}
	pemKey := string(pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&s.key.PublicKey)}))
	key := stripKey(pemKey)
	switch {
	case q.KeyAsPEM:
		key = pemKey
	case q.KeyOneLine:
		key = strings.ReplaceAll(key, "\n", "")
	}
	if q.KeySpacesForPlus {
		key = strings.ReplaceAll(key, "+", " ")
	}
	writeResult(w, true, map[string]any{
		"public_key":    key,
		"rollout_state": state,
		"serial":        s.cfg.Serial,
		"threadid":      140000000000001,
	})
}

// stripKey is pushtoken.py strip_key: drop the PEM header and footer lines and
// keep the newlines inside.
func stripKey(k string) string {
	k = strings.TrimSpace(k)
	if strings.HasPrefix(k, "-----BEGIN") {
		lines := strings.Split(k, "\n")
		return strings.TrimSpace(strings.Join(lines[1:len(lines)-1], "\n"))
	}
	return k
}

// loadDeviceKey is _build_verify_object: the key may come URL-safe, and a
// '+' that arrived unescaped in the form was decoded as a space.
func loadDeviceKey(s string) (*rsa.PublicKey, error) {
	s = strings.NewReplacer("-", "+", "_", "/").Replace(s)
	s = strings.ReplaceAll(strings.TrimSpace(s), " ", "+")
	s = strings.NewReplacer("\n", "", "\r", "").Replace(s)
	der, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		return nil, err
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, err
	}
	pub, ok := k.(*rsa.PublicKey)
	if !ok {
		return nil, fmt.Errorf("not an RSA key")
	}
	return pub, nil
}

var isoRE = regexp.MustCompile(`^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?(Z|[+-]\d{2}(?::?\d{2})?)?$`)

// isoparse reads the ISO 8601 timestamps dateutil's isoparse accepts in the
// extended form; without a zone the time is UTC, as _check_timestamp_in_range
// assumes.
func isoparse(s string) (time.Time, error) {
	m := isoRE.FindStringSubmatch(s)
	if m == nil {
		return time.Time{}, fmt.Errorf("not ISO 8601")
	}
	n := func(i int) int { v, _ := strconv.Atoi(m[i]); return v }
	ns := 0
	if m[7] != "" {
		f := m[7] + strings.Repeat("0", 9-len(m[7]))
		ns, _ = strconv.Atoi(f)
	}
	loc := time.UTC
	if z := m[8]; z != "" && z != "Z" {
		z = strings.ReplaceAll(z, ":", "")
		h, _ := strconv.Atoi(z[1:3])
		mi := 0
		if len(z) == 5 {
			mi, _ = strconv.Atoi(z[3:5])
		}
		off := h*3600 + mi*60
		if z[0] == '-' {
			off = -off
		}
		loc = time.FixedZone("", off)
	}
	t := time.Date(n(1), time.Month(n(2)), n(3), n(4), n(5), n(6), ns, loc)
	if t.Month() != time.Month(n(2)) || t.Day() != n(3) || n(4) > 23 || n(5) > 59 || n(6) > 59 {
		return time.Time{}, fmt.Errorf("not a valid date")
	}
	return t, nil
}

// poll is the GET branch of api_endpoint.
func (s *Server) poll(w http.ResponseWriter, data url.Values) {
	s.mu.Lock()
	defer s.mu.Unlock()
	refuse := func(status, code int, msg string) {
		s.pollErrors = append(s.pollErrors, msg)
		s.notify()
		writeError(w, status, code, msg)
	}
	if s.denyPoll {
		refuse(http.StatusForbidden, 303, "ERR303: Polling not allowed!")
		return
	}
	for _, k := range []string{"serial", "timestamp", "signature"} {
		if !data.Has(k) {
			refuse(http.StatusBadRequest, 905, "ERR905: Missing parameter: "+k)
			return
		}
	}
	serial, ts, sig := data.Get("serial"), data.Get("timestamp"), data.Get("signature")
	t, err := isoparse(ts)
	if err != nil {
		refuse(http.StatusBadRequest, 30, fmt.Sprintf("ERR30: Could not parse timestamp %s. ISO-Format required.", ts))
		return
	}
	now := s.cfg.Now()
	if t.Before(now.Add(-time.Minute)) || t.After(now.Add(time.Minute)) {
		refuse(http.StatusBadRequest, 30, fmt.Sprintf("ERR30: Timestamp %s not in valid range.", ts))
		return
	}
	if serial != s.cfg.Serial || s.state != "enrolled" || !verifyB32(s.devicePub, serial+"|"+ts, sig) {
		refuse(http.StatusBadRequest, 30, "ERR30: Could not verify signature!")
		return
	}
	s.polls++
	s.notify()
	value := []map[string]string{}
	for _, c := range s.challenges {
		if c.out.State != "pending" || !now.Before(c.created.Add(s.cfg.Validity)) {
			continue
		}
		value = append(value, s.smartphoneData(c))
	}
	writeResult(w, value, nil)
}

// smartphoneData is _build_smartphone_data.
func (s *Server) smartphoneData(c *challenge) map[string]string {
	url := c.opts.URL
	if url == "" {
		url = s.RegistrationURL
	}
	d := map[string]string{
		"nonce":     c.nonce,
		"question":  c.opts.Question,
		"serial":    s.cfg.Serial,
		"title":     c.opts.Title,
		"sslverify": s.cfg.SSLVerify,
		"url":       url,
	}
	signStr := d["nonce"] + "|" + d["url"] + "|" + d["serial"] + "|" + d["question"] + "|" + d["title"] + "|" + d["sslverify"]
	if len(c.opts.Presence) > 0 {
		d["require_presence"] = strings.Join(c.opts.Presence, ",")
		d["version"] = "2"
		signStr += "|" + d["require_presence"]
	}
	if c.opts.BadSignature {
		signStr += "|tampered"
	}
	d["signature"] = s.signB32(signStr)
	if s.cfg.Capabilities {
		// SERVER_PUSH_CAPABILITIES_JSON is json.dumps output; the signature
		// covers rfc8785.dumps({"capabilities": ..., "nonce": nonce}).
		d["capabilities"] = `{"decline_reason": true}`
		nonce := c.nonce
		if c.opts.BadCapSignature {
			nonce += "X"
		}
		nb, _ := json.Marshal(nonce)
		d["capabilities_signature"] = s.signB32(`{"capabilities":{"decline_reason":true},"nonce":` + string(nb) + `}`)
	}
	return d
}

// answer is the POST branch with a signature: the device confirms, declines
// or picks a presence option.
func (s *Server) answer(w http.ResponseWriter, data url.Values) {
	s.mu.Lock()
	defer s.mu.Unlock()
	serial := data.Get("serial")
	nonce := data.Get("nonce")
	decline := data.Get("decline") == "1" || strings.EqualFold(data.Get("decline"), "true")
	reason := data.Get("decline_reason")
	presence := data.Get("presence_answer")
	result := false
	var detail map[string]any
	now := s.cfg.Now()
	for _, c := range s.challenges {
		if nonce != "" && c.nonce != nonce {
			continue
		}
		if c.nonce == nonce {
			c.out.Posts++
		}
		if serial != s.cfg.Serial || s.devicePub == nil || c.out.State != "pending" || !now.Before(c.created.Add(s.cfg.Validity)) {
			continue
		}
		signData := c.nonce + "|" + serial
		if decline {
			signData += "|decline"
			if reason != "" {
				signData += "|" + reason
			}
		}
		if presence != "" {
			signData += "|" + presence
		}
		if !verifyB32(s.devicePub, signData, data.Get("signature")) {
			continue
		}
		switch {
		case decline && reason == "cancelled":
			c.out.State = "cancelled"
		case decline:
			c.out.State = "declined"
		case len(c.opts.Presence) > 0 && presence != c.opts.Correct:
			// wrong or missing presence answer: the challenge stays open
			continue
		default:
			c.out.State = "accepted"
			if c.opts.DisplayCode != "" {
				detail = map[string]any{"display_code": c.opts.DisplayCode, "message": "Enter this code"}
			}
		}
		c.out.DeclineReason, c.out.PresenceAnswer = reason, presence
		c.out.Answers++
		c.out.Form = cloneValues(data)
		result = true
		break
	}
	s.notify()
	writeResult(w, result, detail)
}

func (s *Server) signB32(msg string) string {
	h := sha256.Sum256([]byte(msg))
	sig, err := rsa.SignPKCS1v15(rand.Reader, s.key, crypto.SHA256, h[:])
	if err != nil {
		panic(err)
	}
	return base32.StdEncoding.EncodeToString(sig)
}

// verifyB32 is cryptography's verify(b32decode(signature), data, PKCS1v15,
// SHA256); Python's b32decode wants upper case and padding.
func verifyB32(pub *rsa.PublicKey, msg, sigB32 string) bool {
	if pub == nil {
		return false
	}
	sig, err := base32.StdEncoding.DecodeString(sigB32)
	if err != nil {
		return false
	}
	h := sha256.Sum256([]byte(msg))
	return rsa.VerifyPKCS1v15(pub, crypto.SHA256, h[:], sig) == nil
}

func writeResult(w http.ResponseWriter, value any, detail map[string]any) {
	body := map[string]any{
		"id":      1,
		"jsonrpc": "2.0",
		"result":  map[string]any{"status": true, "value": value},
		"time":    1700000000.0,
		"version": "privacyIDEA 3.12",
	}
	if detail != nil {
		body["detail"] = detail
	}
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(body)
}

func writeError(w http.ResponseWriter, status, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]any{
		"id":      1,
		"jsonrpc": "2.0",
		"result":  map[string]any{"status": false, "error": map[string]any{"code": code, "message": msg}},
		"time":    1700000000.0,
		"version": "privacyIDEA 3.12",
	})
}

func cloneValues(v url.Values) url.Values {
	if v == nil {
		return nil
	}
	c := url.Values{}
	for k, vs := range v {
		c[k] = append([]string(nil), vs...)
	}
	return c
}
