package privacyidea

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/sesame-auth/sesame/approve"
	"github.com/sesame-auth/sesame/vault"
)

// Pairing parameters Sesame keeps in vault.Pairing.Params.
const (
	ParamSerial    = "serial"    // token serial
	ParamURL       = "url"       // registration URL, also the poll URL
	ParamSSLVerify = "sslverify" // "1", or "0" after the user confirmed skipping TLS checks
	ParamIssuer    = "issuer"
	ParamLabel     = "label"
	ParamVersion   = "v"
	ParamPollOnly  = "poll_only"
	// ParamInsecureConfirmed is "1" when the user confirmed sslverify=0 at
	// pairing; New refuses sslverify=0 without it.
	ParamInsecureConfirmed = "insecure_tls_confirmed"
)

// Pair completes the second enrolment step of the PUSH token in uri: it makes
// an RSA-4096 key, posts its public half to the registration URL and returns
// the pairing to store in the vault. DeviceKey is the PKCS#8 DER private key;
// ServerKey is the server's public key as PKIX (SubjectPublicKeyInfo) DER
// (New also reads PKCS#1). Key generation takes a few seconds.
func Pair(ctx context.Context, uri string, opts Options) (vault.Pairing, error) {
	e, err := ParseEnrollURI(uri)
	if err != nil {
		return vault.Pairing{}, fmt.Errorf("%w: %w", approve.ErrPairing, err)
	}
	// Ask about TLS once, before the slow key generation.
	client, err := clientFor(e, opts)
	if err != nil {
		return vault.Pairing{}, fmt.Errorf("%w: %w", approve.ErrPairing, err)
	}
	key, err := rsa.GenerateKey(rand.Reader, KeyBits)
	if err != nil {
		return vault.Pairing{}, fmt.Errorf("%w: making the device key: %w", approve.ErrPairing, err)
	}
	return pair(ctx, e, client, opts, key)
}

// PairWithKey is Pair with a device key the caller made. Tests use it with
// smaller keys; key must have at least 1024 bits.
func PairWithKey(ctx context.Context, uri string, opts Options, key *rsa.PrivateKey) (vault.Pairing, error) {
	fail := func(err error) (vault.Pairing, error) {
		return vault.Pairing{}, fmt.Errorf("%w: %w", approve.ErrPairing, err)
	}
	e, err := ParseEnrollURI(uri)
	if err != nil {
		return fail(err)
	}
	client, err := clientFor(e, opts)
	if err != nil {
		return fail(err)
	}
	return pair(ctx, e, client, opts, key)
}

func pair(ctx context.Context, e EnrollURI, client *http.Client, opts Options, key *rsa.PrivateKey) (vault.Pairing, error) {
	fail := func(err error) (vault.Pairing, error) {
		return vault.Pairing{}, fmt.Errorf("%w: %w", approve.ErrPairing, err)
	}
	if key == nil || key.N.BitLen() < minKeyBits {
		return fail(errors.New("the device key is missing or shorter than 1024 bits"))
	}
	pubB64, err := encodeDevicePublicKey(&key.PublicKey)
	if err != nil {
		return fail(err)
	}
	// The form of PushTokenClass.api_endpoint's second enrolment step
	// ("serial" and "fbtoken" and "pubkey" in request.all_data) and update()
	// (enrollment_credential). url.Values escapes '+' and '/' in the key.
	form := url.Values{
		"enrollment_credential": {e.Credential},
		"serial":                {e.Serial},
		"fbtoken":               {NoFirebaseToken},
		"pubkey":                {pubB64},
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.URL, strings.NewReader(form.Encode()))
	if err != nil {
		return fail(fmt.Errorf("%w: %w", ErrBadEnrollURI, err))
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return fail(transportError(e.Origin(), err))
	}
	defer resp.Body.Close()
	body, err := readBody(resp)
	if err != nil {
		return fail(err)
	}
	serverPub, err := parseEnrollResponse(resp.StatusCode, body, e.Serial)
	if err != nil {
		return fail(err)
	}
	devDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return fail(err)
	}
	srvDER, err := x509.MarshalPKIXPublicKey(serverPub)
	if err != nil {
		return fail(err)
	}
	now := nowFunc(opts)().UTC().Truncate(time.Second)
	params := map[string]string{
		ParamSerial:    e.Serial,
		ParamURL:       e.URL,
		ParamSSLVerify: "1",
		ParamIssuer:    e.Issuer,
		ParamLabel:     e.Label,
	}
	if !e.SSLVerify {
		params[ParamSSLVerify] = "0"
		params[ParamInsecureConfirmed] = "1"
	}
	if e.Version != 0 {
		params[ParamVersion] = strconv.Itoa(e.Version)
	}
	if e.PollOnly {
		params[ParamPollOnly] = "1"
	}
	// The label names the issuer and the serial, so 'sesame devices' shows
	// which privacyIDEA token this is; the QR label becomes the user.
	issuer := e.Issuer
	if issuer == "" {
		issuer = "privacyIDEA"
	}
	label := issuer + " " + e.Serial
	return vault.Pairing{
		ID:        vault.NewID(),
		Provider:  ProviderName,
		Server:    e.Origin(),
		User:      e.User(),
		Label:     label,
		DeviceKey: vault.Secret(devDER),
		ServerKey: srvDER,
		Params:    params,
		Created:   now,
	}, nil
}

func nowFunc(opts Options) func() time.Time {
	if opts.Now != nil {
		return opts.Now
	}
	return time.Now
}

// clientFor returns the HTTP client for an enrolment. With sslverify=0 it
// asks opts.AllowInsecureTLS and, only on a yes, skips certificate checks.
func clientFor(e EnrollURI, opts Options) (*http.Client, error) {
	if e.SSLVerify || !strings.EqualFold(schemeOf(e.URL), "https") {
		return baseClient(opts), nil
	}
	if opts.AllowInsecureTLS == nil || !opts.AllowInsecureTLS(e.Origin()) {
		return nil, ErrTLSNotConfirmed
	}
	return insecureClient(opts), nil
}

func schemeOf(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return ""
	}
	return u.Scheme
}

func baseClient(opts Options) *http.Client {
	if opts.HTTPClient != nil {
		return opts.HTTPClient
	}
	return &http.Client{Timeout: 30 * time.Second}
}

// insecureClient is baseClient with certificate verification off. It is
// used only for a server whose sslverify=0 the user confirmed.
func insecureClient(opts Options) *http.Client {
	base := baseClient(opts)
	c := *base
	var t *http.Transport
	if bt, ok := base.Transport.(*http.Transport); ok && bt != nil {
		t = bt.Clone()
	} else {
		t = http.DefaultTransport.(*http.Transport).Clone()
	}
	if t.TLSClientConfig == nil {
		t.TLSClientConfig = &tls.Config{}
	}
	t.TLSClientConfig.InsecureSkipVerify = true //nolint:gosec // only after the user confirmed sslverify=0
	c.Transport = t
	return &c
}

// transportError explains certificate failures and keeps the rest.
func transportError(origin string, err error) error {
	var uae x509.UnknownAuthorityError
	var hne x509.HostnameError
	var cie x509.CertificateInvalidError
	var tve *tls.CertificateVerificationError
	if errors.As(err, &uae) || errors.As(err, &hne) || errors.As(err, &cie) || errors.As(err, &tve) {
		return fmt.Errorf("%w for %s: %v; install the server's CA certificate, or ask the administrator for an enrolment link with sslverify=0", ErrUntrustedCert, origin, err)
	}
	return fmt.Errorf("cannot reach %s: %w", origin, err)
}
