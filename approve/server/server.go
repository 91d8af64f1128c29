// Package server is the reference server of Sesame's sign-in approval
// protocol (docs/protocol.md): an http.Handler with the relying-party API,
// the device API, and optional demo pages.
package server

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sesame-auth/sesame/approve"
)

// Config configures a Handler. Key and Store are required.
type Config struct {
	// Key is the server's signing key. Its fingerprint goes into pairing URIs.
	Key ed25519.PrivateKey
	// Store keeps pairings, devices and requests (OpenBolt or NewMemoryStore).
	Store Store
	// APIKey protects the relying-party API; the API is off when empty.
	APIKey []byte
	// URL is the public base URL that devices use, put into pairing URIs.
	URL string
	// Label names the service in pairing URIs (optional).
	Label string
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Digits is the length of the number to match, 2 (default) or 3.
	Digits int
	// SignInTTL is how long a sign-in request lives: 120 s by default, at most 10 min.
	SignInTTL time.Duration
	// PairingTTL is how long a pairing token lives: 10 min by default.
	PairingTTL time.Duration
	// AllowApprove enables the plain approve/deny mode (no number).
	AllowApprove bool
	// Demo serves the demo sign-in and pairing pages under /demo, which
	// start sign-ins and pairings without the API key: loopback only.
	Demo bool
	// SignInEvery and SignInBurst limit sign-ins per user: a burst of
	// SignInBurst (default 5), then one per SignInEvery (default 10 s).
	SignInEvery time.Duration
	SignInBurst int
	// PairingEvery and PairingBurst limit device registrations per client
	// address: a burst of PairingBurst (default 20), then one per
	// PairingEvery (default 6 s).
	PairingEvery time.Duration
	PairingBurst int
	// DeviceEvery and DeviceBurst limit requests per device: a burst of
	// DeviceBurst (default 30), then one per DeviceEvery (default 200 ms).
	DeviceEvery time.Duration
	DeviceBurst int
	// Logger gets operational events (pairings, not_me answers). Nothing
	// secret is logged. Discarded when nil.
	Logger *slog.Logger
}

// Handler is the reference approval server. Create it with New.
type Handler struct {
	cfg      Config
	pub      ed25519.PublicKey
	fp       string
	now      func() time.Time
	started  time.Time
	store    Store
	hub      *hub
	nonces   *nonceCache
	signins  *limiter
	pairs    *limiter
	devices  *limiter
	mux      *http.ServeMux
	log      *slog.Logger
	closing  chan struct{}
	closeOne sync.Once
}

// Errors from New.
var ErrConfig = errors.New("bad server configuration")

// New checks cfg and returns the handler.
func New(cfg Config) (*Handler, error) {
	if len(cfg.Key) != ed25519.PrivateKeySize {
		return nil, fmt.Errorf("%w: a 64-byte Ed25519 key is required", ErrConfig)
	}
	if cfg.Store == nil {
		return nil, fmt.Errorf("%w: a store is required", ErrConfig)
	}
	if _, err := approve.ParseServerURL(cfg.URL); err != nil {
		return nil, fmt.Errorf("%w: URL: %w", ErrConfig, err)
	}
	if cfg.Digits == 0 {
		cfg.Digits = 2
	}
	if cfg.Digits != 2 && cfg.Digits != 3 {
		return nil, fmt.Errorf("%w: digits must be 2 or 3", ErrConfig)
	}
	if cfg.SignInTTL == 0 {
		cfg.SignInTTL = approve.DefaultSignInTTL
	}
	if cfg.SignInTTL < 10*time.Second || cfg.SignInTTL > approve.MaxSignInTTL {
		return nil, fmt.Errorf("%w: sign-in lifetime must be between 10s and %v", ErrConfig, approve.MaxSignInTTL)
	}
	if cfg.PairingTTL == 0 {
		cfg.PairingTTL = approve.DefaultPairTTL
	}
	if cfg.SignInEvery == 0 {
		cfg.SignInEvery = 10 * time.Second
	}
	if cfg.SignInBurst == 0 {
		cfg.SignInBurst = 5
	}
	if cfg.PairingEvery == 0 {
		cfg.PairingEvery = 6 * time.Second
	}
	if cfg.PairingBurst == 0 {
		cfg.PairingBurst = 20
	}
	if cfg.DeviceEvery == 0 {
		cfg.DeviceEvery = 200 * time.Millisecond
	}
	if cfg.DeviceBurst == 0 {
		cfg.DeviceBurst = 30
	}
	if len(cfg.Label) > approve.MaxFieldLength {
		return nil, fmt.Errorf("%w: label too long", ErrConfig)
	}
	h := &Handler{
		cfg: cfg, pub: cfg.Key.Public().(ed25519.PublicKey), now: cfg.Now, store: cfg.Store,
		hub:     newHub(),
		nonces:  newNonceCache(2*approve.MaxClockSkew+time.Second, 4<<20),
		signins: newLimiter(cfg.SignInEvery, cfg.SignInBurst, 1<<20),
		pairs:   newLimiter(cfg.PairingEvery, cfg.PairingBurst, 1<<16),
		devices: newLimiter(cfg.DeviceEvery, cfg.DeviceBurst, 1<<20),
		mux:     http.NewServeMux(), log: cfg.Logger, closing: make(chan struct{}),
	}
	if h.now == nil {
		h.now = time.Now
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	h.fp = approve.Fingerprint(h.pub)
	h.started = h.now()
	h.routes()
	return h, nil
}

// Fingerprint is the fingerprint of the server's key, as in pairing URIs.
func (h *Handler) Fingerprint() string { return h.fp }

// PublicKey is the server's public signing key.
func (h *Handler) PublicKey() ed25519.PublicKey { return h.pub }

// ServeHTTP serves the API and, with Config.Demo, the demo pages.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set(approve.HeaderTime, strconv.FormatInt(h.now().UnixMilli(), 10))
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	h.mux.ServeHTTP(w, r)
}

// Close ends every long-poll at once (they answer as if their wait was
// over), for a graceful http.Server.Shutdown: register it with
// RegisterOnShutdown. It does not close the store.
func (h *Handler) Close() { h.closeOne.Do(func() { close(h.closing) }) }

func (h *Handler) routes() {
	m := h.mux
	m.HandleFunc("GET /v1/info", h.info)
	m.HandleFunc("POST /v1/pair", h.register)
	m.HandleFunc("GET /v1/device/requests", h.poll)
	m.HandleFunc("POST /v1/device/requests/{id}/answer", h.answer)
	m.HandleFunc("DELETE /v1/device", h.unpairDevice)
	m.HandleFunc("POST /v1/device/unblock", h.unblockDevice)
	m.HandleFunc("POST /v1/rp/pairings", h.rp(h.rpPairing))
	m.HandleFunc("POST /v1/rp/signins", h.rp(h.rpStartSignIn))
	m.HandleFunc("GET /v1/rp/signins/{id}", h.rp(h.rpSignIn))
	m.HandleFunc("GET /v1/rp/users/{user}/devices", h.rp(h.rpDevices))
	m.HandleFunc("DELETE /v1/rp/users/{user}/devices/{id}", h.rp(h.rpRevoke))
	m.HandleFunc("POST /v1/rp/users/{user}/unblock", h.rp(h.rpUnblock))
	if h.cfg.Demo {
		h.demoRoutes()
	}
}

// records kept in the store, as JSON.

type tokenRecord struct {
	User    string    `json:"user"`
	Label   string    `json:"label,omitempty"`
	Expires time.Time `json:"expires"`
}

// Device is a paired device as the relying-party API lists it.
type Device struct {
	ID        string    `json:"id"`
	User      string    `json:"user"`
	Name      string    `json:"name"`
	PublicKey []byte    `json:"public_key"`
	Created   time.Time `json:"created"`
}

type userRecord struct {
	Pending        string    `json:"pending,omitempty"` // ID of the pending request
	Blocked        bool      `json:"blocked,omitempty"`
	BlockedAt      time.Time `json:"blocked_at,omitzero"`
	BlockedRequest string    `json:"blocked_request,omitempty"`
}

type requestRecord struct {
	approve.SignedRequest
	Number    string    `json:"number,omitempty"` // the number to match (server only)
	Status    string    `json:"status"`
	Reason    string    `json:"reason,omitempty"`
	DeviceID  string    `json:"device_id,omitempty"`
	AnswerSig []byte    `json:"answer_sig,omitempty"`
	Answered  time.Time `json:"answered,omitzero"`
}

// status is the request's status at now: a pending request past its expiry is expired.
func (r *requestRecord) status(now time.Time) string {
	if r.Status == approve.StatusPending && now.Unix() >= r.Expires {
		return approve.StatusExpired
	}
	return r.Status
}

func getJSON[T any](tx Tx, bucket, key string) (T, bool, error) {
	var v T
	b := tx.Get(bucket, key)
	if b == nil {
		return v, false, nil
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return v, false, fmt.Errorf("damaged record %s/%s: %w", bucket, key, err)
	}
	return v, true, nil
}

func putJSON(tx Tx, bucket, key string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return tx.Put(bucket, key, b)
}

func randomID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func hashToken(tok []byte) string {
	s := sha256.Sum256(tok)
	return hex.EncodeToString(s[:])
}

// apiError is an error answer with its HTTP status and code.
type apiError struct {
	status int
	code   string
	msg    string
}

func (e *apiError) Error() string { return e.code + ": " + e.msg }

func fail(status int, code, msg string) *apiError { return &apiError{status, code, msg} }

func (h *Handler) writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

func (h *Handler) writeError(w http.ResponseWriter, err error) {
	var ae *apiError
	if !errors.As(err, &ae) {
		h.log.Error("internal error", "err", err)
		ae = fail(http.StatusInternalServerError, approve.CodeUnavailable, "internal error: try again later")
	}
	h.writeJSON(w, ae.status, approve.ErrorResponse{V: approve.Version, Error: ae.code, Message: ae.msg})
}

// writeSigned writes a response to a device request, signed over the
// device's nonce, the status, the server time and the body.
func (h *Handler) writeSigned(w http.ResponseWriter, nonce string, status int, v any) {
	if err, ok := v.(error); ok {
		var ae *apiError
		if !errors.As(err, &ae) {
			h.log.Error("internal error", "err", err)
			ae = fail(http.StatusInternalServerError, approve.CodeUnavailable, "internal error: try again later")
		}
		status = ae.status
		v = approve.ErrorResponse{V: approve.Version, Error: ae.code, Message: ae.msg}
	}
	b, _ := json.Marshal(v)
	ms := strconv.FormatInt(h.now().UnixMilli(), 10)
	sig := ed25519.Sign(h.cfg.Key, approve.ServerResponseSigningBytes(nonce, status, ms, b))
	w.Header().Set(approve.HeaderTime, ms)
	w.Header().Set(approve.HeaderSignature, approve.EncodeB64(sig))
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

func readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, approve.MaxBodyBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, fail(http.StatusRequestEntityTooLarge, approve.CodeTooLarge, "body too large")
		}
		return nil, fail(http.StatusBadRequest, approve.CodeBadRequest, "could not read the body")
	}
	return b, nil
}

func decodeStrict(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	if err := d.Decode(v); err != nil {
		return fail(http.StatusBadRequest, approve.CodeBadRequest, "malformed JSON body")
	}
	if d.More() {
		return fail(http.StatusBadRequest, approve.CodeBadRequest, "trailing data after the JSON body")
	}
	return nil
}

func remoteHost(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

func (h *Handler) info(w http.ResponseWriter, r *http.Request) {
	h.writeJSON(w, http.StatusOK, map[string]any{
		"v": approve.Version, "fingerprint": h.fp, "time": h.now().UnixMilli(), "server_key": []byte(h.pub),
	})
}

// authDevice checks a device request's timestamp, signature and nonce. For
// registration (pub != nil) the key comes from the body; otherwise from the
// device named in the header.
func (h *Handler) authDevice(r *http.Request, body []byte, pub ed25519.PublicKey) (Device, error) {
	var dev Device
	now := h.now()
	nonce := r.Header.Get(approve.HeaderNonce)
	if n, err := approve.DecodeB64(nonce, approve.NonceBytes); err != nil || len(n) != approve.NonceBytes {
		return dev, fail(http.StatusUnauthorized, approve.CodeUnauthorized, "missing or malformed nonce")
	}
	tsText := r.Header.Get(approve.HeaderTimestamp)
	ts, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil || len(tsText) > 12 {
		return dev, fail(http.StatusUnauthorized, approve.CodeUnauthorized, "missing or malformed timestamp")
	}
	t := time.Unix(ts, 0)
	if d := now.Sub(t); d > approve.MaxClockSkew || d < -approve.MaxClockSkew {
		return dev, fail(http.StatusUnauthorized, approve.CodeStaleTimestamp,
			"the request's timestamp is too far from the server's time: check this device's clock")
	}
	sig, err := approve.DecodeB64(r.Header.Get(approve.HeaderSignature), ed25519.SignatureSize)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return dev, fail(http.StatusUnauthorized, approve.CodeUnauthorized, "missing or malformed signature")
	}
	id := r.Header.Get(approve.HeaderDevice)
	if pub == nil {
		if id == "" || len(id) > 64 {
			return dev, fail(http.StatusUnauthorized, approve.CodeUnknownDevice, "unknown device: pair again")
		}
		var ok bool
		err := h.store.View(func(tx Tx) (err error) {
			dev, ok, err = getJSON[Device](tx, bDevices, id)
			return err
		})
		if err != nil {
			return dev, err
		}
		if !ok {
			return dev, fail(http.StatusUnauthorized, approve.CodeUnknownDevice, "unknown device: pair again")
		}
		pub = dev.PublicKey
	} else if id != "" {
		return dev, fail(http.StatusUnauthorized, approve.CodeUnauthorized, "a registration carries no device id")
	}
	msg := approve.DeviceRequestSigningBytes(r.Method, r.URL.EscapedPath(), approve.CanonicalQuery(r.URL.Query()), tsText, nonce, id, body)
	if len(pub) != ed25519.PublicKeySize || !ed25519.Verify(pub, msg, sig) {
		return dev, fail(http.StatusUnauthorized, approve.CodeBadSignature, "the request's signature does not verify")
	}
	who := id
	if who == "" {
		who = "k:" + hex.EncodeToString(pub)
	}
	if !h.devices.allow(who, now) {
		return dev, fail(http.StatusTooManyRequests, approve.CodeRateLimited, "too many requests: slow down")
	}
	switch h.nonces.add(who+"|"+nonce, now) {
	case nonceReplayed:
		return dev, fail(http.StatusUnauthorized, approve.CodeReplayedNonce, "this request was already received (replayed nonce)")
	case nonceFull:
		return dev, fail(http.StatusServiceUnavailable, approve.CodeUnavailable, "the server is overloaded: try again later")
	}
	return dev, nil
}

// nonceOf is the nonce header for signing a response, capped in length.
func nonceOf(r *http.Request) string {
	n := r.Header.Get(approve.HeaderNonce)
	if len(n) > 64 {
		n = n[:64]
	}
	return n
}

func (h *Handler) register(w http.ResponseWriter, r *http.Request) {
	nonce := nonceOf(r)
	if !h.pairs.allow(remoteHost(r), h.now()) {
		h.writeSigned(w, nonce, 0, fail(http.StatusTooManyRequests, approve.CodeRateLimited, "too many pairing attempts: wait a minute"))
		return
	}
	body, err := readBody(w, r)
	if err != nil {
		h.writeSigned(w, nonce, 0, err)
		return
	}
	var req approve.RegisterRequest
	if err := decodeStrict(body, &req); err != nil {
		h.writeSigned(w, nonce, 0, err)
		return
	}
	if req.V != approve.Version || len(req.PublicKey) != ed25519.PublicKeySize || len(req.Name) > approve.MaxFieldLength {
		h.writeSigned(w, nonce, 0, fail(http.StatusBadRequest, approve.CodeBadRequest, "bad registration: unsupported version, key or name"))
		return
	}
	if _, err := h.authDevice(r, body, req.PublicKey); err != nil {
		h.writeSigned(w, nonce, 0, err)
		return
	}
	tok, err := approve.DecodeB64(req.Token, approve.MaxTokenBytes)
	if err != nil || len(tok) < approve.MinTokenBytes {
		h.writeSigned(w, nonce, 0, fail(http.StatusForbidden, approve.CodeTokenInvalid, "unknown, used or expired pairing token"))
		return
	}
	now := h.now()
	dev := Device{ID: randomID(), Name: strings.ToValidUTF8(req.Name, ""), PublicKey: req.PublicKey, Created: now.UTC().Truncate(time.Second)}
	var label string
	err = h.store.Update(func(tx Tx) error {
		key := hashToken(tok)
		t, ok, err := getJSON[tokenRecord](tx, bTokens, key)
		if err != nil {
			return err
		}
		if ok {
			// Consumed whatever happens next: a token is single-use.
			if err := tx.Delete(bTokens, key); err != nil {
				return err
			}
		}
		if !ok || !now.Before(t.Expires) {
			return nil
		}
		dev.User, label = t.User, t.Label
		if err := putJSON(tx, bDevices, dev.ID, dev); err != nil {
			return err
		}
		return tx.Put(bUserDevices, t.User+"\x00"+dev.ID, nil)
	})
	if err != nil {
		h.writeSigned(w, nonce, 0, err)
		return
	}
	if dev.User == "" {
		h.writeSigned(w, nonce, 0, fail(http.StatusForbidden, approve.CodeTokenInvalid, "unknown, used or expired pairing token"))
		return
	}
	h.log.Info("device paired", "user", dev.User, "device", dev.ID)
	h.writeSigned(w, nonce, http.StatusOK, approve.RegisterResponse{V: approve.Version, DeviceID: dev.ID, User: dev.User, ServerKey: h.pub, Label: label})
}

// pendingFor returns the user's pending, unexpired request, if any.
func pendingFor(tx Tx, user string, now time.Time) (*requestRecord, error) {
	u, ok, err := getJSON[userRecord](tx, bUsers, user)
	if err != nil || !ok || u.Pending == "" {
		return nil, err
	}
	req, ok, err := getJSON[requestRecord](tx, bRequests, u.Pending)
	if err != nil || !ok || req.status(now) != approve.StatusPending {
		return nil, err
	}
	return &req, nil
}

func (h *Handler) poll(w http.ResponseWriter, r *http.Request) {
	nonce := nonceOf(r)
	dev, err := h.authDevice(r, nil, nil)
	if err != nil {
		h.writeSigned(w, nonce, 0, err)
		return
	}
	q := r.URL.Query()
	wait := 0
	if s := q.Get("wait"); s != "" {
		wait, err = strconv.Atoi(s)
		if err != nil || wait < 0 {
			h.writeSigned(w, nonce, 0, fail(http.StatusBadRequest, approve.CodeBadRequest, "wait must be a number of seconds"))
			return
		}
	}
	wait = min(wait, int(approve.MaxWait/time.Second))
	since := q.Get("since")
	var timer *time.Timer
	for {
		changed := h.hub.sub(dev.User)
		var req *requestRecord
		err := h.store.View(func(tx Tx) (err error) {
			req, err = pendingFor(tx, dev.User, h.now())
			return err
		})
		if err != nil {
			h.writeSigned(w, nonce, 0, err)
			return
		}
		state := "none"
		if req != nil {
			state = req.ID
		}
		done := state != since || wait == 0
		if !done {
			if timer == nil {
				timer = time.NewTimer(time.Duration(wait) * time.Second)
				defer timer.Stop()
			}
			select {
			case <-changed:
				continue
			case <-timer.C:
				done = true
			case <-h.closing:
				done = true
			case <-r.Context().Done():
				return
			}
		}
		resp := approve.PollResponse{V: approve.Version, Time: h.now().UnixMilli(), State: state, Requests: []approve.SignedRequest{}}
		if req != nil {
			resp.Requests = append(resp.Requests, req.SignedRequest)
		}
		h.writeSigned(w, nonce, http.StatusOK, resp)
		return
	}
}

func (h *Handler) answer(w http.ResponseWriter, r *http.Request) {
	nonce := nonceOf(r)
	body, err := readBody(w, r)
	if err != nil {
		h.writeSigned(w, nonce, 0, err)
		return
	}
	dev, err := h.authDevice(r, body, nil)
	if err != nil {
		h.writeSigned(w, nonce, 0, err)
		return
	}
	var a approve.SignedAnswer
	if err := decodeStrict(body, &a); err != nil {
		h.writeSigned(w, nonce, 0, err)
		return
	}
	if err := a.Check(); err != nil || a.RequestID != r.PathValue("id") || a.DeviceID != dev.ID {
		h.writeSigned(w, nonce, 0, fail(http.StatusBadRequest, approve.CodeBadRequest, "malformed answer"))
		return
	}
	if a.Verify(dev.PublicKey) != nil {
		h.writeSigned(w, nonce, 0, fail(http.StatusUnauthorized, approve.CodeBadSignature, "the answer's signature does not verify"))
		return
	}
	now := h.now()
	var res approve.AnswerResult
	var notMe bool
	err = h.store.Update(func(tx Tx) error {
		req, ok, err := getJSON[requestRecord](tx, bRequests, a.RequestID)
		if err != nil {
			return err
		}
		if !ok || req.User != dev.User {
			return fail(http.StatusNotFound, approve.CodeNotFound, "no such sign-in request")
		}
		if req.Status != approve.StatusPending {
			if req.DeviceID == dev.ID && bytes.Equal(req.AnswerSig, a.Sig) {
				// The same signed answer sent again (a retry after a lost response).
				res = approve.AnswerResult{V: approve.Version, Status: req.Status, Reason: req.Reason}
				return nil
			}
			return fail(http.StatusConflict, approve.CodeAlreadyAnswered, "the sign-in request was already answered")
		}
		if req.status(now) == approve.StatusExpired || a.Time > req.Expires+int64(approve.MaxClockSkew/time.Second) ||
			a.Time < req.Created-int64(approve.MaxClockSkew/time.Second) {
			return fail(http.StatusGone, approve.CodeExpired, "the sign-in request has expired")
		}
		switch {
		case a.Decision == approve.DecisionDeny && a.Reason == string(approve.NotMe):
			req.Status, req.Reason = approve.StatusNotMe, ""
			notMe = true
		case a.Decision == approve.DecisionDeny:
			req.Status, req.Reason = approve.StatusDenied, a.Reason
		case req.Mode == string(approve.ModeApprove):
			req.Status = approve.StatusApproved
		case subtle.ConstantTimeCompare([]byte(a.Number), []byte(req.Number)) == 1:
			req.Status = approve.StatusApproved
		default:
			req.Status, req.Reason = approve.StatusDenied, "wrong_number"
		}
		req.DeviceID, req.AnswerSig, req.Answered = dev.ID, a.Sig, now.UTC()
		if err := putJSON(tx, bRequests, req.ID, req); err != nil {
			return err
		}
		u, _, err := getJSON[userRecord](tx, bUsers, req.User)
		if err != nil {
			return err
		}
		if u.Pending == req.ID {
			u.Pending = ""
		}
		if notMe {
			u.Blocked, u.BlockedAt, u.BlockedRequest = true, now.UTC(), req.ID
		}
		res = approve.AnswerResult{V: approve.Version, Status: req.Status, Reason: req.Reason}
		return putJSON(tx, bUsers, req.User, u)
	})
	if err != nil {
		h.writeSigned(w, nonce, 0, err)
		return
	}
	if notMe {
		h.log.Warn("sign-in reported as not made by the user: further requests blocked", "user", dev.User, "request", a.RequestID, "device", dev.ID)
	}
	h.hub.notify(dev.User)
	h.writeSigned(w, nonce, http.StatusOK, res)
}

func (h *Handler) unpairDevice(w http.ResponseWriter, r *http.Request) {
	nonce := nonceOf(r)
	dev, err := h.authDevice(r, nil, nil)
	if err == nil {
		err = h.deleteDevice(dev.User, dev.ID)
	}
	if err != nil {
		h.writeSigned(w, nonce, 0, err)
		return
	}
	h.writeSigned(w, nonce, http.StatusOK, map[string]any{"v": approve.Version, "deleted": dev.ID})
}

func (h *Handler) unblockDevice(w http.ResponseWriter, r *http.Request) {
	nonce := nonceOf(r)
	dev, err := h.authDevice(r, nil, nil)
	if err == nil {
		err = h.unblock(dev.User, "device "+dev.ID)
	}
	if err != nil {
		h.writeSigned(w, nonce, 0, err)
		return
	}
	h.writeSigned(w, nonce, http.StatusOK, map[string]any{"v": approve.Version, "blocked": false})
}

func (h *Handler) deleteDevice(user, id string) error {
	err := h.store.Update(func(tx Tx) error {
		d, ok, err := getJSON[Device](tx, bDevices, id)
		if err != nil {
			return err
		}
		if !ok || d.User != user {
			return fail(http.StatusNotFound, approve.CodeNotFound, "no such device")
		}
		if err := tx.Delete(bDevices, id); err != nil {
			return err
		}
		return tx.Delete(bUserDevices, user+"\x00"+id)
	})
	if err == nil {
		h.log.Info("device removed", "user", user, "device", id)
	}
	return err
}

func (h *Handler) unblock(user, by string) error {
	err := h.store.Update(func(tx Tx) error {
		u, ok, err := getJSON[userRecord](tx, bUsers, user)
		if err != nil || !ok || !u.Blocked {
			return err
		}
		u.Blocked, u.BlockedAt, u.BlockedRequest = false, time.Time{}, ""
		return putJSON(tx, bUsers, user, u)
	})
	if err == nil {
		h.log.Info("sign-in requests unblocked", "user", user, "by", by)
	}
	return err
}

// --- relying-party API ---

func (h *Handler) rp(fn func(w http.ResponseWriter, r *http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		given, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		a, b := sha256.Sum256([]byte(given)), sha256.Sum256(h.cfg.APIKey)
		if !ok || len(h.cfg.APIKey) == 0 || subtle.ConstantTimeCompare(a[:], b[:]) != 1 {
			h.writeError(w, fail(http.StatusUnauthorized, approve.CodeUnauthorized, "missing or wrong API key (Authorization: Bearer KEY)"))
			return
		}
		if err := fn(w, r); err != nil {
			h.writeError(w, err)
		}
	}
}

// PairingResponse is the relying-party API's answer to creating a pairing.
type PairingResponse struct {
	URI     string    `json:"uri"`
	QRPNG   []byte    `json:"qr_png"` // base64 in JSON
	Expires time.Time `json:"expires"`
}

// CreatePairing issues a single-use pairing token for user and returns the
// pairing URI and its QR code.
func (h *Handler) CreatePairing(user string) (PairingResponse, error) {
	if err := approve.ValidUser(user); err != nil {
		return PairingResponse{}, fail(http.StatusBadRequest, approve.CodeBadRequest, err.Error())
	}
	tok := make([]byte, 32)
	rand.Read(tok)
	exp := h.now().Add(h.cfg.PairingTTL).UTC().Truncate(time.Second)
	err := h.store.Update(func(tx Tx) error {
		return putJSON(tx, bTokens, hashToken(tok), tokenRecord{User: user, Label: h.cfg.Label, Expires: exp})
	})
	if err != nil {
		return PairingResponse{}, err
	}
	uri := approve.PairingURI{Server: strings.TrimRight(h.cfg.URL, "/"), User: user, Token: approve.EncodeB64(tok), Fingerprint: h.fp, Label: h.cfg.Label}.String()
	png, err := qrPNG(uri, 320)
	if err != nil {
		return PairingResponse{}, err
	}
	return PairingResponse{URI: uri, QRPNG: png, Expires: exp}, nil
}

func (h *Handler) rpPairing(w http.ResponseWriter, r *http.Request) error {
	body, err := readBody(w, r)
	if err != nil {
		return err
	}
	var req struct {
		User string `json:"user"`
	}
	if err := decodeStrict(body, &req); err != nil {
		return err
	}
	p, err := h.CreatePairing(req.User)
	if err != nil {
		return err
	}
	h.writeJSON(w, http.StatusCreated, p)
	return nil
}

// SignInRequest is the relying-party API's request to start a sign-in.
type SignInRequest struct {
	User        string `json:"user"`
	Application string `json:"application"`
	IP          string `json:"ip"`
	Location    string `json:"location"`
	UserAgent   string `json:"user_agent"`
	Mode        string `json:"mode,omitempty"`        // type (default), choose, approve
	TTLSeconds  int    `json:"ttl_seconds,omitempty"` // default from the server's configuration
}

// SignInStarted is the answer to starting a sign-in: show Number on the sign-in screen.
type SignInStarted struct {
	ID      string    `json:"id"`
	Number  string    `json:"number,omitempty"`
	Mode    string    `json:"mode"`
	Status  string    `json:"status"`
	Expires time.Time `json:"expires"`
}

// SignInStatus is a sign-in's outcome as the relying party sees it.
type SignInStatus struct {
	ID       string    `json:"id"`
	User     string    `json:"user"`
	Status   string    `json:"status"` // pending, approved, denied, not_me, expired
	Reason   string    `json:"reason,omitempty"`
	Expires  time.Time `json:"expires"`
	Answered time.Time `json:"answered,omitzero"`
}

func randomNumber(digits int) string {
	lo := int64(10)
	if digits == 3 {
		lo = 100
	}
	n, _ := rand.Int(rand.Reader, big.NewInt(lo*9))
	return strconv.FormatInt(lo+n.Int64(), 10)
}

// StartSignIn creates a sign-in request for in.User, replacing the user's
// pending one, and wakes the user's devices.
func (h *Handler) StartSignIn(in SignInRequest) (SignInStarted, error) {
	bad := func(msg string) (SignInStarted, error) {
		return SignInStarted{}, fail(http.StatusBadRequest, approve.CodeBadRequest, msg)
	}
	if err := approve.ValidUser(in.User); err != nil {
		return bad(err.Error())
	}
	for _, f := range []string{in.Application, in.IP, in.Location, in.UserAgent} {
		if len(f) > approve.MaxFieldLength {
			return bad(fmt.Sprintf("fields are limited to %d bytes", approve.MaxFieldLength))
		}
	}
	clean := func(s string) string {
		return strings.Map(func(r rune) rune {
			if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == 0xfffd {
				return -1
			}
			return r
		}, strings.ToValidUTF8(s, ""))
	}
	mode := approve.Mode(in.Mode)
	switch mode {
	case "":
		mode = approve.ModeType
	case approve.ModeType, approve.ModeChoose:
	case approve.ModeApprove:
		if !h.cfg.AllowApprove {
			return SignInStarted{}, fail(http.StatusForbidden, approve.CodeModeDisabled, "the approve mode is disabled on this server")
		}
	default:
		return bad("mode must be type, choose or approve")
	}
	ttl := h.cfg.SignInTTL
	if in.TTLSeconds != 0 {
		ttl = time.Duration(in.TTLSeconds) * time.Second
		if in.TTLSeconds < 10 || ttl > approve.MaxSignInTTL {
			return bad("ttl_seconds must be between 10 and 600")
		}
	}
	now := h.now()
	if !h.signins.allow(in.User, now) {
		return SignInStarted{}, fail(http.StatusTooManyRequests, approve.CodeRateLimited, "too many sign-in requests for this user: wait a little")
	}
	rec := requestRecord{
		SignedRequest: approve.SignedRequest{
			V: approve.Version, ID: randomID(), User: in.User, Application: clean(in.Application), IP: clean(in.IP),
			Location: clean(in.Location), UserAgent: clean(in.UserAgent), Mode: string(mode),
			Created: now.Unix(), Expires: now.Add(ttl).Unix(),
		},
		Status: approve.StatusPending,
	}
	switch mode {
	case approve.ModeType:
		rec.Digits = h.cfg.Digits
		rec.Number = randomNumber(h.cfg.Digits)
	case approve.ModeChoose:
		rec.Number = randomNumber(h.cfg.Digits)
		rec.Choices = []string{rec.Number}
		for len(rec.Choices) < 3 {
			if c := randomNumber(h.cfg.Digits); !containsString(rec.Choices, c) {
				rec.Choices = append(rec.Choices, c)
			}
		}
		j, _ := rand.Int(rand.Reader, big.NewInt(3))
		rec.Choices[0], rec.Choices[j.Int64()] = rec.Choices[j.Int64()], rec.Choices[0]
	}
	rec.Sig = ed25519.Sign(h.cfg.Key, rec.SigningBytes())
	err := h.store.Update(func(tx Tx) error {
		u, _, err := getJSON[userRecord](tx, bUsers, in.User)
		if err != nil {
			return err
		}
		if u.Blocked {
			return fail(http.StatusForbidden, approve.CodeBlocked, "sign-in requests for this user are blocked after a \"this wasn't me\" answer: the user or an operator must clear it")
		}
		has := false
		if err := tx.Scan(bUserDevices, in.User+"\x00", func(string, []byte) error { has = true; return errStop }); err != nil && err != errStop {
			return err
		}
		if !has {
			return fail(http.StatusNotFound, approve.CodeNoDevices, "this user has no paired device: pair one first")
		}
		if u.Pending != "" {
			old, ok, err := getJSON[requestRecord](tx, bRequests, u.Pending)
			if err != nil {
				return err
			}
			if ok && old.Status == approve.StatusPending {
				old.Status, old.Reason = approve.StatusExpired, "replaced"
				if err := putJSON(tx, bRequests, old.ID, old); err != nil {
					return err
				}
			}
		}
		u.Pending = rec.ID
		if err := putJSON(tx, bRequests, rec.ID, rec); err != nil {
			return err
		}
		return putJSON(tx, bUsers, in.User, u)
	})
	if err != nil {
		return SignInStarted{}, err
	}
	h.hub.notify(in.User)
	out := SignInStarted{ID: rec.ID, Mode: rec.Mode, Status: approve.StatusPending, Expires: time.Unix(rec.Expires, 0).UTC()}
	if mode != approve.ModeApprove {
		out.Number = rec.Number
	}
	return out, nil
}

var errStop = errors.New("stop")

func containsString(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func (h *Handler) rpStartSignIn(w http.ResponseWriter, r *http.Request) error {
	body, err := readBody(w, r)
	if err != nil {
		return err
	}
	var in SignInRequest
	if err := decodeStrict(body, &in); err != nil {
		return err
	}
	out, err := h.StartSignIn(in)
	if err != nil {
		return err
	}
	h.writeJSON(w, http.StatusCreated, out)
	return nil
}

// WaitSignIn returns the sign-in's status, waiting up to wait (capped at
// MaxWait) while it is pending.
func (h *Handler) WaitSignIn(ctx context.Context, id string, wait time.Duration) (SignInStatus, error) {
	wait = min(max(wait, 0), approve.MaxWait)
	var timer *time.Timer
	for {
		var rec requestRecord
		var ok bool
		err := h.store.View(func(tx Tx) (err error) {
			rec, ok, err = getJSON[requestRecord](tx, bRequests, id)
			return err
		})
		if err != nil {
			return SignInStatus{}, err
		}
		if !ok {
			return SignInStatus{}, fail(http.StatusNotFound, approve.CodeNotFound, "no such sign-in")
		}
		changed := h.hub.sub(rec.User)
		// Re-read after subscribing so that no change slips between the two.
		err = h.store.View(func(tx Tx) (err error) {
			rec, ok, err = getJSON[requestRecord](tx, bRequests, id)
			return err
		})
		if err != nil {
			return SignInStatus{}, err
		}
		now := h.now()
		st := SignInStatus{ID: rec.ID, User: rec.User, Status: rec.status(now), Reason: rec.Reason, Expires: time.Unix(rec.Expires, 0).UTC(), Answered: rec.Answered}
		if st.Status != approve.StatusPending || wait == 0 {
			return st, nil
		}
		if timer == nil {
			timer = time.NewTimer(wait)
			defer timer.Stop()
		}
		expiry := time.NewTimer(time.Unix(rec.Expires, 0).Sub(now))
		select {
		case <-changed:
		case <-expiry.C:
		case <-timer.C:
			wait = 0
		case <-h.closing:
			wait = 0
		case <-ctx.Done():
			expiry.Stop()
			return SignInStatus{}, ctx.Err()
		}
		expiry.Stop()
	}
}

func (h *Handler) rpSignIn(w http.ResponseWriter, r *http.Request) error {
	wait := 0
	if s := r.URL.Query().Get("wait"); s != "" {
		var err error
		if wait, err = strconv.Atoi(s); err != nil {
			return fail(http.StatusBadRequest, approve.CodeBadRequest, "wait must be a number of seconds")
		}
	}
	st, err := h.WaitSignIn(r.Context(), r.PathValue("id"), time.Duration(wait)*time.Second)
	if err != nil {
		if r.Context().Err() != nil {
			return nil
		}
		return err
	}
	h.writeJSON(w, http.StatusOK, st)
	return nil
}

// Devices lists a user's paired devices.
func (h *Handler) Devices(user string) ([]Device, error) {
	devs := []Device{}
	err := h.store.View(func(tx Tx) error {
		return tx.Scan(bUserDevices, user+"\x00", func(k string, _ []byte) error {
			d, ok, err := getJSON[Device](tx, bDevices, strings.TrimPrefix(k, user+"\x00"))
			if ok {
				devs = append(devs, d)
			}
			return err
		})
	})
	return devs, err
}

func (h *Handler) rpDevices(w http.ResponseWriter, r *http.Request) error {
	user := r.PathValue("user")
	if err := approve.ValidUser(user); err != nil {
		return fail(http.StatusBadRequest, approve.CodeBadRequest, err.Error())
	}
	devs, err := h.Devices(user)
	if err != nil {
		return err
	}
	var blocked bool
	h.store.View(func(tx Tx) error {
		u, _, err := getJSON[userRecord](tx, bUsers, user)
		blocked = u.Blocked
		return err
	})
	h.writeJSON(w, http.StatusOK, map[string]any{"user": user, "devices": devs, "blocked": blocked})
	return nil
}

func (h *Handler) rpRevoke(w http.ResponseWriter, r *http.Request) error {
	if err := h.deleteDevice(r.PathValue("user"), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) rpUnblock(w http.ResponseWriter, r *http.Request) error {
	if err := h.unblock(r.PathValue("user"), "relying party"); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// Prune deletes requests that ended more than a day ago and expired pairing
// tokens. Run it now and then (sesame server does, hourly).
func (h *Handler) Prune() error {
	now := h.now()
	return h.store.Update(func(tx Tx) error {
		var dead []string
		err := tx.Scan(bRequests, "", func(k string, v []byte) error {
			var r requestRecord
			if json.Unmarshal(v, &r) != nil || now.Unix()-r.Expires > 86400 {
				dead = append(dead, k)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range dead {
			if err := tx.Delete(bRequests, k); err != nil {
				return err
			}
		}
		dead = dead[:0]
		err = tx.Scan(bTokens, "", func(k string, v []byte) error {
			var t tokenRecord
			if json.Unmarshal(v, &t) != nil || !now.Before(t.Expires) {
				dead = append(dead, k)
			}
			return nil
		})
		if err != nil {
			return err
		}
		for _, k := range dead {
			if err := tx.Delete(bTokens, k); err != nil {
				return err
			}
		}
		return nil
	})
}
