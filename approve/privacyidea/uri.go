package privacyidea

import (
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/sesame-auth/sesame/approve"
)

// EnrollURI is the content of a privacyIDEA PUSH enrolment QR code, as
// create_push_token_url and PushTokenClass.get_init_detail in pushtoken.py
// build it:
//
//	otpauth://pipush/LABEL?url=REGISTRATION_URL&ttl=MINUTES&issuer=ISSUER
//	    &enrollment_credential=HEX&v=1&serial=PIPU...&sslverify=0|1[&...]
//
// Servers with the push_use_pia_scheme policy use pia:// instead of
// otpauth://. Other parameters (Firebase project data, image, pin,
// app_force_unlock, poll_only, ...) are read where useful and otherwise ignored.
type EnrollURI struct {
	Label      string        // the token label (by default the serial, often user@realm)
	Issuer     string        // issuer parameter, "privacyIDEA" by default
	URL        string        // the registration URL the second step is posted to
	Serial     string        // token serial, PIPU... for generated serials
	Credential string        // enrollment_credential, a one-time secret: never print it
	TTL        time.Duration // how long the server waits for the second step; 0 if absent
	SSLVerify  bool          // false when the server says sslverify=0
	PollOnly   bool          // the server advertised poll_only=True
	Version    int           // the v parameter, 1 today; 0 if absent
}

// IsEnrollURI reports whether uri looks like a privacyIDEA PUSH enrolment
// link (otpauth://pipush/... or pia://pipush/...). It does not validate it.
func IsEnrollURI(uri string) bool {
	s := strings.TrimSpace(uri)
	low := strings.ToLower(s)
	return strings.HasPrefix(low, "otpauth://pipush/") || strings.HasPrefix(low, "pia://pipush/") ||
		low == "otpauth://pipush" || low == "pia://pipush"
}

// ParseEnrollURI reads and checks a PUSH enrolment link. The error never
// contains the enrolment credential.
func ParseEnrollURI(uri string) (EnrollURI, error) {
	s := strings.TrimSpace(uri)
	if len(s) > maxURILength {
		return EnrollURI{}, fmt.Errorf("%w: it is longer than %d bytes", ErrBadEnrollURI, maxURILength)
	}
	if !IsEnrollURI(s) {
		return EnrollURI{}, ErrNotEnrollURI
	}
	u, err := url.Parse(s)
	if err != nil {
		return EnrollURI{}, fmt.Errorf("%w: it does not parse as a URI", ErrBadEnrollURI)
	}
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return EnrollURI{}, fmt.Errorf("%w: the query string is not valid", ErrBadEnrollURI)
	}
	get := func(k string) (string, error) {
		vs := q[k]
		switch len(vs) {
		case 0:
			return "", nil
		case 1:
			return vs[0], nil
		}
		return "", fmt.Errorf("%w: parameter %s appears %d times", ErrBadEnrollURI, k, len(vs))
	}
	var e EnrollURI
	// create_push_token_url quotes the label with urllib's quote(): the path.
	e.Label = strings.TrimPrefix(u.Path, "/")
	if e.Label, err = cleanText("label", e.Label, 512); err != nil {
		return EnrollURI{}, err
	}
	if v, err := get("issuer"); err != nil {
		return EnrollURI{}, err
	} else if e.Issuer, err = cleanText("issuer", v, 512); err != nil {
		return EnrollURI{}, err
	}
	if e.Serial, err = get("serial"); err != nil {
		return EnrollURI{}, err
	}
	if e.Serial == "" {
		return EnrollURI{}, fmt.Errorf("%w: the serial parameter is missing", ErrBadEnrollURI)
	}
	if len(e.Serial) > 128 || strings.IndexFunc(e.Serial, func(r rune) bool { return !unicode.IsPrint(r) || r == '|' }) >= 0 {
		return EnrollURI{}, fmt.Errorf("%w: the serial is too long or holds control characters", ErrBadEnrollURI)
	}
	if e.Credential, err = get("enrollment_credential"); err != nil {
		return EnrollURI{}, err
	}
	// geturandom(20, hex=True) in PushTokenClass.update: 40 hex digits. Accept
	// any short printable value, a server may change the length.
	if e.Credential == "" {
		return EnrollURI{}, fmt.Errorf("%w: the enrollment_credential parameter is missing (the token may already be enrolled: ask for a new QR code)", ErrBadEnrollURI)
	}
	if len(e.Credential) > 256 || strings.IndexFunc(e.Credential, func(r rune) bool { return r <= ' ' || r > '~' }) >= 0 {
		return EnrollURI{}, fmt.Errorf("%w: the enrollment_credential is not a short printable value", ErrBadEnrollURI)
	}
	if e.URL, err = get("url"); err != nil {
		return EnrollURI{}, err
	}
	if _, err := checkServerURL(e.URL); err != nil {
		return EnrollURI{}, fmt.Errorf("%w: the url parameter: %w", ErrBadEnrollURI, err)
	}
	if v, err := get("ttl"); err != nil {
		return EnrollURI{}, err
	} else if v != "" && v != "None" {
		// ttl is in minutes (FirebaseConfig.TTL, "10" by default).
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 60*24*365 {
			return EnrollURI{}, fmt.Errorf("%w: ttl must be a number of minutes", ErrBadEnrollURI)
		}
		e.TTL = time.Duration(n) * time.Minute
	}
	// get_init_detail: sslverify = getParam(..., allowed_values=["0", "1"], default="1").
	switch v, err := get("sslverify"); {
	case err != nil:
		return EnrollURI{}, err
	case v == "" || v == "1":
		e.SSLVerify = true
	case v == "0":
		e.SSLVerify = false
	default:
		return EnrollURI{}, fmt.Errorf("%w: sslverify must be 0 or 1", ErrBadEnrollURI)
	}
	if v, err := get("poll_only"); err != nil {
		return EnrollURI{}, err
	} else {
		e.PollOnly = strings.EqualFold(v, "true") || v == "1"
	}
	if v, err := get("v"); err != nil {
		return EnrollURI{}, err
	} else if v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || n > 1000 {
			return EnrollURI{}, fmt.Errorf("%w: v must be a small number", ErrBadEnrollURI)
		}
		e.Version = n
	}
	if e.Label == "" {
		e.Label = e.Serial // tokenlabel defaults to "<s>", the serial
	}
	return e, nil
}

// User is the account part of the label: after "issuer:" if the label has
// one, the whole label otherwise.
func (e EnrollURI) User() string {
	l := e.Label
	if i := strings.Index(l, ":"); i >= 0 {
		l = strings.TrimSpace(l[i+1:])
	}
	if l == "" {
		return e.Serial
	}
	return l
}

// Origin is scheme://host[:port] of the registration URL.
func (e EnrollURI) Origin() string {
	u, err := url.Parse(e.URL)
	if err != nil {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// checkServerURL accepts https URLs, and plain http only to loopback
// addresses (approve.ErrInsecure).
func checkServerURL(raw string) (*url.URL, error) {
	if raw == "" {
		return nil, fmt.Errorf("it is missing")
	}
	if len(raw) > maxFieldLength {
		return nil, fmt.Errorf("it is too long")
	}
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" || u.Opaque != "" {
		return nil, fmt.Errorf("it is not an absolute URL")
	}
	if u.User != nil {
		return nil, fmt.Errorf("it must not carry a user name or password")
	}
	switch strings.ToLower(u.Scheme) {
	case "https":
		return u, nil
	case "http":
		if isLoopback(u.Hostname()) {
			return u, nil
		}
		return nil, approve.ErrInsecure
	}
	return nil, fmt.Errorf("its scheme must be https")
}

func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// cleanText refuses control characters and overlong values in text that is
// shown to the user.
func cleanText(field, s string, max int) (string, error) {
	if len(s) > max {
		return "", fmt.Errorf("%w: the %s is longer than %d bytes", ErrBadEnrollURI, field, max)
	}
	if strings.IndexFunc(s, unicode.IsControl) >= 0 {
		return "", fmt.Errorf("%w: the %s holds control characters", ErrBadEnrollURI, field)
	}
	return strings.TrimSpace(s), nil
}
