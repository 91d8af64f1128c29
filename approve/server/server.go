// Package server is the reference server of Sesame's sign-in approval
// protocol (docs/protocol.md): an http.Handler with the relying-party API,
// the device API, and optional demo pages.
package server

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sesame-auth/sesame/approve/sesame"
)

// Config configures a Handler. Key and Store are required.
type Config struct {
	// Key is the server's signing key. Its fingerprint goes into pairing URIs.
	Key ed25519.PrivateKey
	// Store keeps pairings, devices and requests (OpenBolt, OpenPostgres
	// for several replicas, or NewMemoryStore).
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
	// BodyTimeout is how long a client may take to send a request body once
	// its headers are in: 10 s by default. A slower body is cut off.
	BodyTimeout time.Duration
	// TrustedProxies are the addresses of reverse proxies whose
	// X-Forwarded-For header names the real client, for the per-address
	// limits. Requests from anywhere else are keyed on their own address.
	TrustedProxies []netip.Prefix
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
	shared   sharedStore // nil unless the store is shared with other replicas
	metrics  *metrics
	hub      *hub
	nonces   *nonceCache
	pairs    *limiter
	devices  *limiter
	mux      *http.ServeMux
	log      *slog.Logger
	closing  chan struct{}
	closeOne sync.Once
	parking  parking
}

// DefaultBodyTimeout is Config.BodyTimeout's default.
const DefaultBodyTimeout = 10 * time.Second

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
	if _, err := sesame.ParseServerURL(cfg.URL); err != nil {
		return nil, fmt.Errorf("%w: URL: %w", ErrConfig, err)
	}
	if cfg.Digits == 0 {
		cfg.Digits = 2
	}
	if cfg.Digits != 2 && cfg.Digits != 3 {
		return nil, fmt.Errorf("%w: digits must be 2 or 3", ErrConfig)
	}
	if cfg.SignInTTL == 0 {
		cfg.SignInTTL = sesame.DefaultSignInTTL
	}
	if cfg.SignInTTL < 10*time.Second || cfg.SignInTTL > sesame.MaxSignInTTL {
		return nil, fmt.Errorf("%w: sign-in lifetime must be between 10s and %v", ErrConfig, sesame.MaxSignInTTL)
	}
	if cfg.PairingTTL == 0 {
		cfg.PairingTTL = sesame.DefaultPairTTL
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
	if cfg.BodyTimeout == 0 {
		cfg.BodyTimeout = DefaultBodyTimeout
	}
	if len(cfg.Label) > sesame.MaxFieldLength {
		return nil, fmt.Errorf("%w: label too long", ErrConfig)
	}
	h := &Handler{
		cfg: cfg, pub: cfg.Key.Public().(ed25519.PublicKey), now: cfg.Now, store: cfg.Store,
		hub:     newHub(),
		nonces:  newNonceCache(nonceLife, 4<<20),
		metrics: newMetrics(),
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
	if sh, ok := cfg.Store.(sharedStore); ok {
		h.shared = sh
		sh.subscribe(h.hub.notify, h.hub.notifyAll)
	}
	h.fp = sesame.Fingerprint(h.pub)
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
	h.commonHeaders(w.Header())
	h.mux.ServeHTTP(w, r)
}

// commonHeaders sets the headers of every response.
func (h *Handler) commonHeaders(hdr http.Header) {
	hdr.Set(sesame.HeaderTime, strconv.FormatInt(h.now().UnixMilli(), 10))
	hdr.Set("Cache-Control", "no-store")
	hdr.Set("X-Content-Type-Options", "nosniff")
}

// Close ends every long-poll at once (a device's with 503 and a retry hint,
// a relying party's as if its wait was over), for a graceful
// http.Server.Shutdown: register it with RegisterOnShutdown, and wait for
// the parked long-polls with Shutdown. It does not close the store.
func (h *Handler) Close() {
	h.closeOne.Do(func() {
		close(h.closing)
		h.hub.notifyAll()
	})
}

func (h *Handler) routes() {
	m := h.mux
	h.opsRoutes()
	m.HandleFunc("GET /v1/info", h.info)
	m.HandleFunc("POST /v1/pair", h.register)
	m.HandleFunc("GET /v1/device/requests", h.poll)
	m.HandleFunc("POST /v1/device/requests/{id}/answer", h.answer)
	m.HandleFunc("DELETE /v1/device", h.unpairDevice)
	m.HandleFunc("POST /v1/device/unblock", h.unblockDevice)
	m.HandleFunc("POST /v1/rp/pairings", h.rp(h.rpPairing))
	m.HandleFunc("POST /v1/rp/signins", h.rp(h.rpStartSignIn))
	m.HandleFunc("GET /v1/rp/signins/{id}", h.rp(h.rpSignIn))
	m.HandleFunc("DELETE /v1/rp/signins/{id}", h.rp(h.rpCancelSignIn))
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
	// SignIns limits the user's sign-ins, on every replica at once.
	SignIns tokenBucket `json:"signins,omitzero"`
}

type requestRecord struct {
	sesame.SignedRequest
	Number    string    `json:"number,omitempty"` // the number to match (server only)
	Status    string    `json:"status"`
	Reason    string    `json:"reason,omitempty"`
	DeviceID  string    `json:"device_id,omitempty"`
	AnswerSig []byte    `json:"answer_sig,omitempty"`
	Answered  time.Time `json:"answered,omitzero"`
	Started   time.Time `json:"started,omitzero"` // when it was started, for the delivery latency metric
}

// status is the request's status at now: a pending request past its expiry is expired.
func (r *requestRecord) status(now time.Time) string {
	if r.Status == sesame.StatusPending && now.Unix() >= r.Expires {
		return sesame.StatusExpired
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
	// unsigned marks a refusal of a request that was not authenticated (a
	// device request whose signature was not, or could not be, verified; a
	// wrong API key): the server signs nothing in reply to it, so that nobody
	// can have it sign a response to another device's nonce, and closes the
	// connection instead of reading the rest of the body.
	unsigned bool
}

func (e *apiError) Error() string { return e.code + ": " + e.msg }

func fail(status int, code, msg string) *apiError {
	return &apiError{status: status, code: code, msg: msg}
}

// unsigned is fail for a refusal that is not signed (see apiError.unsigned).
func unsigned(status int, code, msg string) *apiError {
	return &apiError{status: status, code: code, msg: msg, unsigned: true}
}

func (h *Handler) writeJSON(w http.ResponseWriter, status int, v any) {
	b, _ := json.Marshal(v)
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

func (h *Handler) writeError(w http.ResponseWriter, err error) {
	ae := h.apiErr(err)
	if ae.unsigned {
		// Refused before the client was authenticated: close the connection
		// rather than wait for (and discard) the rest of a body.
		w.Header().Set("Connection", "close")
	}
	h.writeJSON(w, ae.status, sesame.ErrorResponse{V: sesame.Version, Error: ae.code, Message: ae.msg})
}

// apiErr is err as an answer: an apiError as it is, a store that cannot be
// reached as 503 unavailable, anything else as an internal error.
func (h *Handler) apiErr(err error) *apiError {
	var ae *apiError
	switch {
	case errors.As(err, &ae):
		return ae
	case errors.Is(err, ErrUnavailable):
		h.log.Warn("database unavailable", "err", err)
		return fail(http.StatusServiceUnavailable, sesame.CodeUnavailable, "the server's database is unavailable: try again later")
	}
	h.log.Error("internal error", "err", err)
	return fail(http.StatusInternalServerError, sesame.CodeUnavailable, "internal error: try again later")
}

// writeSigned writes a response to a device request, signed over the
// device's nonce, the status, the server time and the body.
func (h *Handler) writeSigned(w http.ResponseWriter, nonce string, status int, v any) {
	if err, ok := v.(error); ok {
		ae := h.apiErr(err)
		if ae.unsigned {
			h.writeError(w, err)
			return
		}
		status = ae.status
		v = sesame.ErrorResponse{V: sesame.Version, Error: ae.code, Message: ae.msg}
	}
	b, _ := json.Marshal(v)
	ms := strconv.FormatInt(h.now().UnixMilli(), 10)
	sig := ed25519.Sign(h.cfg.Key, sesame.ServerResponseSigningBytes(nonce, status, ms, b))
	w.Header().Set(sesame.HeaderTime, ms)
	w.Header().Set(sesame.HeaderSignature, sesame.EncodeB64(sig))
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(b)
}

// readBody reads a request body of at most MaxBodyBytes within
// Config.BodyTimeout (a deadline on the connection, in real time). Its errors
// are unsigned: a body is read before a device's signature is checked.
func (h *Handler) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	rc := http.NewResponseController(w)
	// ErrNotSupported only for writers that are not a real connection (tests'
	// recorders), which have no slow client to cut off.
	_ = rc.SetReadDeadline(time.Now().Add(h.cfg.BodyTimeout))
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, sesame.MaxBodyBytes))
	_ = rc.SetReadDeadline(time.Time{})
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return nil, unsigned(http.StatusRequestEntityTooLarge, sesame.CodeTooLarge, "body too large")
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			return nil, unsigned(http.StatusRequestTimeout, sesame.CodeBadRequest, "the body took too long to arrive")
		}
		return nil, unsigned(http.StatusBadRequest, sesame.CodeBadRequest, "could not read the body")
	}
	return b, nil
}

func decodeStrict(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	if err := d.Decode(v); err != nil {
		return fail(http.StatusBadRequest, sesame.CodeBadRequest, "malformed JSON body")
	}
	if d.More() {
		return fail(http.StatusBadRequest, sesame.CodeBadRequest, "trailing data after the JSON body")
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

// clientAddr is the client's address for the per-address limits: the
// connection's peer, or, when the peer is a trusted proxy, the last address
// in X-Forwarded-For that is not itself a trusted proxy.
func (h *Handler) clientAddr(r *http.Request) string {
	host := remoteHost(r)
	if !trusted(h.cfg.TrustedProxies, host) {
		return host
	}
	hops := strings.Split(strings.Join(r.Header.Values("X-Forwarded-For"), ","), ",")
	for i := len(hops) - 1; i >= 0; i-- {
		hop := strings.TrimSpace(hops[i])
		ip, err := netip.ParseAddr(hop)
		if err != nil {
			return host // a malformed list: key on the proxy itself
		}
		if !trusted(h.cfg.TrustedProxies, hop) {
			return ip.Unmap().String()
		}
	}
	return host
}

// trusted reports whether host is an address inside one of the prefixes.
func trusted(prefixes []netip.Prefix, host string) bool {
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	ip = ip.Unmap()
	for _, p := range prefixes {
		if p.Contains(ip) {
			return true
		}
	}
	return false
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
