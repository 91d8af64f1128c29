package sesame

import (
	"bytes"
	"crypto/ed25519"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"net/url"
	"os"
	"strconv"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/approve"
)

// The test vectors of docs/protocol.md, for implementers in other languages:
// every signed form with its inputs, canonical bytes, a fixed key pair and
// the signature, and invalid cases with the error they must give.
// Regenerate with: go test ./approve/sesame -run TestVectors -update

var update = flag.Bool("update", false, "rewrite docs/protocol-vectors.json")

const vectorsFile = "../../docs/protocol-vectors.json"

type vectorKey struct {
	Seed        string `json:"seed_hex"`       // the 32-byte Ed25519 seed (RFC 8032 private key)
	PublicKey   string `json:"public_key_hex"` // the 32-byte public key
	PublicB64   string `json:"public_key_b64"` // the same, standard base64 as in JSON bodies
	Fingerprint string `json:"fingerprint,omitempty"`
}

type vector struct {
	Name      string            `json:"name"`
	Form      string            `json:"form"`   // device-request, server-response, sign-in-request, answer, pairing
	Signer    string            `json:"signer"` // device or server
	Inputs    map[string]any    `json:"inputs"`
	Fields    []string          `json:"fields,omitempty"` // the canonical form's fields, in order, after the domain
	Canonical string            `json:"canonical_hex,omitempty"`
	Signature string            `json:"signature_b64url,omitempty"`
	Headers   map[string]string `json:"headers,omitempty"`
	Error     string            `json:"error,omitempty"` // for invalid cases: the error code they must give
	Why       string            `json:"why,omitempty"`
}

type vectorFile struct {
	Comment string               `json:"comment"`
	Keys    map[string]vectorKey `json:"keys"`
	Valid   []vector             `json:"valid"`
	Invalid []vector             `json:"invalid"`
}

func seedKey(first byte) ed25519.PrivateKey {
	seed := make([]byte, ed25519.SeedSize)
	for i := range seed {
		seed[i] = first + byte(i)
	}
	return ed25519.NewKeyFromSeed(seed)
}

var (
	vecDevice = seedKey(0x01)
	vecServer = seedKey(0x41)
)

func keyOf(k ed25519.PrivateKey, fp bool) vectorKey {
	pub := k.Public().(ed25519.PublicKey)
	v := vectorKey{Seed: hex.EncodeToString(k.Seed()), PublicKey: hex.EncodeToString(pub), PublicB64: b64std(pub)}
	if fp {
		v.Fingerprint = Fingerprint(pub)
	}
	return v
}

func b64std(b []byte) string { j, _ := json.Marshal(b); return string(j[1 : len(j)-1]) }

// deviceRequest is a device-request vector from an HTTP request as sent.
func deviceRequest(name, method, rawPath, rawQuery, ts, nonce, deviceID, body string) vector {
	q, _ := url.ParseQuery(rawQuery)
	cq := CanonicalQuery(q)
	path := (&url.URL{Path: rawPath}).EscapedPath()
	msg := DeviceRequestSigningBytes(method, path, cq, ts, nonce, deviceID, []byte(body))
	sig := EncodeB64(ed25519.Sign(vecDevice, msg))
	return vector{
		Name: name, Form: "device-request", Signer: "device",
		Inputs: map[string]any{"method": method, "path": path, "query_as_sent": rawQuery, "canonical_query": cq,
			"timestamp": ts, "nonce": nonce, "device_id": deviceID, "body": body, "body_sha256_hex": BodyHash([]byte(body))},
		Fields:    []string{method, path, cq, ts, nonce, deviceID, BodyHash([]byte(body))},
		Canonical: hex.EncodeToString(msg), Signature: sig,
		Headers: map[string]string{HeaderDevice: deviceID, HeaderTimestamp: ts, HeaderNonce: nonce, HeaderSignature: sig},
	}
}

func serverResponse(name, nonce string, status int, ms, body string) vector {
	msg := ServerResponseSigningBytes(nonce, status, ms, []byte(body))
	sig := EncodeB64(ed25519.Sign(vecServer, msg))
	return vector{
		Name: name, Form: "server-response", Signer: "server",
		Inputs:    map[string]any{"request_nonce": nonce, "status": status, "sesame_time": ms, "body": body, "body_sha256_hex": BodyHash([]byte(body))},
		Fields:    []string{nonce, strconv.Itoa(status), ms, BodyHash([]byte(body))},
		Canonical: hex.EncodeToString(msg), Signature: sig,
		Headers: map[string]string{HeaderTime: ms, HeaderSignature: sig},
	}
}

func signIn(name string, r SignedRequest) vector {
	r.Sig = ed25519.Sign(vecServer, r.SigningBytes())
	js, _ := json.Marshal(r)
	var in map[string]any
	json.Unmarshal(js, &in)
	return vector{Name: name, Form: "sign-in-request", Signer: "server", Inputs: in, Fields: signInFields(&r),
		Canonical: hex.EncodeToString(r.SigningBytes()), Signature: EncodeB64(r.Sig)}
}

func signInFields(r *SignedRequest) []string {
	f := []string{strconv.Itoa(r.V), r.ID, r.User, r.Application, r.IP, r.Location, r.UserAgent,
		strconv.FormatInt(r.Created, 10), strconv.FormatInt(r.Expires, 10), r.Mode, strconv.Itoa(r.Digits), strconv.Itoa(len(r.Choices))}
	return append(f, r.Choices...)
}

func answer(name string, a SignedAnswer) vector {
	a.Sig = ed25519.Sign(vecDevice, a.SigningBytes())
	js, _ := json.Marshal(a)
	var in map[string]any
	json.Unmarshal(js, &in)
	return vector{Name: name, Form: "answer", Signer: "device", Inputs: in,
		Fields:    []string{strconv.Itoa(a.V), a.RequestID, a.DeviceID, a.Decision, a.Reason, a.Number, strconv.FormatInt(a.Time, 10)},
		Canonical: hex.EncodeToString(a.SigningBytes()), Signature: EncodeB64(a.Sig)}
}

const (
	vecNonce  = "AAECAwQFBgcICQoLDA0ODw" // 16 bytes 00..0f
	vecTS     = "1767323045"
	vecDevID  = "9f2c4e1a0b3d5f7e9f2c4e1a0b3d5f7e"
	vecReqID  = "4c8e2a6f1b3d5c7e4c8e2a6f1b3d5c7e"
	vecCreate = 1767323040
)

func buildVectors() vectorFile {
	pub := vecDevice.Public().(ed25519.PublicKey)
	reg, _ := json.Marshal(RegisterRequest{V: 1, Token: "q83vEjRWeJCrze8SNFZ4kA", PublicKey: pub, Name: "Sesame on laptop"})
	ans := `{"v":1,"request_id":"` + vecReqID + `","device_id":"` + vecDevID + `","decision":"approve","number":"47","time":1767323045,"sig":"..."}`
	typeReq := SignedRequest{V: 1, ID: vecReqID, User: "alice", Application: "Wiki", IP: "192.0.2.7", Location: "Lyon, FR",
		UserAgent: "Firefox on Linux", Created: vecCreate, Expires: vecCreate + 120, Mode: "type", Digits: 2}
	chooseReq := typeReq
	chooseReq.Mode, chooseReq.Digits, chooseReq.Choices = "choose", 0, []string{"18", "47", "92"}
	approveReq := typeReq
	approveReq.Mode, approveReq.Digits, approveReq.Application = "approve", 0, "Café ☕ intranet"
	f := vectorFile{
		Comment: "Test vectors of docs/protocol.md (Sesame sign-in approval protocol v1). Canonical bytes are " +
			"canonical(domain, fields...): each of the domain and the fields as a 4-byte big-endian length then its bytes. " +
			"Ed25519 signatures (RFC 8032) are deterministic: an implementation must produce these exact signatures " +
			"from these seeds. Regenerate with: go test ./approve/sesame -run TestVectors -update",
		Keys: map[string]vectorKey{"device": keyOf(vecDevice, false), "server": keyOf(vecServer, true)},
		Valid: []vector{
			deviceRequest("poll, first (no since)", "GET", "/v1/device/requests", "wait=25", vecTS, vecNonce, vecDevID, ""),
			deviceRequest("poll with since, query sent unsorted with %20: the canonical query is re-encoded", "GET", "/v1/device/requests",
				"wait=25&since=a%20b%2Fc~d", vecTS, vecNonce, vecDevID, ""),
			deviceRequest("poll without wait (answers at once)", "GET", "/v1/device/requests", "", vecTS, vecNonce, vecDevID, ""),
			deviceRequest("answer", "POST", "/v1/device/requests/"+vecReqID+"/answer", "", vecTS, vecNonce, vecDevID, ans),
			deviceRequest("unblock", "POST", "/v1/device/unblock", "", vecTS, vecNonce, vecDevID, ""),
			deviceRequest("unpair", "DELETE", "/v1/device", "", vecTS, vecNonce, vecDevID, ""),
			serverResponse("poll response", vecNonce, 200, "1767323045123",
				`{"v":1,"time":1767323045123,"state":"none","requests":[]}`),
			serverResponse("error response to an authenticated request", vecNonce, 409, "1767323045123",
				`{"v":1,"error":"already_answered","message":"the sign-in request was already answered"}`),
			signIn("sign-in request, type mode", typeReq),
			signIn("sign-in request, choose mode", chooseReq),
			signIn("sign-in request, approve mode, non-ASCII text", approveReq),
			answer("answer, approve with a number", SignedAnswer{V: 1, RequestID: vecReqID, DeviceID: vecDevID, Decision: "approve", Number: "47", Time: 1767323045}),
			answer("answer, approve mode (no number: empty string)", SignedAnswer{V: 1, RequestID: vecReqID, DeviceID: vecDevID, Decision: "approve", Time: 1767323045}),
			answer("answer, deny not_me", SignedAnswer{V: 1, RequestID: vecReqID, DeviceID: vecDevID, Decision: "deny", Reason: "not_me", Time: 1767323045}),
		},
	}
	p := deviceRequest("pairing: registration signed with the new device key, empty device id", "POST", "/v1/pair", "", vecTS, vecNonce, "", string(reg))
	p.Form = "pairing"
	f.Valid = append(f.Valid, p)
	pr := serverResponse("pairing: the server's answer, signed over the registration's nonce", vecNonce, 200, "1767323045123",
		`{"v":1,"device_id":"`+vecDevID+`","user":"alice","server_key":"`+b64std(vecServer.Public().(ed25519.PublicKey))+`","label":"Example"}`)
	pr.Form = "pairing"
	f.Valid = append(f.Valid, pr)

	// Invalid cases.
	tampered := deviceRequest("poll signed as wait=25, sent as wait=30", "GET", "/v1/device/requests", "wait=25", vecTS, vecNonce, vecDevID, "")
	tampered.Inputs["query_as_sent"], tampered.Inputs["canonical_query"] = "wait=30", "wait=30"
	tampered.Fields[2] = "wait=30"
	tampered.Canonical = hex.EncodeToString(Canonical(DomainDeviceRequest, tampered.Fields...))
	tampered.Error, tampered.Why = CodeBadSignature, "the canonical form of what was sent does not match the signature (401, unsigned)"
	stale := deviceRequest("timestamp 61 s behind the server", "GET", "/v1/device/requests", "wait=25", vecTS, vecNonce, vecDevID, "")
	stale.Inputs["server_time_ms"] = (vecCreate+5+61)*1000 + 0
	stale.Error, stale.Why = CodeStaleTimestamp, "|server time - timestamp| > 60 s (401, unsigned; checked before the signature)"
	rawQuery := deviceRequest("query signed as sent, not re-encoded", "GET", "/v1/device/requests", "since=a%20b&wait=25", vecTS, vecNonce, vecDevID, "")
	rawQuery.Fields[2] = "since=a%20b&wait=25"
	msg := Canonical(DomainDeviceRequest, rawQuery.Fields...)
	rawQuery.Canonical, rawQuery.Signature = hex.EncodeToString(msg), EncodeB64(ed25519.Sign(vecDevice, msg))
	rawQuery.Inputs["canonical_query"] = "since=a+b&wait=25"
	rawQuery.Error, rawQuery.Why = CodeBadSignature, "the server re-encodes the parsed query (space as +): a signature over the raw query fails"

	bidiReq := typeReq
	bidiReq.UserAgent = "Chrome on \u202eLinux"
	bidi := signIn("sign-in request with U+202E in user_agent", bidiReq)
	bidi.Error, bidi.Why = CodeBadRequest, "text fields may not hold control, format (Cf), separator, private-use or U+FFFD characters"
	forged := signIn("sign-in request signed by another key", typeReq)
	forged.Signature = EncodeB64(ed25519.Sign(vecDevice, mustSigning(typeReq)))
	forged.Error, forged.Why = CodeBadSignature, "verify with the server key from pairing"
	badChoices := chooseReq
	badChoices.Choices = []string{"18", "47", "9"}
	short := signIn("choose mode with a one-digit choice", badChoices)
	short.Error, short.Why = CodeBadRequest, "choices are 3 strings of 2 or 3 ASCII digits"
	wrongSigner := answer("answer signed by the server key instead of the device key", SignedAnswer{V: 1, RequestID: vecReqID, DeviceID: vecDevID, Decision: "approve", Number: "47", Time: 1767323045})
	a := SignedAnswer{V: 1, RequestID: vecReqID, DeviceID: vecDevID, Decision: "approve", Number: "47", Time: 1767323045}
	wrongSigner.Signature = EncodeB64(ed25519.Sign(vecServer, a.SigningBytes()))
	wrongSigner.Error, wrongSigner.Why = CodeBadSignature, "answers are signed by the device key (400 bad_signature, signed)"
	badReason := answer("deny with reason \"maybe\"", SignedAnswer{V: 1, RequestID: vecReqID, DeviceID: vecDevID, Decision: "deny", Reason: "maybe", Time: 1767323045})
	badReason.Error, badReason.Why = CodeBadRequest, "a denial's reason is not_me or cancelled"
	f.Invalid = []vector{tampered, stale, rawQuery, bidi, forged, short, wrongSigner, badReason}
	return f
}

func mustSigning(r SignedRequest) []byte { return r.SigningBytes() }

// checkVector runs a vector through the implementation and returns the
// error code it gives ("" when valid).
func checkVector(t *testing.T, v vector) string {
	t.Helper()
	in, _ := json.Marshal(v.Inputs)
	sig, err := DecodeB64(v.Signature, ed25519.SignatureSize)
	if err != nil {
		t.Fatalf("%s: signature: %v", v.Name, err)
	}
	var pub ed25519.PublicKey
	switch v.Signer {
	case "device":
		pub = vecDevice.Public().(ed25519.PublicKey)
	case "server":
		pub = vecServer.Public().(ed25519.PublicKey)
	}
	var msg []byte
	form := v.Form
	if form == "pairing" {
		// The registration is a device request; the server's answer a server response.
		form = map[string]string{"device": "device-request", "server": "server-response"}[v.Signer]
	}
	switch form {
	case "device-request":
		var d struct {
			Method, Path, Timestamp, Nonce, Body string
			Query                                string `json:"query_as_sent"`
			Device                               string `json:"device_id"`
			ServerMS                             int64  `json:"server_time_ms"`
		}
		json.Unmarshal(in, &d)
		if d.ServerMS != 0 {
			ts, _ := strconv.ParseInt(d.Timestamp, 10, 64)
			if skew := time.UnixMilli(d.ServerMS).Sub(time.Unix(ts, 0)); skew > MaxClockSkew || skew < -MaxClockSkew {
				return CodeStaleTimestamp
			}
		}
		q, err := url.ParseQuery(d.Query)
		if err != nil {
			return CodeBadRequest
		}
		msg = DeviceRequestSigningBytes(d.Method, d.Path, CanonicalQuery(q), d.Timestamp, d.Nonce, d.Device, []byte(d.Body))
	case "server-response":
		var s struct {
			Nonce  string `json:"request_nonce"`
			Status int    `json:"status"`
			Time   string `json:"sesame_time"`
			Body   string `json:"body"`
		}
		json.Unmarshal(in, &s)
		msg = ServerResponseSigningBytes(s.Nonce, s.Status, s.Time, []byte(s.Body))
	case "sign-in-request":
		var r SignedRequest
		if err := json.Unmarshal(in, &r); err != nil {
			t.Fatalf("%s: %v", v.Name, err)
		}
		r.Sig = sig
		msg = r.SigningBytes()
		if err := r.Verify(pub); err != nil {
			if errors.Is(err, approve.ErrBadSig) {
				return CodeBadSignature
			}
			return CodeBadRequest
		}
	case "answer":
		var a SignedAnswer
		if err := json.Unmarshal(in, &a); err != nil {
			t.Fatalf("%s: %v", v.Name, err)
		}
		a.Sig = sig
		msg = a.SigningBytes()
		if a.Check() != nil {
			return CodeBadRequest
		}
		if a.Verify(pub) != nil {
			return CodeBadSignature
		}
	default:
		t.Fatalf("%s: unknown form %q", v.Name, v.Form)
	}
	if v.Error == "" && hex.EncodeToString(msg) != v.Canonical {
		t.Errorf("%s: canonical bytes differ:\n got  %x\n want %s", v.Name, msg, v.Canonical)
	}
	if !ed25519.Verify(pub, msg, sig) {
		return CodeBadSignature
	}
	return ""
}

func TestVectors(t *testing.T) {
	want := buildVectors()
	b, err := json.MarshalIndent(want, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	b = append(b, '\n')
	if *update {
		if err := os.WriteFile(vectorsFile, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	disk, err := os.ReadFile(vectorsFile)
	if err != nil {
		t.Fatalf("%v (regenerate with -update)", err)
	}
	if !bytes.Equal(disk, b) {
		t.Errorf("%s differs from what this implementation produces: regenerate with -update and review the diff", vectorsFile)
	}
	// The file as an implementer reads it, checked against the implementation.
	var f vectorFile
	if err := json.Unmarshal(disk, &f); err != nil {
		t.Fatal(err)
	}
	if f.Keys["server"].Fingerprint != Fingerprint(vecServer.Public().(ed25519.PublicKey)) {
		t.Error("server fingerprint")
	}
	forms := map[string]bool{}
	for _, v := range f.Valid {
		forms[v.Form] = true
		if code := checkVector(t, v); code != "" {
			t.Errorf("valid vector %q gives %s", v.Name, code)
		}
		// The listed fields make the canonical bytes.
		canon, _ := hex.DecodeString(v.Canonical)
		if !bytes.Equal(Canonical(domainOf(v), v.Fields...), canon) {
			t.Errorf("%q: canonical_hex is not canonical(domain, fields)", v.Name)
		}
	}
	for _, form := range []string{"device-request", "server-response", "sign-in-request", "answer", "pairing"} {
		if !forms[form] {
			t.Errorf("no valid vector for %s", form)
		}
	}
	for _, v := range f.Invalid {
		if code := checkVector(t, v); code != v.Error {
			t.Errorf("invalid vector %q gives %q, want %q", v.Name, code, v.Error)
		}
	}
}

func domainOf(v vector) string {
	switch {
	case v.Form == "sign-in-request":
		return DomainRequest
	case v.Form == "answer":
		return DomainAnswer
	case v.Signer == "server":
		return DomainServerResponse
	}
	return DomainDeviceRequest
}
