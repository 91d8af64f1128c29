package privacyidea

import (
	"bytes"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base32"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf16"

	"github.com/sesame-auth/sesame/approve"
	"github.com/sesame-auth/sesame/vault/safetext"
)

// Signatures are RSASSA-PKCS1-v1_5 with SHA-256, sent as standard base32 with
// padding: _build_smartphone_data signs with padding.PKCS1v15(), hashes.SHA256()
// and b32encode_and_unicode; api_endpoint verifies b32decode(signature) the
// same way ("Not all Androids support PSS padding").

func sign(key *rsa.PrivateKey, msg string) (string, error) {
	h := sha256.Sum256([]byte(msg))
	sig, err := rsa.SignPKCS1v15(rand.Reader, key, crypto.SHA256, h[:])
	if err != nil {
		return "", err
	}
	return base32.StdEncoding.EncodeToString(sig), nil
}

// verify checks a base32 signature. It accepts the padded form privacyIDEA
// sends and, leniently, an unpadded one.
func verify(pub *rsa.PublicKey, msg, sigB32 string) bool {
	sig, err := decodeBase32(sigB32)
	if err != nil {
		return false
	}
	h := sha256.Sum256([]byte(msg))
	return rsa.VerifyPKCS1v15(pub, crypto.SHA256, h[:], sig) == nil
}

func decodeBase32(s string) ([]byte, error) {
	if len(s) > 4096 {
		return nil, errors.New("signature too long")
	}
	s = strings.ToUpper(strings.TrimSpace(s))
	if strings.HasSuffix(s, "=") {
		return base32.StdEncoding.DecodeString(s)
	}
	return base32.StdEncoding.WithPadding(base32.NoPadding).DecodeString(s)
}

// pollSignString is what the device signs to poll: api_endpoint (GET) verifies
// "{serial}|{timestamp}" with the exact strings of the query.
func pollSignString(serial, timestamp string) string { return serial + "|" + timestamp }

// Timestamp formats t as the poll timestamp: ISO 8601 in UTC, the form of
// Python's datetime.now(timezone.utc).isoformat() that privacyIDEA's tests
// send and dateutil's isoparse reads in _check_timestamp_in_range.
func Timestamp(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000000") + "+00:00"
}

// challengeSignString is what the server signs in _build_smartphone_data:
// "{nonce}|{url}|{serial}|{question}|{title}|{sslverify}", with
// "|{require_presence}" appended in presence mode (PushChoiceRequest.signedData
// in the app) and "|{display_code}" for the app's code-to-phone request
// (PushCodeToPhoneRequest.signedData).
func challengeSignString(c wireChallenge) string {
	s := c.Nonce + "|" + c.URL + "|" + c.Serial + "|" + c.Question + "|" + c.Title + "|" + c.SSLVerify
	if c.hasPresence {
		s += "|" + c.RequirePresence
	} else if c.hasDisplayCode {
		s += "|" + c.DisplayCode
	}
	return s
}

// answerSignString is what the device signs to answer (PushRequest.
// getResponseSignMsg, PushChoiceRequest.getResponseSignMsg and
// _PushSmartphoneAnswer in test_api_push.py): "{nonce}|{serial}", then
// "|decline" for a denial, "|{decline_reason}" when a reason is sent, and
// "|{presence_answer}" for an approval in presence mode.
func answerSignString(nonce, serial string, decline bool, reason, presence string) string {
	s := nonce + "|" + serial
	if decline {
		s += "|decline"
		if reason != "" {
			s += "|" + reason
		}
	} else if presence != "" {
		s += "|" + presence
	}
	return s
}

// encodeDevicePublicKey is the pubkey form field: base64 of the DER
// SubjectPublicKeyInfo on one line, as rsa_utils.dart serializeRSAPublicKeyPKCS8
// makes it. The server wraps it in PEM lines itself (_build_verify_object).
func encodeDevicePublicKey(pub *rsa.PublicKey) (string, error) {
	der, err := x509.MarshalPKIXPublicKey(pub)
	if err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(der), nil
}

// parseServerKey reads detail.public_key: base64 of a PKCS#1 RSAPublicKey after
// strip_key removed the PEM header and footer, so newlines stay inside. It
// also accepts a full PEM block, a SubjectPublicKeyInfo, the URL-safe
// alphabet, and spaces where a '+' was decoded from an unescaped form value.
func parseServerKey(s string) (*rsa.PublicKey, error) {
	s = strings.TrimSpace(s)
	if len(s) > 64<<10 {
		return nil, errors.New("the key is too long")
	}
	if strings.HasPrefix(s, "-----BEGIN") {
		lines := strings.Split(s, "\n")
		if len(lines) < 3 {
			return nil, errors.New("the PEM key has no body")
		}
		s = strings.Join(lines[1:len(lines)-1], "\n")
	}
	s = strings.Map(func(r rune) rune {
		switch r {
		case '\n', '\r', '\t':
			return -1
		case ' ', '-':
			return '+'
		case '_':
			return '/'
		}
		return r
	}, strings.TrimSpace(s))
	der, err := base64.StdEncoding.DecodeString(s)
	if err != nil {
		der, err = base64.RawStdEncoding.DecodeString(strings.TrimRight(s, "="))
	}
	if err != nil {
		return nil, errors.New("the key is not valid base64")
	}
	var pub *rsa.PublicKey
	if k, err := x509.ParsePKCS1PublicKey(der); err == nil {
		pub = k
	} else if k, err := x509.ParsePKIXPublicKey(der); err == nil {
		rk, ok := k.(*rsa.PublicKey)
		if !ok {
			return nil, errors.New("the key is not an RSA key")
		}
		pub = rk
	} else {
		return nil, errors.New("the key is neither a PKCS#1 nor a SubjectPublicKeyInfo RSA public key")
	}
	if b := pub.N.BitLen(); b < minKeyBits || b > maxServerKeyBits {
		return nil, fmt.Errorf("the RSA key has %d bits", b)
	}
	if pub.E < 3 || pub.E%2 == 0 {
		return nil, errors.New("the RSA key has an invalid exponent")
	}
	return pub, nil
}

// envelope is privacyIDEA's JSON answer (lib/utils prepare_result / send_error):
// {"result": {"status": true, "value": ...}, "detail": {...}} or
// {"result": {"status": false, "error": {"code": N, "message": "..."}}}.
type envelope struct {
	Result struct {
		Status bool            `json:"status"`
		Value  json.RawMessage `json:"value"`
		Error  *struct {
			Message string `json:"message"`
		} `json:"error"`
	} `json:"result"`
	Detail json.RawMessage `json:"detail"`
}

// readBody reads at most maxBodyBytes of a response.
func readBody(resp *http.Response) ([]byte, error) {
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBodyBytes+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxBodyBytes {
		return nil, fmt.Errorf("%w: the response is larger than %d bytes", ErrBadResponse, maxBodyBytes)
	}
	return b, nil
}

// decodeEnvelope parses a response and turns a failed result into an error
// that quotes the server's (sanitised) message.
func decodeEnvelope(status int, body []byte) (envelope, error) {
	var env envelope
	if err := json.Unmarshal(body, &env); err != nil {
		if status != http.StatusOK {
			return env, fmt.Errorf("%w: HTTP %d %s", approve.ErrBadRequest, status, http.StatusText(status))
		}
		return env, fmt.Errorf("%w: the body is not privacyIDEA JSON", ErrBadResponse)
	}
	if !env.Result.Status || status != http.StatusOK {
		msg := ""
		if env.Result.Error != nil {
			msg = serverMessage(env.Result.Error.Message)
		}
		if msg == "" {
			msg = fmt.Sprintf("HTTP %d %s", status, http.StatusText(status))
		}
		return env, &ServerError{Status: status, Message: msg}
	}
	return env, nil
}

// ServerError is an error result from the privacyIDEA server.
type ServerError struct {
	Status  int    // HTTP status
	Message string // the server's message, shortened and without control characters
}

func (e *ServerError) Error() string {
	return "the privacyIDEA server refused the request: " + e.Message
}

// Unwrap lets errors.Is match approve.ErrBadRequest.
func (e *ServerError) Unwrap() error { return approve.ErrBadRequest }

func serverMessage(s string) string {
	s = safetext.Line(s)
	if len(s) > maxErrorMessage {
		s = strings.ToValidUTF8(s[:maxErrorMessage], "") + "..."
	}
	return s
}

// parseEnrollResponse reads the answer to the second enrolment step
// (PushTokenClass.api_endpoint POST with fbtoken and pubkey, then
// get_init_detail): detail.rollout_state must be "enrolled" and
// detail.public_key holds the server key.
func parseEnrollResponse(status int, body []byte, serial string) (*rsa.PublicKey, error) {
	env, err := decodeEnvelope(status, body)
	if err != nil {
		return nil, err
	}
	var d struct {
		PublicKey    *string `json:"public_key"`
		RolloutState *string `json:"rollout_state"`
		Serial       *string `json:"serial"`
	}
	if len(env.Detail) == 0 || json.Unmarshal(env.Detail, &d) != nil {
		return nil, fmt.Errorf("%w: the enrolment answer has no detail object", ErrBadResponse)
	}
	if d.RolloutState == nil || *d.RolloutState != "enrolled" {
		state := "missing"
		if d.RolloutState != nil {
			state = strconv.Quote(serverMessage(*d.RolloutState))
		}
		return nil, fmt.Errorf("%w: the token's rollout state is %s, not \"enrolled\"", ErrBadResponse, state)
	}
	if d.Serial != nil && *d.Serial != serial {
		return nil, fmt.Errorf("%w: the server enrolled serial %q, not %q", ErrBadResponse, serverMessage(*d.Serial), serial)
	}
	if d.PublicKey == nil {
		return nil, fmt.Errorf("%w: the enrolment answer has no public_key", ErrBadResponse)
	}
	pub, err := parseServerKey(*d.PublicKey)
	if err != nil {
		return nil, fmt.Errorf("%w: the server's public_key: %v", ErrBadResponse, err)
	}
	return pub, nil
}

// wireChallenge is one entry of the poll answer's result.value, the
// smartphone_data of _build_smartphone_data. All values are strings.
type wireChallenge struct {
	Nonce, URL, Serial, Question, Title, SSLVerify, Signature string

	RequirePresence string // comma-separated options, presence mode only
	hasPresence     bool
	DisplayCode     string // the app's code-to-phone variant
	hasDisplayCode  bool
	Version         string

	Capabilities          string // JSON object as a string, e.g. {"decline_reason": true}
	CapabilitiesSignature string
}

// parsePollResponse reads the poll answer: {"result": {"status": true,
// "value": [challenge, ...]}}. Entries that are not well-formed are skipped
// and counted in dropped; a response that is not a list is an error.
func parsePollResponse(status int, body []byte) (cs []wireChallenge, dropped int, err error) {
	env, err := decodeEnvelope(status, body)
	if err != nil {
		return nil, 0, err
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(env.Result.Value, &raw); err != nil {
		return nil, 0, fmt.Errorf("%w: result.value is not a list of challenges", ErrBadResponse)
	}
	if len(raw) > maxChallenges {
		dropped += len(raw) - maxChallenges
		raw = raw[:maxChallenges]
	}
	for _, r := range raw {
		c, ok := decodeChallenge(r)
		if !ok {
			dropped++
			continue
		}
		cs = append(cs, c)
	}
	return cs, dropped, nil
}

func decodeChallenge(r json.RawMessage) (wireChallenge, bool) {
	var m map[string]json.RawMessage
	if json.Unmarshal(r, &m) != nil {
		return wireChallenge{}, false
	}
	str := func(k string, max int) (string, bool, bool) {
		v, ok := m[k]
		if !ok || string(v) == "null" {
			return "", false, true
		}
		var s string
		if json.Unmarshal(v, &s) != nil {
			// the version may come as a number
			if k == "version" {
				if n, err := strconv.Atoi(string(v)); err == nil {
					return strconv.Itoa(n), true, true
				}
			}
			return "", true, false
		}
		if len(s) > max {
			return "", true, false
		}
		return s, true, true
	}
	var c wireChallenge
	for _, f := range []struct {
		k   string
		dst *string
	}{{"nonce", &c.Nonce}, {"url", &c.URL}, {"serial", &c.Serial}, {"question", &c.Question},
		{"title", &c.Title}, {"sslverify", &c.SSLVerify}, {"signature", &c.Signature}} {
		s, present, ok := str(f.k, maxFieldLength)
		if !present || !ok {
			return wireChallenge{}, false
		}
		*f.dst = s
	}
	if c.Nonce == "" || c.Signature == "" {
		return wireChallenge{}, false
	}
	var ok bool
	if c.RequirePresence, c.hasPresence, ok = str("require_presence", maxChoices*(maxChoiceLength+1)); !ok {
		return wireChallenge{}, false
	}
	if c.DisplayCode, c.hasDisplayCode, ok = str("display_code", 64); !ok {
		return wireChallenge{}, false
	}
	if c.Version, _, ok = str("version", 16); !ok {
		return wireChallenge{}, false
	}
	// The capabilities are optional: a malformed advertisement is ignored,
	// never a reason to drop the challenge.
	c.Capabilities, _, _ = str("capabilities", maxCapabilityJSON)
	c.CapabilitiesSignature, _, _ = str("capabilities_signature", 4096)
	return c, true
}

// presenceChoices splits require_presence (",".join(options) in
// _build_smartphone_data) into the options.
func presenceChoices(s string) ([]string, error) {
	parts := strings.Split(s, ",")
	if len(parts) > maxChoices {
		return nil, errors.New("too many presence options")
	}
	out := make([]string, 0, len(parts))
	for _, p := range parts {
		if p == "" || len(p) > maxChoiceLength || strings.IndexFunc(p, unicode.IsControl) >= 0 {
			return nil, errors.New("a presence option is empty, too long or not printable")
		}
		if slices.Contains(out, p) {
			return nil, errors.New("a presence option appears twice")
		}
		out = append(out, p)
	}
	return out, nil
}

// verifiedCapabilities checks the capabilities advertisement: a JSON object
// sent as a string, with capabilities_signature over the RFC 8785 (JCS) form
// of {"capabilities": CAPS, "nonce": NONCE} (test_lib_tokens_push.py
// test_02_signed_bytes_reference_vector:
// {"capabilities":{"decline_reason":true},"nonce":"ABC123"}). A missing,
// malformed or badly signed advertisement yields no capabilities, which is
// the legacy behaviour.
func verifiedCapabilities(pub *rsa.PublicKey, c wireChallenge) map[string]json.RawMessage {
	if c.Capabilities == "" || c.CapabilitiesSignature == "" {
		return nil
	}
	canon, err := canonicalJSON([]byte(c.Capabilities))
	if err != nil || len(canon) == 0 || canon[0] != '{' {
		return nil
	}
	var nonce bytes.Buffer
	writeJCSString(&nonce, c.Nonce)
	doc := `{"capabilities":` + string(canon) + `,"nonce":` + nonce.String() + `}`
	if !verify(pub, doc, c.CapabilitiesSignature) {
		return nil
	}
	var m map[string]json.RawMessage
	if json.Unmarshal(canon, &m) != nil {
		return nil
	}
	return m
}

// canonicalJSON serialises a JSON text per RFC 8785 for the values the
// capabilities use: objects (keys sorted by UTF-16 code units, duplicates
// refused), arrays, strings, true, false, null and integers up to 2^53.
// Other numbers are refused, so an advertisement Sesame cannot canonicalise
// exactly is treated as absent.
func canonicalJSON(b []byte) ([]byte, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var out bytes.Buffer
	if err := canonValue(dec, &out, 0); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, errors.New("trailing data after the JSON value")
	}
	return out.Bytes(), nil
}

func canonValue(dec *json.Decoder, out *bytes.Buffer, depth int) error {
	if depth > 16 {
		return errors.New("JSON nested too deeply")
	}
	tok, err := dec.Token()
	if err != nil {
		return err
	}
	switch v := tok.(type) {
	case nil:
		out.WriteString("null")
	case bool:
		out.WriteString(strconv.FormatBool(v))
	case string:
		writeJCSString(out, v)
	case json.Number:
		s := v.String()
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || strconv.FormatInt(n, 10) != s || n > 1<<53 || n < -(1<<53) {
			return errors.New("only integer numbers are supported")
		}
		out.WriteString(s)
	case json.Delim:
		switch v {
		case '[':
			out.WriteByte('[')
			for i := 0; dec.More(); i++ {
				if i > 0 {
					out.WriteByte(',')
				}
				if err := canonValue(dec, out, depth+1); err != nil {
					return err
				}
			}
			if _, err := dec.Token(); err != nil {
				return err
			}
			out.WriteByte(']')
		case '{':
			type member struct {
				key string
				val []byte
			}
			var ms []member
			for dec.More() {
				kt, err := dec.Token()
				if err != nil {
					return err
				}
				k, ok := kt.(string)
				if !ok {
					return errors.New("object key is not a string")
				}
				var vb bytes.Buffer
				if err := canonValue(dec, &vb, depth+1); err != nil {
					return err
				}
				for _, m := range ms {
					if m.key == k {
						return errors.New("duplicate object key")
					}
				}
				ms = append(ms, member{k, vb.Bytes()})
			}
			if _, err := dec.Token(); err != nil {
				return err
			}
			slices.SortFunc(ms, func(a, b member) int {
				return slices.Compare(utf16.Encode([]rune(a.key)), utf16.Encode([]rune(b.key)))
			})
			out.WriteByte('{')
			for i, m := range ms {
				if i > 0 {
					out.WriteByte(',')
				}
				writeJCSString(out, m.key)
				out.WriteByte(':')
				out.Write(m.val)
			}
			out.WriteByte('}')
		default:
			return errors.New("unexpected JSON delimiter")
		}
	default:
		return errors.New("unexpected JSON token")
	}
	return nil
}

// writeJCSString writes s as JSON per RFC 8785 section 3.2.2.2 (ECMAScript
// JSON.stringify): only '"', '\\' and control characters are escaped.
func writeJCSString(out *bytes.Buffer, s string) {
	out.WriteByte('"')
	for _, r := range s {
		switch r {
		case '"':
			out.WriteString(`\"`)
		case '\\':
			out.WriteString(`\\`)
		case '\b':
			out.WriteString(`\b`)
		case '\f':
			out.WriteString(`\f`)
		case '\n':
			out.WriteString(`\n`)
		case '\r':
			out.WriteString(`\r`)
		case '\t':
			out.WriteString(`\t`)
		default:
			if r < 0x20 {
				fmt.Fprintf(out, `\u%04x`, r)
			} else {
				out.WriteRune(r)
			}
		}
	}
	out.WriteByte('"')
}
