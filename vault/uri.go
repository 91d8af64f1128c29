package vault

import (
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// MaxURILength caps what ParseURI reads; real otpauth URIs are a few hundred bytes.
const MaxURILength = 64 << 10

// ParseURI reads an otpauth:// URI (or Bitwarden's steam://SECRET) the way
// real sites and apps write them, and returns a normalized, validated account.
//
// Leniencies: any case for the scheme, type, algorithm and secret; secrets
// padded or grouped with spaces or dashes; labels percent-encoded, with the
// issuer prefix separated by ':' or %3A. The label is split at its first colon:
// the prefix is the issuer, the rest the account name. An issuer parameter
// wins over a disagreeing prefix. Unknown parameters are ignored, and so is a
// period on an HOTP URI. An HOTP URI must carry its counter. A parameter
// Sesame uses (secret, issuer, algorithm, digits, period, counter, encoder)
// given twice is refused: apps disagree on which one counts.
//
// Errors are *FieldError values that name the field and say what is wrong.
func ParseURI(s string) (Account, error) {
	s = strings.TrimSpace(s)
	if len(s) > MaxURILength {
		return Account{}, &FieldError{Field: "uri", Reason: "is too long"}
	}
	scheme, rest, ok := strings.Cut(s, "://")
	switch {
	case ok && strings.EqualFold(scheme, "steam"):
		return parseSteamURI(rest)
	case !ok || !strings.EqualFold(scheme, "otpauth"):
		return Account{}, &FieldError{Field: "uri", Reason: "must start with otpauth:// (paste the link behind the QR code)"}
	}
	rest, _, _ = strings.Cut(rest, "#")
	path, rawQuery, _ := strings.Cut(rest, "?")
	typ, rawLabel, _ := strings.Cut(path, "/")

	var a Account
	switch strings.ToLower(typ) {
	case "totp":
		a.Type = TOTP
	case "hotp":
		a.Type = HOTP
	case "steam":
		a.Type = Steam
	case "":
		return Account{}, &FieldError{Field: "type", Reason: "is missing (otpauth://totp/... or otpauth://hotp/...)"}
	default:
		return Account{}, &FieldError{Field: "type", Reason: fmt.Sprintf("%s is not supported (use totp, hotp or steam)", quoteShort(typ))}
	}

	issuer, name, err := parseLabel(rawLabel)
	if err != nil {
		return Account{}, err
	}
	a.Issuer, a.Name = issuer, name

	q, err := parseQuery(rawQuery)
	if err != nil {
		return Account{}, err
	}
	secret, ok := q["secret"]
	if !ok {
		return Account{}, &FieldError{Field: "secret", Reason: "is missing"}
	}
	if a.Secret, err = ParseSecret(secret); err != nil {
		return Account{}, err
	}
	if v := q["issuer"]; strings.TrimSpace(v) != "" {
		a.Issuer = v
	}
	if strings.EqualFold(q["encoder"], "steam") && a.Type == TOTP { // an HOTP link stays counter-based
		a.Type = Steam
	}
	if v, ok := q["algorithm"]; ok {
		if a.Algorithm, err = parseAlgorithm(v); err != nil {
			return Account{}, err
		}
	}
	if v, ok := q["digits"]; ok && a.Type != Steam {
		if a.Digits, err = parseInt("digits", v, MinDigits, MaxDigits); err != nil {
			return Account{}, err
		}
	}
	if v, ok := q["period"]; ok && a.Type != HOTP {
		if a.Period, err = parseInt("period", v, 1, MaxPeriod); err != nil {
			return Account{}, err
		}
	}
	if a.Type == HOTP {
		v, ok := q["counter"]
		if !ok {
			return Account{}, &FieldError{Field: "counter", Reason: "is missing (HOTP links must say which counter to start from)"}
		}
		if a.Counter, err = strconv.ParseUint(strings.TrimSpace(v), 10, 64); err != nil {
			return Account{}, &FieldError{Field: "counter", Reason: fmt.Sprintf("%s is not a whole number from 0 up", quoteShort(v))}
		}
	}
	if a.Type == Steam {
		a.Digits = SteamDigits
	}
	a.Normalize()
	if err := a.Validate(); err != nil {
		return Account{}, err
	}
	return a, nil
}

// parseSteamURI reads Bitwarden's steam://SECRET form.
func parseSteamURI(secret string) (Account, error) {
	s, err := ParseSecret(secret)
	if err != nil {
		return Account{}, err
	}
	a := Account{Type: Steam, Issuer: "Steam", Secret: s}
	a.Normalize()
	return a, a.Validate()
}

// parseLabel splits a raw (still escaped) label at its first ':' or %3A.
func parseLabel(raw string) (issuer, name string, err error) {
	cut := len(raw)
	sepLen := 0
	if i := strings.Index(raw, ":"); i >= 0 {
		cut, sepLen = i, 1
	}
	// Search raw itself, not an upper-cased copy: upper-casing can change the
	// byte length of non-ASCII text and move the index.
	if i := indexEscapedColon(raw); i >= 0 && i < cut {
		cut, sepLen = i, 3
	}
	unescape := func(s string) (string, error) {
		v, err := url.PathUnescape(s)
		if err != nil {
			return "", &FieldError{Field: "label", Reason: "has a malformed %-escape"}
		}
		return strings.TrimSpace(v), nil
	}
	if sepLen == 0 {
		name, err = unescape(raw)
		return "", name, err
	}
	if issuer, err = unescape(raw[:cut]); err != nil {
		return "", "", err
	}
	name, err = unescape(raw[cut+sepLen:])
	return issuer, name, err
}

// indexEscapedColon returns the index of the first %3A or %3a in s, or -1.
func indexEscapedColon(s string) int {
	for i := 0; i+2 < len(s); i++ {
		if s[i] == '%' && s[i+1] == '3' && (s[i+2] == 'A' || s[i+2] == 'a') {
			return i
		}
	}
	return -1
}

// knownParam reports whether ParseURI uses the (lower-cased) query parameter.
func knownParam(key string) bool {
	switch key {
	case "secret", "issuer", "algorithm", "digits", "period", "counter", "encoder":
		return true
	}
	return false
}

// parseQuery form-decodes the query, with keys lower-cased. A parameter
// Sesame uses may appear once; of the others the first value wins, and a
// malformed one is ignored.
func parseQuery(raw string) (map[string]string, error) {
	q := make(map[string]string)
	for pair := range strings.SplitSeq(raw, "&") {
		k, v, _ := strings.Cut(pair, "=")
		key, err := url.QueryUnescape(k)
		if err != nil {
			continue
		}
		key = strings.ToLower(key)
		if _, seen := q[key]; seen {
			if knownParam(key) {
				return nil, &FieldError{Field: key, Reason: "is given twice: keep one"}
			}
			continue
		}
		val, err := url.QueryUnescape(v)
		if err != nil {
			if knownParam(key) {
				return nil, &FieldError{Field: key, Reason: "has a malformed %-escape"}
			}
			continue
		}
		q[key] = val
	}
	return q, nil
}

func parseAlgorithm(v string) (Algorithm, error) {
	switch strings.ReplaceAll(strings.ToUpper(strings.TrimSpace(v)), "-", "") {
	case "SHA1":
		return SHA1, nil
	case "SHA256":
		return SHA256, nil
	case "SHA512":
		return SHA512, nil
	}
	return "", &FieldError{Field: "algorithm", Reason: fmt.Sprintf("%s is not supported (use SHA1, SHA256 or SHA512)", quoteShort(v))}
}

func parseInt(field, v string, lo, hi int) (int, error) {
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n < lo || n > hi {
		return 0, &FieldError{Field: field, Reason: fmt.Sprintf("must be a whole number from %d to %d, not %s", lo, hi, quoteShort(v))}
	}
	return n, nil
}

// URI formats the account as an otpauth:// URI that ParseURI reads back to the
// same account. It contains the secret.
func (a *Account) URI() string {
	// The label's issuer prefix is written only when it cannot be misread; the
	// issuer parameter always carries it.
	label := escapeLabel(a.Name)
	switch {
	case a.Issuer != "" && !strings.Contains(a.Issuer, ":"):
		label = escapeLabel(a.Issuer) + ":" + label
	case strings.Contains(a.Name, ":"):
		label = ":" + label
	}
	q := url.Values{}
	q.Set("secret", a.Secret.Base32())
	if a.Issuer != "" {
		q.Set("issuer", a.Issuer)
	}
	q.Set("algorithm", string(a.Algorithm))
	q.Set("digits", strconv.Itoa(a.Digits))
	if a.Type == HOTP {
		q.Set("counter", strconv.FormatUint(a.Counter, 10))
	} else {
		q.Set("period", strconv.Itoa(a.Period))
	}
	return "otpauth://" + string(a.Type) + "/" + label + "?" + strings.ReplaceAll(q.Encode(), "+", "%20")
}

func escapeLabel(s string) string {
	return strings.ReplaceAll(url.PathEscape(s), ":", "%3A")
}
