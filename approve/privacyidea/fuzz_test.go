package privacyidea

import (
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

func FuzzParseEnrollURI(f *testing.F) {
	for _, s := range []string{
		"otpauth://pipush/PIPU0006EF85?url=https://pi.example.com/ttype/push&ttl=120&issuer=privacyIDEA&enrollment_credential=0123456789abcdef0123456789abcdef01234567&v=1&serial=PIPU0006EF85&sslverify=0&poll_only=True",
		"pia://pipush/a%40b?url=http%3A%2F%2F127.0.0.1%3A80%2Fttype%2Fpush&serial=S&enrollment_credential=c",
		"otpauth://pipush/?serial=&url=",
		"otpauth://pipush/x?serial=S&serial=T",
		"otpauth://totp/x?secret=AAAA",
		"pia://pipush/%zz",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		e, err := ParseEnrollURI(s)
		if err != nil {
			if e.Credential != "" && strings.Contains(err.Error(), e.Credential) {
				t.Fatal("error shows the credential")
			}
			return
		}
		if e.Serial == "" || e.Credential == "" || e.Label == "" {
			t.Fatalf("accepted without serial, credential or label: %+v", e)
		}
		if _, err := checkServerURL(e.URL); err != nil {
			t.Fatalf("accepted a bad url %q", e.URL)
		}
		if strings.Contains(e.Serial, "|") || !utf8.ValidString(e.Label) && len(e.Label) > 512 {
			t.Fatalf("bad serial or label: %+v", e)
		}
	})
}

func FuzzParseEnrollResponse(f *testing.F) {
	k := testKey(f)
	block := pem.EncodeToMemory(&pem.Block{Type: "RSA PUBLIC KEY", Bytes: x509.MarshalPKCS1PublicKey(&k.PublicKey)})
	lines := strings.Split(strings.TrimSpace(string(block)), "\n")
	stripped := strings.Join(lines[1:len(lines)-1], `\n`)
	f.Add(200, `{"result":{"status":true,"value":true},"detail":{"rollout_state":"enrolled","serial":"S","public_key":"`+stripped+`"}}`)
	f.Add(200, `{"result":{"status":true,"value":true},"detail":{"rollout_state":"enrolled","public_key":"`+base64.StdEncoding.EncodeToString(x509.MarshalPKCS1PublicKey(&k.PublicKey))+`"}}`)
	f.Add(200, `{"result":{"status":true,"value":true},"detail":{"rollout_state":"clientwait"}}`)
	f.Add(400, `{"result":{"status":false,"error":{"code":905,"message":"ERR905: Missing parameter"}}}`)
	f.Add(502, `<html>`)
	f.Add(200, `{"result":{"status":true},"detail":{"rollout_state":"enrolled","public_key":"A B-_=\n"}}`)
	f.Fuzz(func(t *testing.T, status int, body string) {
		pub, err := parseEnrollResponse(status, []byte(body), "S")
		if err == nil && (pub == nil || pub.N.BitLen() < minKeyBits) {
			t.Fatal("accepted without a usable key")
		}
		if err != nil && len(err.Error()) > 2*maxErrorMessage+300 {
			t.Fatalf("error message of %d bytes", len(err.Error()))
		}
	})
}

func FuzzParsePollResponse(f *testing.F) {
	f.Add(200, `{"result":{"status":true,"value":[]}}`)
	f.Add(200, `{"result":{"status":true,"value":[{"nonce":"N","url":"https://pi/ttype/push","serial":"S","question":"q","title":"t","sslverify":"1","signature":"AAAA","require_presence":"A,B,C","version":2,"capabilities":"{\"decline_reason\": true}","capabilities_signature":"AA=="}]}}`)
	f.Add(200, `{"result":{"status":true,"value":[{"nonce":1},null,"x",{"nonce":"N"}]}}`)
	f.Add(400, `{"result":{"status":false,"error":{"code":30,"message":"ERR30: Timestamp 2019 not in valid range."}}}`)
	f.Add(200, `{"result":{"status":true,"value":{"nonce":"N"}}}`)
	f.Add(200, `not json`)
	pr := &provider{serial: "S", serverKey: &testKey(f).PublicKey, open: map[string]*pending{}, done: map[string]time.Time{}}
	f.Fuzz(func(t *testing.T, status int, body string) {
		cs, dropped, err := parsePollResponse(status, []byte(body))
		if err != nil {
			if cs != nil {
				t.Fatal("challenges with an error")
			}
			_ = pollError(err)
			return
		}
		if len(cs) > maxChallenges || dropped < 0 {
			t.Fatalf("%d challenges, %d dropped", len(cs), dropped)
		}
		for _, c := range cs {
			if c.Nonce == "" || c.Signature == "" || len(c.Question) > maxFieldLength {
				t.Fatalf("bad challenge admitted by the parser: %+v", c)
			}
			_ = challengeSignString(c)
			_ = verifiedCapabilities(pr.serverKey, c)
		}
		// Nothing without a valid server signature becomes a request.
		if reqs := pr.admit(cs, time.Now()); len(reqs) != 0 {
			t.Fatalf("admitted unsigned challenges: %+v", reqs)
		}
	})
}

func FuzzCanonicalJSON(f *testing.F) {
	for _, s := range []string{`{"decline_reason": true}`, `{"b":[1,2,{"a":null}],"a":"\u00e9\n"}`, `{"a":1,"a":2}`, `1.5`, `"\ud800"`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c, err := canonicalJSON([]byte(s))
		if err != nil {
			return
		}
		// Canonical form is a fixed point.
		c2, err := canonicalJSON(c)
		if err != nil || string(c2) != string(c) {
			t.Fatalf("not idempotent: %q -> %q -> %q (%v)", s, c, c2, err)
		}
	})
}
