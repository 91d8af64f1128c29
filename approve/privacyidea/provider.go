package privacyidea

import (
	"context"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/sesame-auth/sesame/approve"
	"github.com/sesame-auth/sesame/vault"
)

// Decline reasons as privacyIDEA spells them (push_types.py PushDeclineReason,
// decline_reason.dart DeclineReason).
const (
	declineUnknownTrigger = "unknown_trigger" // "this wasn't me"
	declineCancelled      = "cancelled"       // the user triggered it and aborted
	capDeclineReason      = "decline_reason"  // push_types.py PushCapability.DECLINE_REASON
)

// The provider New returns shows the code of code_to_phone mode.
var _ approve.CodeDisplayer = (*provider)(nil)

// New returns the provider for a privacyIDEA pairing made by Pair.
func New(p vault.Pairing, opts Options) (approve.Provider, error) {
	return newProvider(p, opts, PollInterval, PollWindow)
}

type provider struct {
	pairingID string
	user      string
	issuer    string
	serial    string
	pollURL   *url.URL
	key       *rsa.PrivateKey
	serverKey *rsa.PublicKey
	client    *http.Client
	insecure  *http.Client // non-nil only when the user confirmed sslverify=0
	now       func() time.Time
	interval  time.Duration
	window    time.Duration

	mu      sync.Mutex
	open    map[string]*pending  // returned by Poll, not yet answered
	done    map[string]time.Time // answered or expired nonces, until when to remember them
	codes   map[string]string    // display codes of approved code_to_phone requests
	polling bool
}

type pending struct {
	ch            wireChallenge
	req           approve.Request
	declineReason bool // the server advertised, with a valid signature, decline_reason
}

func newProvider(p vault.Pairing, opts Options, interval, window time.Duration) (*provider, error) {
	bad := func(why string) (*provider, error) {
		return nil, fmt.Errorf("%w: %s", ErrBadPairing, why)
	}
	if p.Provider != ProviderName {
		return bad(fmt.Sprintf("provider is %q, not %q", p.Provider, ProviderName))
	}
	k, err := x509.ParsePKCS8PrivateKey(p.DeviceKey)
	if err != nil {
		return bad("the device key does not parse")
	}
	key, ok := k.(*rsa.PrivateKey)
	if !ok {
		return bad("the device key is not an RSA key")
	}
	var srv *rsa.PublicKey
	if pk, err := x509.ParsePKIXPublicKey(p.ServerKey); err == nil {
		if srv, ok = pk.(*rsa.PublicKey); !ok {
			return bad("the server key is not an RSA key")
		}
	} else if srv, err = x509.ParsePKCS1PublicKey(p.ServerKey); err != nil {
		return bad("the server key does not parse")
	}
	serial := p.Params[ParamSerial]
	if serial == "" {
		return bad("the serial is missing")
	}
	u, err := checkServerURL(p.Params[ParamURL])
	if err != nil {
		return bad("the server URL: " + err.Error())
	}
	pr := &provider{
		pairingID: p.ID,
		user:      p.User,
		issuer:    p.Params[ParamIssuer],
		serial:    serial,
		pollURL:   u,
		key:       key,
		serverKey: srv,
		client:    baseClient(opts),
		now:       nowFunc(opts),
		interval:  interval,
		window:    window,
		open:      map[string]*pending{},
		done:      map[string]time.Time{},
		codes:     map[string]string{},
	}
	switch p.Params[ParamSSLVerify] {
	case "", "1":
	case "0":
		if p.Params[ParamInsecureConfirmed] != "1" {
			return bad("it skips TLS certificate checks without the user's confirmation")
		}
		pr.insecure = insecureClient(opts)
	default:
		return bad("sslverify is neither 0 nor 1")
	}
	return pr, nil
}

// Poll asks the server for open challenges every PollInterval until there is
// one Sesame has not handed out yet, PollWindow has passed or ctx is done.
// Challenges whose signature does not verify with the server key are dropped.
func (p *provider) Poll(ctx context.Context) ([]approve.Request, error) {
	p.mu.Lock()
	if p.polling {
		p.mu.Unlock()
		return nil, errors.New("privacyidea: Poll called while another Poll is running")
	}
	p.polling = true
	p.mu.Unlock()
	defer func() {
		p.mu.Lock()
		p.polling = false
		p.mu.Unlock()
	}()

	stop := time.NewTimer(p.window)
	defer stop.Stop()
	for {
		reqs, err := p.pollOnce(ctx)
		if err != nil || len(reqs) > 0 {
			return reqs, err
		}
		wait := time.NewTimer(p.interval)
		select {
		case <-ctx.Done():
			wait.Stop()
			return nil, ctx.Err()
		case <-stop.C:
			wait.Stop()
			return nil, nil
		case <-wait.C:
		}
	}
}

// pollOnce is one GET of PushTokenClass.api_endpoint:
// url?serial=S&timestamp=T&signature=base32(sign("S|T")).
func (p *provider) pollOnce(ctx context.Context) ([]approve.Request, error) {
	now := p.now()
	ts := Timestamp(now)
	sig, err := sign(p.key, pollSignString(p.serial, ts))
	if err != nil {
		return nil, err
	}
	u := *p.pollURL
	q := u.Query()
	q.Set("serial", p.serial)
	q.Set("timestamp", ts)
	q.Set("signature", sig)
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	client := p.client
	if p.insecure != nil {
		client = p.insecure
	}
	resp, err := client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, transportError(p.pollURL.Scheme+"://"+p.pollURL.Host, err)
	}
	defer resp.Body.Close()
	body, err := readBody(resp)
	if err != nil {
		return nil, err
	}
	cs, _, err := parsePollResponse(resp.StatusCode, body)
	if err != nil {
		return nil, pollError(err)
	}
	return p.admit(cs, p.now()), nil
}

// pollError names the poll failures api_endpoint reports.
func pollError(err error) error {
	var se *ServerError
	if !errors.As(err, &se) {
		return err
	}
	m := strings.ToLower(se.Message)
	switch {
	case strings.Contains(m, "not in valid range"):
		return fmt.Errorf("%w by more than a minute (privacyIDEA allows ±1 minute): set the clock, e.g. enable NTP: %w", approve.ErrClockSkew, err)
	case strings.Contains(m, "could not verify signature"):
		return fmt.Errorf("%w: %w", ErrPollRejected, err)
	case strings.Contains(m, "polling not allowed"):
		return fmt.Errorf("%w: %w", ErrPollingDenied, err)
	}
	return err
}

// admit verifies the polled challenges and returns those not handed out before.
func (p *provider) admit(cs []wireChallenge, now time.Time) []approve.Request {
	p.mu.Lock()
	defer p.mu.Unlock()
	for n, pd := range p.open {
		if now.After(pd.req.Expires) {
			delete(p.open, n)
			p.done[n] = now.Add(2 * ChallengeLifetime)
		}
	}
	for n, until := range p.done {
		if now.After(until) {
			delete(p.done, n)
		}
	}
	var out []approve.Request
	for _, c := range cs {
		if _, ok := p.open[c.Nonce]; ok {
			continue
		}
		if _, ok := p.done[c.Nonce]; ok {
			continue
		}
		pd, ok := p.check(c, now)
		if !ok {
			continue
		}
		p.open[c.Nonce] = pd
		out = append(out, pd.req)
	}
	return out
}

// check verifies one challenge and turns it into a request.
func (p *provider) check(c wireChallenge, now time.Time) (*pending, bool) {
	if c.Serial != p.serial {
		return nil, false
	}
	if !verify(p.serverKey, challengeSignString(c), c.Signature) {
		return nil, false
	}
	if _, err := checkServerURL(c.URL); err != nil {
		return nil, false
	}
	r := approve.Request{
		PairingID:   p.pairingID,
		ID:          c.Nonce,
		User:        p.user,
		Application: p.issuer,
		Title:       c.Title,
		Question:    c.Question,
		Mode:        approve.ModeApprove,
		Created:     now,
		Expires:     now.Add(ChallengeLifetime),
	}
	if c.hasPresence {
		choices, err := presenceChoices(c.RequirePresence)
		if err != nil {
			return nil, false
		}
		r.Mode = approve.ModePresence
		r.Choices = choices
	} else if c.hasDisplayCode {
		r.Question = strings.TrimSpace(r.Question + " Then type " + c.DisplayCode + " on the sign-in screen.")
	}
	caps := verifiedCapabilities(p.serverKey, c)
	return &pending{ch: c, req: r, declineReason: string(caps[capDeclineReason]) == "true"}, true
}

// Respond answers a request once: POST to the challenge's url with nonce,
// serial and the signature, plus decline=1 (and decline_reason when the server
// advertised it) for a denial, or presence_answer in presence mode.
func (p *provider) Respond(ctx context.Context, r approve.Request, a approve.Answer) error {
	now := p.now()
	p.mu.Lock()
	pd, ok := p.open[r.ID]
	if !ok {
		_, answered := p.done[r.ID]
		p.mu.Unlock()
		if answered {
			return approve.ErrAnswered
		}
		return ErrUnknownRequest
	}
	presence := ""
	if a.Approve && pd.req.Mode == approve.ModePresence {
		if !slices.Contains(pd.req.Choices, a.Number) {
			p.mu.Unlock()
			return fmt.Errorf("%w: %q", ErrBadChoice, a.Number)
		}
		presence = a.Number
	}
	reason := ""
	if !a.Approve && pd.declineReason {
		switch a.Reason {
		case approve.NotMe:
			reason = declineUnknownTrigger
		case approve.Cancelled:
			reason = declineCancelled
		case "":
		default:
			p.mu.Unlock()
			return fmt.Errorf("%w: deny reason %q", ErrUnsupportedReply, a.Reason)
		}
	}
	delete(p.open, r.ID)
	p.done[r.ID] = now.Add(2 * ChallengeLifetime)
	p.mu.Unlock()
	if now.After(pd.req.Expires) {
		return approve.ErrExpired
	}

	c := pd.ch
	sig, err := sign(p.key, answerSignString(c.Nonce, p.serial, !a.Approve, reason, presence))
	if err != nil {
		return err
	}
	form := url.Values{"nonce": {c.Nonce}, "serial": {p.serial}, "signature": {sig}}
	if !a.Approve {
		form.Set("decline", "1")
		if reason != "" {
			form.Set("decline_reason", reason)
		}
	} else if presence != "" {
		form.Set("presence_answer", presence)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.URL, strings.NewReader(form.Encode()))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := p.answerClient(c).Do(req)
	if err != nil {
		u, _ := url.Parse(c.URL)
		return transportError(u.Scheme+"://"+u.Host, err)
	}
	defer resp.Body.Close()
	body, err := readBody(resp)
	if err != nil {
		return err
	}
	env, err := decodeEnvelope(resp.StatusCode, body)
	if err != nil {
		return err
	}
	if string(env.Result.Value) != "true" {
		return ErrNotAccepted
	}
	var d struct {
		DisplayCode string `json:"display_code"`
	}
	if a.Approve && len(env.Detail) > 0 && json.Unmarshal(env.Detail, &d) == nil && d.DisplayCode != "" && len(d.DisplayCode) <= 64 {
		p.mu.Lock()
		p.codes[r.ID] = serverMessage(d.DisplayCode)
		p.mu.Unlock()
	}
	return nil
}

// answerClient skips certificate checks only for the paired server, only
// when the user confirmed sslverify=0 at pairing and the signed challenge
// says sslverify=0 too.
func (p *provider) answerClient(c wireChallenge) *http.Client {
	if p.insecure == nil || c.SSLVerify != "0" {
		return p.client
	}
	u, err := url.Parse(c.URL)
	if err != nil || !strings.EqualFold(u.Host, p.pollURL.Host) || !strings.EqualFold(u.Scheme, p.pollURL.Scheme) {
		return p.client
	}
	return p.insecure
}

// DisplayCode returns the code the server sent with an approval in
// code_to_phone mode.
func (p *provider) DisplayCode(requestID string) (string, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	c, ok := p.codes[requestID]
	return c, ok
}

// Kind is privacyIDEA's PUSH token as one of the providers handed to
// approve.Options.
var Kind = approve.Kind{
	Name:         ProviderName,
	IsPairingURI: IsEnrollURI,
	Pair: func(ctx context.Context, uri string, o approve.Options) (vault.Pairing, error) {
		return Pair(ctx, uri, options(o))
	},
	New: func(p vault.Pairing, o approve.Options) (approve.Provider, error) { return New(p, options(o)) },
}

func options(o approve.Options) Options {
	return Options{HTTPClient: o.HTTPClient, Now: o.Now, AllowInsecureTLS: o.ConfirmInsecureTLS}
}
