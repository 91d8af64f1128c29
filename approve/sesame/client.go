package sesame

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sesame-auth/sesame/approve"
	"github.com/sesame-auth/sesame/vault"
	"github.com/sesame-auth/sesame/vault/safetext"
)

// ClientOptions configure the device side of Sesame's protocol. The zero
// value is ready to use.
type ClientOptions struct {
	// HTTPClient sends the requests; a client with verified TLS when nil.
	// Redirects are never followed.
	HTTPClient *http.Client
	// Now is the clock; time.Now when nil.
	Now func() time.Time
}

func (o ClientOptions) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

func (o ClientOptions) httpClient() *http.Client {
	var c http.Client
	if o.HTTPClient != nil {
		c = *o.HTTPClient
	} else {
		c.Transport = http.DefaultTransport
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &c
}

// PollWait is how long the device asks the server to hold a poll open.
const PollWait = 25 * time.Second

// ServerError is a refusal by the server, with its error code. It unwraps to
// the matching sentinel error (approve.ErrExpired, approve.ErrAnswered, approve.ErrBlocked, ...).
type ServerError struct {
	Status  int
	Code    string
	Message string
	err     error
}

func (e *ServerError) Error() string {
	msg := e.Message
	if len(msg) > 200 {
		msg = msg[:200]
	}
	msg = safetext.Clean(msg)
	return fmt.Sprintf("%v (server said %d %s: %s)", e.err, e.Status, e.Code, msg)
}

// Unwrap returns the sentinel error for the code.
func (e *ServerError) Unwrap() error { return e.err }

func codeError(status int, code string) error {
	switch code {
	case CodeStaleTimestamp:
		return approve.ErrClockSkew
	case CodeUnknownDevice:
		return approve.ErrUnpaired
	case CodeAlreadyAnswered:
		return approve.ErrAnswered
	case CodeExpired:
		return approve.ErrExpired
	case CodeBlocked:
		return approve.ErrBlocked
	case CodeTokenInvalid:
		return approve.ErrPairing
	}
	if status >= 500 || code == CodeRateLimited || code == CodeUnavailable {
		return approve.ErrServer
	}
	return approve.ErrBadRequest
}

// Client is a paired device talking Sesame's protocol to one server. It
// implements approve.Provider and is safe for concurrent use.
type Client struct {
	pairingID string
	user      string
	deviceID  string
	key       ed25519.PrivateKey
	serverKey ed25519.PublicKey
	base      *url.URL
	hc        *http.Client
	opts      ClientOptions

	mu    sync.Mutex
	state string        // the server's pending state, sent back as since=
	skew  time.Duration // server time minus local time, from the last response
}

var _ approve.Provider = (*Client)(nil)

// NewClient makes a client for a pairing made by Pair.
func NewClient(p vault.Pairing, opts ClientOptions) (*Client, error) {
	if p.Provider != ProviderName {
		return nil, fmt.Errorf("%w: pairing %s is for provider %q, not %q", approve.ErrPairing, p.ID, p.Provider, ProviderName)
	}
	base, err := ParseServerURL(p.Server)
	if err != nil {
		return nil, err
	}
	if len(p.DeviceKey) != ed25519.SeedSize || len(p.ServerKey) != ed25519.PublicKeySize || p.Params["device_id"] == "" {
		return nil, fmt.Errorf("%w: pairing %s is damaged: pair again", approve.ErrPairing, p.ID)
	}
	return &Client{
		pairingID: p.ID, user: p.User, deviceID: p.Params["device_id"],
		key:       ed25519.NewKeyFromSeed(p.DeviceKey),
		serverKey: ed25519.PublicKey(append([]byte(nil), p.ServerKey...)),
		base:      base, hc: opts.httpClient(), opts: opts,
	}, nil
}

// Skew is the server's clock minus this device's, as of the last response.
func (c *Client) Skew() time.Duration {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.skew
}

// Poll long-polls the server: it returns as soon as the server's pending
// requests for this device differ from what the last Poll returned, or when
// the server's wait ends (with the same list). Requests are verified against
// the server's key; their Created and Expires are shifted to this device's
// clock, so that countdowns are right even on a skewed clock.
func (c *Client) Poll(ctx context.Context) ([]approve.Request, error) {
	c.mu.Lock()
	since := c.state
	c.mu.Unlock()
	q := url.Values{"wait": {strconv.Itoa(int(PollWait / time.Second))}}
	if since != "" {
		q.Set("since", since)
	}
	ctx, cancel := context.WithTimeout(ctx, PollWait+15*time.Second)
	defer cancel()
	body, _, err := c.do(ctx, c.deviceID, c.key, c.serverKey, http.MethodGet, "/v1/device/requests", q, nil)
	var reqs []SignedRequest
	var state string
	if err == nil {
		reqs, state, err = decodePoll(body, c.serverKey, c.user)
	}
	if err != nil {
		// After a failure (a server restart, say) the next poll asks without
		// since=, so that it answers at once and shows the server is back.
		c.mu.Lock()
		c.state = ""
		c.mu.Unlock()
		return nil, err
	}
	skew := c.Skew()
	out := make([]approve.Request, 0, len(reqs))
	for i := range reqs {
		q := reqs[i].Request(c.pairingID)
		q.Created = q.Created.Add(-skew)
		q.Expires = q.Expires.Add(-skew)
		out = append(out, q)
	}
	c.mu.Lock()
	c.state = state
	c.mu.Unlock()
	return out, nil
}

// decodePoll decodes a poll response and verifies every request in it.
func decodePoll(body []byte, serverKey ed25519.PublicKey, user string) ([]SignedRequest, string, error) {
	var pr PollResponse
	if err := json.Unmarshal(body, &pr); err != nil || pr.V != Version || len(pr.Requests) > MaxRequests || len(pr.State) > 128 {
		return nil, "", fmt.Errorf("%w: malformed poll response", approve.ErrBadSig)
	}
	for i := range pr.Requests {
		r := &pr.Requests[i]
		if err := r.Verify(serverKey); err != nil {
			return nil, "", err
		}
		if r.User != user {
			return nil, "", fmt.Errorf("%w: request for another user", approve.ErrBadSig)
		}
	}
	return pr.Requests, pr.State, nil
}

// Respond signs and sends the user's decision. Transient failures (network,
// 5xx) are retried with the same signed answer until the request expires or
// ctx ends; the server treats a resent identical answer as the same answer.
// A wrong number returns ErrWrongNumber: the server has denied the sign-in.
func (c *Client) Respond(ctx context.Context, r approve.Request, a approve.Answer) error {
	if r.PairingID != "" && r.PairingID != c.pairingID {
		return fmt.Errorf("%w: the request belongs to another pairing", approve.ErrBadRequest)
	}
	sa := SignedAnswer{V: Version, RequestID: r.ID, DeviceID: c.deviceID, Time: c.opts.now().Unix()}
	if a.Approve {
		sa.Decision = DecisionApprove
		sa.Number = strings.TrimSpace(a.Number)
		if r.Mode != approve.ModeApprove && (sa.Number == "" || strings.Trim(sa.Number, "0123456789") != "") {
			return fmt.Errorf("%w: type the number shown on the sign-in screen", approve.ErrBadRequest)
		}
	} else {
		sa.Decision = DecisionDeny
		sa.Reason = string(a.Reason)
		if a.Reason == "" {
			sa.Reason = string(approve.Cancelled)
		}
	}
	if err := sa.Check(); err != nil {
		return err
	}
	sa.Sig = ed25519.Sign(c.key, sa.SigningBytes())
	body, _ := json.Marshal(sa)
	path := "/v1/device/requests/" + url.PathEscape(r.ID) + "/answer"
	var resp []byte
	var err error
	for attempt := 0; ; attempt++ {
		resp, _, err = c.do(ctx, c.deviceID, c.key, c.serverKey, http.MethodPost, path, nil, body)
		if err == nil || !errors.Is(err, approve.ErrServer) || attempt >= 3 || ctx.Err() != nil {
			break
		}
		d := approve.Backoff(attempt, 250*time.Millisecond, 2*time.Second, nil)
		if !r.Expires.IsZero() && c.opts.now().Add(d).After(r.Expires) {
			break
		}
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
	if err != nil {
		return err
	}
	var res AnswerResult
	if err := json.Unmarshal(resp, &res); err != nil {
		return fmt.Errorf("%w: malformed answer result", approve.ErrBadSig)
	}
	switch {
	case res.Status == StatusDenied && res.Reason == "wrong_number":
		return approve.ErrWrongNumber
	case res.Status == StatusApproved && a.Approve, res.Status == StatusDenied && !a.Approve, res.Status == StatusNotMe && a.Reason == approve.NotMe:
		return nil
	}
	return fmt.Errorf("%w: unexpected result %q", approve.ErrBadRequest, res.Status)
}

// Unpair tells the server to forget this device. The caller removes the
// pairing from the vault whether or not the server could be reached.
func (c *Client) Unpair(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	_, _, err := c.do(ctx, c.deviceID, c.key, c.serverKey, http.MethodDelete, "/v1/device", nil, nil)
	return err
}

// Unblock clears the block that a "this wasn't me" answer put on this
// device's user, so that sign-in requests reach it again.
func (c *Client) Unblock(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 15*time.Second)
	defer cancel()
	_, _, err := c.do(ctx, c.deviceID, c.key, c.serverKey, http.MethodPost, "/v1/device/unblock", nil, nil)
	return err
}

// do sends one signed request and verifies the signed response. It returns
// the body of a 2xx response; other responses become errors.
func (c *Client) do(ctx context.Context, deviceID string, key ed25519.PrivateKey, serverKey ed25519.PublicKey, method, path string, q url.Values, body []byte) ([]byte, time.Time, error) {
	return doSigned(ctx, c.hc, c.opts, c.base, deviceID, key, serverKey, method, path, q, body, func(skew time.Duration) {
		c.mu.Lock()
		c.skew = skew
		c.mu.Unlock()
	})
}

func doSigned(ctx context.Context, hc *http.Client, opts ClientOptions, base *url.URL, deviceID string, key ed25519.PrivateKey, serverKey ed25519.PublicKey, method, path string, q url.Values, body []byte, setSkew func(time.Duration)) ([]byte, time.Time, error) {
	target := strings.TrimRight(base.String(), "/") + path
	if qs := CanonicalQuery(q); qs != "" {
		target += "?" + qs
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, target, rd)
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("%w: %v", approve.ErrBadRequest, err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	nonce := NewNonce()
	sent := opts.now()
	SignHTTP(req, deviceID, key, body, sent, nonce)
	resp, err := hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, time.Time{}, ctx.Err()
		}
		return nil, time.Time{}, fmt.Errorf("%w: %s", approve.ErrServer, netErrorText(err))
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(io.LimitReader(resp.Body, MaxBodyBytes+1))
	if err != nil {
		if ctx.Err() != nil {
			return nil, time.Time{}, ctx.Err()
		}
		return nil, time.Time{}, fmt.Errorf("%w: reading the response: %s", approve.ErrServer, netErrorText(err))
	}
	if len(rb) > MaxBodyBytes {
		return nil, time.Time{}, fmt.Errorf("%w: response larger than %d bytes", approve.ErrBadSig, MaxBodyBytes)
	}
	received := opts.now()
	skew := func(server time.Time) {
		if setSkew == nil {
			return
		}
		// The server stamps its time when it writes the response: in the
		// middle of a quick round trip, at the end of a held long-poll.
		at := sent.Add(received.Sub(sent) / 2)
		if received.Sub(sent) > time.Second {
			at = received
		}
		setSkew(server.Sub(at).Round(time.Second))
	}
	serverTime, verr := VerifyResponse(serverKey, nonce, resp.StatusCode, resp.Header, rb)
	if verr != nil {
		return nil, time.Time{}, unsignedError(resp, rb, verr, skew)
	}
	skew(serverTime)
	if resp.StatusCode/100 != 2 {
		var er ErrorResponse
		_ = json.Unmarshal(rb, &er)
		return nil, serverTime, &ServerError{Status: resp.StatusCode, Code: er.Error, Message: er.Message, err: codeError(resp.StatusCode, er.Error)}
	}
	return rb, serverTime, nil
}

// unsignedError is the error for a response whose signature does not verify.
// The server signs nothing in reply to a request it could not authenticate,
// so an unsigned 401 saying that the timestamp is stale or the device unknown
// is taken at its word: it only changes what the status line says, never
// what is stored. An unsigned 5xx or 429 is an unavailable server; anything
// else is a bad signature.
func unsignedError(resp *http.Response, body []byte, verr error, skew func(time.Time)) error {
	if resp.StatusCode >= 500 || resp.StatusCode == http.StatusTooManyRequests {
		return fmt.Errorf("%w: HTTP %d", approve.ErrServer, resp.StatusCode)
	}
	if resp.StatusCode == http.StatusUnauthorized {
		var er ErrorResponse
		_ = json.Unmarshal(body, &er)
		switch er.Error {
		case CodeStaleTimestamp:
			if ms, err := strconv.ParseInt(resp.Header.Get(HeaderTime), 10, 64); err == nil {
				skew(time.UnixMilli(ms))
			}
			fallthrough
		case CodeUnknownDevice:
			return &ServerError{Status: resp.StatusCode, Code: er.Error, Message: er.Message, err: codeError(resp.StatusCode, er.Error)}
		}
	}
	return verr
}

// netErrorText describes a transport error without the URL (which is harmless
// here, but long) so that status lines stay short.
func netErrorText(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err
	}
	return err.Error()
}

// Pair registers this device with the server named in a Sesame pairing URI
// and returns the pairing to store in the vault: a fresh Ed25519 key (its seed
// in DeviceKey), the server's key checked against the URI's fingerprint, and
// the device ID in Params["device_id"].
func Pair(ctx context.Context, uri string, opts ClientOptions) (vault.Pairing, error) {
	pu, err := ParsePairingURI(uri)
	if err != nil {
		return vault.Pairing{}, err
	}
	base, err := ParseServerURL(pu.Server)
	if err != nil {
		return vault.Pairing{}, err
	}
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		return vault.Pairing{}, err
	}
	name := "Sesame"
	if h, err := os.Hostname(); err == nil && len(h) < 64 && printable(h) {
		name = "Sesame on " + h
	}
	body, _ := json.Marshal(RegisterRequest{V: Version, Token: pu.Token, PublicKey: pub, Name: name})
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	// The server's key is not known before the response arrives: take it from
	// the response, check it against the URI's fingerprint, then verify the
	// response's signature with it.
	var rr RegisterResponse
	hc := opts.httpClient()
	u := *base
	u.Path = base.Path + "/v1/pair"
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u.String(), bytes.NewReader(body))
	if err != nil {
		return vault.Pairing{}, fmt.Errorf("%w: %v", approve.ErrPairing, err)
	}
	req.Header.Set("Content-Type", "application/json")
	nonce := NewNonce()
	SignHTTP(req, "", priv, body, opts.now(), nonce)
	resp, err := hc.Do(req)
	if err != nil {
		return vault.Pairing{}, fmt.Errorf("%w: %w: %s", approve.ErrPairing, approve.ErrServer, netErrorText(err))
	}
	defer resp.Body.Close()
	rb, err := io.ReadAll(io.LimitReader(resp.Body, MaxBodyBytes+1))
	if err != nil || len(rb) > MaxBodyBytes {
		return vault.Pairing{}, fmt.Errorf("%w: %w: bad response", approve.ErrPairing, approve.ErrServer)
	}
	if resp.StatusCode/100 != 2 {
		var er ErrorResponse
		_ = json.Unmarshal(rb, &er)
		se := &ServerError{Status: resp.StatusCode, Code: er.Error, Message: er.Message, err: codeError(resp.StatusCode, er.Error)}
		if er.Error == CodeTokenInvalid {
			return vault.Pairing{}, fmt.Errorf("%w: the pairing code is unknown, used or expired: ask for a new one", se)
		}
		return vault.Pairing{}, fmt.Errorf("%w: %w", approve.ErrPairing, se)
	}
	if err := json.Unmarshal(rb, &rr); err != nil || rr.V != Version || len(rr.ServerKey) != ed25519.PublicKeySize ||
		rr.DeviceID == "" || len(rr.DeviceID) > 64 || !printable(rr.DeviceID) {
		return vault.Pairing{}, fmt.Errorf("%w: malformed registration response", approve.ErrPairing)
	}
	if subtle.ConstantTimeCompare([]byte(Fingerprint(rr.ServerKey)), []byte(pu.Fingerprint)) != 1 {
		return vault.Pairing{}, ErrFingerprint
	}
	if _, err := VerifyResponse(rr.ServerKey, nonce, resp.StatusCode, resp.Header, rb); err != nil {
		return vault.Pairing{}, fmt.Errorf("%w: %w", approve.ErrPairing, err)
	}
	if rr.User != pu.User {
		return vault.Pairing{}, fmt.Errorf("%w: the server registered user %q, the URI named %q", approve.ErrPairing, rr.User, pu.User)
	}
	label := pu.Label
	if label == "" {
		label = base.Host
	}
	return vault.Pairing{
		ID: vault.NewID(), Provider: ProviderName, Server: base.String(), User: pu.User, Label: label,
		DeviceKey: vault.Secret(priv.Seed()), ServerKey: rr.ServerKey,
		Params:  map[string]string{"device_id": rr.DeviceID, "fingerprint": pu.Fingerprint},
		Created: opts.now().UTC().Truncate(time.Second),
	}, nil
}

// Kind is Sesame's own protocol as one of the providers handed to
// approve.Options.
var Kind = approve.Kind{
	Name:         ProviderName,
	IsPairingURI: IsPairingURI,
	Pair: func(ctx context.Context, uri string, o approve.Options) (vault.Pairing, error) {
		return Pair(ctx, uri, clientOptions(o))
	},
	New: func(p vault.Pairing, o approve.Options) (approve.Provider, error) {
		c, err := NewClient(p, clientOptions(o))
		if err != nil {
			return nil, err
		}
		return c, nil
	},
}

func clientOptions(o approve.Options) ClientOptions {
	return ClientOptions{HTTPClient: o.HTTPClient, Now: o.Now}
}
