// Package sesame is Sesame's own sign-in approval protocol, device side: the
// wire format and signatures of docs/protocol.md, pairing, and the client
// that is its approve.Provider. The reference server (approve/server) speaks
// it too.
package sesame

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/sesame-auth/sesame/approve"
	"github.com/sesame-auth/sesame/approve/rp"
	"github.com/sesame-auth/sesame/vault/safetext"
)

// Version is the protocol version carried in every message ("v") and in the
// signing domains. See docs/protocol.md.
const Version = 1

// ProviderName is the vault.Pairing.Provider value of Sesame's own protocol.
const ProviderName = "sesame"

// Protocol limits. Every length that comes from the wire is capped.
const (
	MaxBodyBytes     = 64 << 10 // any request or response body
	MaxURILength     = 2048     // a pairing URI
	MaxUserLength    = 128      // a user name, in bytes
	MaxFieldLength   = 256      // application, location, user agent, label, in bytes
	MaxRequests      = 16       // requests in one poll response
	MaxWait          = 30 * time.Second
	MaxClockSkew     = 60 * time.Second // the server rejects device timestamps further off
	MinTokenBytes    = 16               // 128 bits
	MaxTokenBytes    = 64
	NonceBytes       = 16
	DefaultPairTTL   = 10 * time.Minute
	DefaultSignInTTL = 120 * time.Second
	MaxSignInTTL     = 10 * time.Minute
)

// HTTP headers of the protocol.
const (
	HeaderDevice    = "Sesame-Device"    // device ID (empty while registering)
	HeaderTimestamp = "Sesame-Timestamp" // device's Unix time in seconds
	HeaderNonce     = "Sesame-Nonce"     // 16 random bytes, base64url without padding
	HeaderSignature = "Sesame-Signature" // base64url Ed25519 signature, without padding
	HeaderTime      = "Sesame-Time"      // server's Unix time in milliseconds, on every response
)

// Signing domains: every signed message starts with one, so that a signature
// made for one purpose can never be taken for another.
const (
	DomainDeviceRequest  = "sesame-approve/v1 device-request"
	DomainServerResponse = "sesame-approve/v1 server-response"
	DomainRequest        = "sesame-approve/v1 sign-in-request"
	DomainAnswer         = "sesame-approve/v1 answer"
)

// Decisions and statuses on the wire.
const (
	DecisionApprove = "approve"
	DecisionDeny    = "deny"

	StatusPending  = rp.StatusPending
	StatusApproved = rp.StatusApproved
	StatusDenied   = rp.StatusDenied
	StatusNotMe    = rp.StatusNotMe
	StatusExpired  = rp.StatusExpired
)

// Error codes in ErrorResponse.Error.
const (
	CodeBadRequest      = "bad_request"
	CodeUnauthorized    = "unauthorized"
	CodeStaleTimestamp  = "stale_timestamp"
	CodeReplayedNonce   = "replayed_nonce"
	CodeBadSignature    = "bad_signature"
	CodeUnknownDevice   = "unknown_device"
	CodeNotFound        = "not_found"
	CodeAlreadyAnswered = "already_answered"
	CodeExpired         = "expired"
	CodeBlocked         = "blocked"
	CodeRateLimited     = "rate_limited"
	CodeTokenInvalid    = "token_invalid"
	CodeModeDisabled    = "mode_disabled"
	CodeNoDevices       = "no_devices"
	CodeTooLarge        = "too_large"
	CodeUnavailable     = "unavailable"
)

// More errors of Sesame's own protocol, next to the shared ones in provider.go.
var (
	ErrNotPairingURI = errors.New("not a Sesame pairing URI (sesame://pair?...)")
	ErrFingerprint   = errors.New("the server's key does not match the fingerprint in the pairing URI: pairing refused")
)

// ErrorResponse is the body of every non-2xx answer of the server.
type ErrorResponse struct {
	V       int    `json:"v"`
	Error   string `json:"error"`   // one of the Code constants
	Message string `json:"message"` // for people
}

// SignedRequest is a sign-in request as the server sends it to devices. Sig
// is the server's signature over RequestSigningBytes.
type SignedRequest struct {
	V           int      `json:"v"`
	ID          string   `json:"id"`
	User        string   `json:"user"`
	Application string   `json:"application"`
	IP          string   `json:"ip"`
	Location    string   `json:"location"`
	UserAgent   string   `json:"user_agent"`
	Created     int64    `json:"created"` // Unix seconds
	Expires     int64    `json:"expires"` // Unix seconds
	Mode        string   `json:"mode"`
	Digits      int      `json:"digits,omitempty"`  // for type: how many digits to ask for
	Choices     []string `json:"choices,omitempty"` // for choose: the three numbers
	Sig         []byte   `json:"sig"`
}

// PollResponse is the answer to GET /v1/device/requests.
type PollResponse struct {
	V        int             `json:"v"`
	Time     int64           `json:"time"`  // server's Unix time in milliseconds
	State    string          `json:"state"` // opaque: send it back as ?since= to wait for a change
	Requests []SignedRequest `json:"requests"`
}

// SignedAnswer is a device's decision on a request, signed by the device over
// AnswerSigningBytes.
type SignedAnswer struct {
	V         int    `json:"v"`
	RequestID string `json:"request_id"`
	DeviceID  string `json:"device_id"`
	Decision  string `json:"decision"`         // approve or deny
	Reason    string `json:"reason,omitempty"` // not_me or cancelled, with deny
	Number    string `json:"number,omitempty"` // typed or chosen number
	Time      int64  `json:"time"`             // Unix seconds
	Sig       []byte `json:"sig"`
}

// AnswerResult is the server's reply to an answer.
type AnswerResult struct {
	V      int    `json:"v"`
	Status string `json:"status"`           // approved, denied, not_me
	Reason string `json:"reason,omitempty"` // wrong_number, cancelled, ...
}

// RegisterRequest is the body of POST /v1/pair. The HTTP request is signed
// with the new device key, proving the device holds it.
type RegisterRequest struct {
	V         int    `json:"v"`
	Token     string `json:"token"`
	PublicKey []byte `json:"public_key"` // 32-byte Ed25519 public key
	Name      string `json:"name,omitempty"`
}

// RegisterResponse is the server's reply to a registration.
type RegisterResponse struct {
	V         int    `json:"v"`
	DeviceID  string `json:"device_id"`
	User      string `json:"user"`
	ServerKey []byte `json:"server_key"` // 32-byte Ed25519 public key
	Label     string `json:"label,omitempty"`
}

// Canonical encodes a signing domain and fields unambiguously: each as a
// 4-byte big-endian length followed by its bytes.
func Canonical(domain string, fields ...string) []byte {
	n := 4 + len(domain)
	for _, f := range fields {
		n += 4 + len(f)
	}
	b := make([]byte, 0, n)
	b = binary.BigEndian.AppendUint32(b, uint32(len(domain)))
	b = append(b, domain...)
	for _, f := range fields {
		b = binary.BigEndian.AppendUint32(b, uint32(len(f)))
		b = append(b, f...)
	}
	return b
}

// BodyHash is the hex SHA-256 of a body, as signed.
func BodyHash(body []byte) string {
	h := sha256.Sum256(body)
	return hex.EncodeToString(h[:])
}

// CanonicalQuery is the query string in the form that is signed: keys sorted,
// values in order, percent-encoded.
func CanonicalQuery(q url.Values) string { return q.Encode() }

// DeviceRequestSigningBytes is what a device signs for an HTTP request.
func DeviceRequestSigningBytes(method, path, query, timestamp, nonce, deviceID string, body []byte) []byte {
	return Canonical(DomainDeviceRequest, method, path, query, timestamp, nonce, deviceID, BodyHash(body))
}

// ServerResponseSigningBytes is what the server signs for a response to a
// device: the device's nonce binds the response to that one request.
func ServerResponseSigningBytes(nonce string, status int, serverTimeMillis string, body []byte) []byte {
	return Canonical(DomainServerResponse, nonce, strconv.Itoa(status), serverTimeMillis, BodyHash(body))
}

// SigningBytes is what the server signs for a sign-in request.
func (r *SignedRequest) SigningBytes() []byte {
	f := []string{
		strconv.Itoa(r.V), r.ID, r.User, r.Application, r.IP, r.Location, r.UserAgent,
		strconv.FormatInt(r.Created, 10), strconv.FormatInt(r.Expires, 10), r.Mode, strconv.Itoa(r.Digits),
		strconv.Itoa(len(r.Choices)),
	}
	f = append(f, r.Choices...)
	return Canonical(DomainRequest, f...)
}

// SigningBytes is what the device signs for an answer.
func (a *SignedAnswer) SigningBytes() []byte {
	return Canonical(DomainAnswer, strconv.Itoa(a.V), a.RequestID, a.DeviceID, a.Decision, a.Reason, a.Number,
		strconv.FormatInt(a.Time, 10))
}

var b64 = base64.RawURLEncoding

// EncodeB64 is the base64url encoding without padding used in headers and URIs.
func EncodeB64(b []byte) string { return b64.EncodeToString(b) }

// DecodeB64 decodes base64url without padding, refusing anything longer than max bytes.
func DecodeB64(s string, max int) ([]byte, error) {
	if len(s) > b64.EncodedLen(max) {
		return nil, fmt.Errorf("%w: value too long", approve.ErrBadRequest)
	}
	return b64.DecodeString(s)
}

// NewNonce returns a fresh random nonce for a device request.
func NewNonce() string {
	var b [NonceBytes]byte
	rand.Read(b[:])
	return EncodeB64(b[:])
}

// Fingerprint is the server key's fingerprint shown in pairing URIs: the
// SHA-256 of the 32-byte Ed25519 public key, lower-case base32 without padding.
func Fingerprint(pub ed25519.PublicKey) string {
	h := sha256.Sum256(pub)
	return strings.ToLower(base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(h[:]))
}

// PairingURI is a parsed Sesame pairing URI:
//
//	sesame://pair?v=1&server=URL&user=NAME&token=B64URL&fp=FINGERPRINT[&label=TEXT]
type PairingURI struct {
	Server      string // base URL of the approval server
	User        string
	Token       string // base64url, at least 128 bits
	Fingerprint string // Fingerprint of the server's key
	Label       string // optional display name of the service
}

// String formats the pairing URI.
func (p PairingURI) String() string {
	q := url.Values{}
	q.Set("v", strconv.Itoa(Version))
	q.Set("server", p.Server)
	q.Set("user", p.User)
	q.Set("token", p.Token)
	q.Set("fp", p.Fingerprint)
	if p.Label != "" {
		q.Set("label", p.Label)
	}
	return "sesame://pair?" + q.Encode()
}

// IsPairingURI reports whether uri looks like Sesame's own pairing URI. It
// does not validate it: ParsePairingURI does.
func IsPairingURI(uri string) bool {
	return len(uri) > len("sesame://") && strings.EqualFold(uri[:len("sesame://")], "sesame://")
}

// ParsePairingURI parses and validates a pairing URI.
func ParsePairingURI(s string) (PairingURI, error) {
	var p PairingURI
	if len(s) > MaxURILength {
		return p, fmt.Errorf("%w: longer than %d bytes", ErrNotPairingURI, MaxURILength)
	}
	u, err := url.Parse(strings.TrimSpace(s))
	if err != nil || !strings.EqualFold(u.Scheme, "sesame") || u.Host != "pair" {
		return p, ErrNotPairingURI
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return p, fmt.Errorf("%w: bad query", ErrNotPairingURI)
	}
	for k, v := range q {
		if len(v) != 1 {
			return p, fmt.Errorf("%w: %q appears %d times", ErrNotPairingURI, k, len(v))
		}
	}
	if v := q.Get("v"); v != strconv.Itoa(Version) {
		// Only a newer protocol is cured by updating Sesame; a missing or
		// garbled version means a damaged link.
		if n, err := strconv.Atoi(v); err == nil && n > Version {
			return p, fmt.Errorf("%w: protocol version %q is newer than this Sesame speaks (v%d); update Sesame", ErrNotPairingURI, v, Version)
		}
		return p, fmt.Errorf("%w: protocol version %q is not one Sesame speaks (v%d): the link is damaged or incomplete; ask the server for a new one", ErrNotPairingURI, v, Version)
	}
	p = PairingURI{Server: q.Get("server"), User: q.Get("user"), Token: q.Get("token"), Fingerprint: q.Get("fp"), Label: q.Get("label")}
	if _, err := ParseServerURL(p.Server); err != nil {
		return PairingURI{}, err
	}
	if err := ValidUser(p.User); err != nil {
		return PairingURI{}, err
	}
	tok, err := DecodeB64(p.Token, MaxTokenBytes)
	if err != nil || len(tok) < MinTokenBytes {
		return PairingURI{}, fmt.Errorf("%w: the token must be at least %d random bytes in base64url", ErrNotPairingURI, MinTokenBytes)
	}
	if len(p.Fingerprint) != 52 || strings.Trim(p.Fingerprint, "abcdefghijklmnopqrstuvwxyz234567") != "" {
		return PairingURI{}, fmt.Errorf("%w: bad server key fingerprint", ErrNotPairingURI)
	}
	if len(p.Label) > MaxFieldLength || !printable(p.Label) {
		return PairingURI{}, fmt.Errorf("%w: bad label", ErrNotPairingURI)
	}
	return p, nil
}

// ValidUser checks a user name: 1 to MaxUserLength bytes of printable text.
func ValidUser(u string) error {
	if u == "" || len(u) > MaxUserLength || !printable(u) || strings.TrimSpace(u) != u {
		return fmt.Errorf("%w: the user name must be 1 to %d printable characters", approve.ErrBadRequest, MaxUserLength)
	}
	return nil
}

// printable reports whether a wire text field holds only characters that
// are safe to show (see safetext.Allowed).
func printable(s string) bool { return safetext.IsClean(s) }

// ParseServerURL checks an approval server's base URL: https, or plain http
// only to a loopback address.
func ParseServerURL(s string) (*url.URL, error) {
	u, err := url.Parse(s)
	if err != nil || u.Host == "" || u.User != nil || u.Fragment != "" || u.RawQuery != "" {
		return nil, fmt.Errorf("%w: bad server URL %q", ErrNotPairingURI, s)
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !IsLoopback(u.Hostname()) {
			return nil, fmt.Errorf("%w (server %s)", approve.ErrInsecure, u.Host)
		}
	default:
		return nil, fmt.Errorf("%w: server URL must be https", ErrNotPairingURI)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	return u, nil
}

// IsLoopback reports whether host is localhost or a loopback IP address.
func IsLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// SignHTTP signs an outgoing device request in place.
func SignHTTP(r *http.Request, deviceID string, key ed25519.PrivateKey, body []byte, now time.Time, nonce string) {
	ts := strconv.FormatInt(now.Unix(), 10)
	msg := DeviceRequestSigningBytes(r.Method, r.URL.EscapedPath(), CanonicalQuery(r.URL.Query()), ts, nonce, deviceID, body)
	r.Header.Set(HeaderDevice, deviceID)
	r.Header.Set(HeaderTimestamp, ts)
	r.Header.Set(HeaderNonce, nonce)
	r.Header.Set(HeaderSignature, EncodeB64(ed25519.Sign(key, msg)))
}

// VerifyResponse checks the server's signature on a response to a device
// request with the given nonce and returns the server's time.
func VerifyResponse(serverKey ed25519.PublicKey, nonce string, status int, h http.Header, body []byte) (time.Time, error) {
	ts := h.Get(HeaderTime)
	ms, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || len(ts) > 20 {
		return time.Time{}, fmt.Errorf("%w: missing server time", approve.ErrBadSig)
	}
	sig, err := DecodeB64(h.Get(HeaderSignature), ed25519.SignatureSize)
	if err != nil || len(sig) != ed25519.SignatureSize || len(serverKey) != ed25519.PublicKeySize {
		return time.Time{}, approve.ErrBadSig
	}
	if !ed25519.Verify(serverKey, ServerResponseSigningBytes(nonce, status, ts, body), sig) {
		return time.Time{}, approve.ErrBadSig
	}
	return time.UnixMilli(ms), nil
}

// Verify checks the server's signature on a sign-in request and its fields.
func (r *SignedRequest) Verify(serverKey ed25519.PublicKey) error {
	if len(r.Sig) != ed25519.SignatureSize || len(serverKey) != ed25519.PublicKeySize ||
		!ed25519.Verify(serverKey, r.SigningBytes(), r.Sig) {
		return approve.ErrBadSig
	}
	return r.Check()
}

// Check validates a request's fields and lengths.
func (r *SignedRequest) Check() error {
	bad := func(what string) error {
		return fmt.Errorf("%w: bad %s in sign-in request", approve.ErrBadRequest, what)
	}
	switch {
	case r.V != Version:
		return bad("version")
	case r.ID == "" || len(r.ID) > 64 || !printable(r.ID):
		return bad("id")
	case ValidUser(r.User) != nil:
		return bad("user")
	case len(r.Application) > MaxFieldLength || len(r.IP) > MaxFieldLength || len(r.Location) > MaxFieldLength || len(r.UserAgent) > MaxFieldLength:
		return bad("field length")
	case !printable(r.Application) || !printable(r.IP) || !printable(r.Location) || !printable(r.UserAgent):
		return bad("characters")
	case r.Expires <= r.Created || r.Expires-r.Created > int64(MaxSignInTTL/time.Second):
		return bad("expiry")
	}
	switch approve.Mode(r.Mode) {
	case approve.ModeType:
		if r.Digits < 2 || r.Digits > 3 || len(r.Choices) != 0 {
			return bad("digits")
		}
	case approve.ModeChoose:
		if len(r.Choices) != 3 {
			return bad("choices")
		}
		for _, c := range r.Choices {
			if len(c) < 2 || len(c) > 3 || strings.Trim(c, "0123456789") != "" {
				return bad("choices")
			}
		}
	case approve.ModeApprove:
		if len(r.Choices) != 0 {
			return bad("choices")
		}
	default:
		return bad("mode")
	}
	return nil
}

// approve.Request converts a verified wire request to the provider-neutral form.
func (r *SignedRequest) Request(pairingID string) approve.Request {
	q := approve.Request{
		PairingID: pairingID, ID: r.ID, User: r.User, Application: r.Application, IP: r.IP,
		Location: r.Location, UserAgent: r.UserAgent, Mode: approve.Mode(r.Mode),
		Created: time.Unix(r.Created, 0), Expires: time.Unix(r.Expires, 0),
	}
	if len(r.Choices) > 0 {
		q.Choices = append([]string(nil), r.Choices...)
	}
	switch q.Mode {
	case approve.ModeType:
		q.Question = fmt.Sprintf("Type the %d-digit number shown on the sign-in screen", r.Digits)
	case approve.ModeChoose:
		q.Question = "Pick the number shown on the sign-in screen"
	case approve.ModeApprove:
		q.Question = "Approve this sign-in?"
	}
	q.Title = "Are you trying to sign in?"
	return q
}

// Verify checks the device's signature on an answer.
func (a *SignedAnswer) Verify(devicePub ed25519.PublicKey) error {
	if len(a.Sig) != ed25519.SignatureSize || len(devicePub) != ed25519.PublicKeySize ||
		!ed25519.Verify(devicePub, a.SigningBytes(), a.Sig) {
		return approve.ErrBadSig
	}
	return nil
}

// Check validates an answer's fields.
func (a *SignedAnswer) Check() error {
	bad := func(what string) error { return fmt.Errorf("%w: bad %s in answer", approve.ErrBadRequest, what) }
	switch {
	case a.V != Version:
		return bad("version")
	case a.RequestID == "" || len(a.RequestID) > 64:
		return bad("request id")
	case a.Decision != DecisionApprove && a.Decision != DecisionDeny:
		return bad("decision")
	case a.Decision == DecisionDeny && a.Reason != string(approve.NotMe) && a.Reason != string(approve.Cancelled):
		return bad("reason")
	case a.Decision == DecisionApprove && a.Reason != "":
		return bad("reason")
	case len(a.Number) > 8:
		return bad("number")
	}
	return nil
}
