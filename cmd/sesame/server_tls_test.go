//go:build !lean

package main

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/approve"
	"github.com/sesame-auth/sesame/approve/sesame"
)

// selfSigned writes a certificate for 127.0.0.1 and its key as PEM files,
// and returns their paths and a pool that trusts it.
func selfSigned(t *testing.T) (certFile, keyFile string, roots *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "127.0.0.1"},
		IPAddresses: []net.IP{net.IPv4(127, 0, 0, 1)}, NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kder, _ := x509.MarshalECPrivateKey(key)
	dir := t.TempDir()
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kder}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	roots = x509.NewCertPool()
	roots.AddCert(cert)
	return certFile, keyFile, roots
}

// TestServerOverTLS runs sesame server with --tls-cert: HTTP/2 is offered, a
// device on HTTP/1.1 gets its sign-in through a long-poll and answers on the
// same connection, and the shutdown hands its next long-poll back with the
// retry hint.
func TestServerOverTLS(t *testing.T) {
	certFile, keyFile, roots := selfSigned(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	base := "https://" + addr
	const apiKey = "tls-test-api-key-0123456789"
	c := newCLI(t)
	c.env["SESAME_API_KEY"] = apiKey
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan result, 1)
	go func() {
		done <- c.runCtx(ctx, strings.NewReader(""), false, "server", "--data", t.TempDir(), "--listen", addr, "--tls-cert", certFile, "--tls-key", keyFile)
	}()
	h2 := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}, ForceAttemptHTTP2: true}}
	var resp *http.Response
	for deadline := time.Now().Add(20 * time.Second); ; {
		if resp, err = h2.Get(base + "/healthz"); err == nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server did not answer within 20 s: %v", err)
		}
		time.Sleep(20 * time.Millisecond) // polling the server, not synchronising
	}
	resp.Body.Close()
	if resp.Proto != "HTTP/2.0" {
		t.Fatalf("over TLS the server speaks %s, want HTTP/2.0 offered", resp.Proto)
	}
	rp := func(method, path string, in, out any) {
		b, _ := json.Marshal(in)
		req, _ := http.NewRequest(method, base+path, strings.NewReader(string(b)))
		req.Header.Set("Authorization", "Bearer "+apiKey)
		resp, err := h2.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode >= 300 {
			body, _ := io.ReadAll(resp.Body)
			t.Fatalf("%s %s: %d %s", method, path, resp.StatusCode, body)
		}
		json.NewDecoder(resp.Body).Decode(out)
	}
	var pairing struct{ URI string }
	rp("POST", "/v1/rp/pairings", map[string]string{"user": "alice"}, &pairing)
	dials := 0
	device := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots},
		DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
			dials++ // one request at a time: no lock needed
			return (&net.Dialer{}).DialContext(ctx, network, addr)
		}}}
	opts := sesame.ClientOptions{HTTPClient: device, Now: func() time.Time { return testNow }} // the server's clock
	p, err := sesame.Pair(context.Background(), pairing.URI, opts)
	if err != nil {
		t.Fatal(err)
	}
	dev, err := sesame.NewClient(p, opts)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := dev.Poll(context.Background()); err != nil {
		t.Fatal(err)
	}
	type polled struct {
		reqs []approve.Request
		err  error
	}
	got := make(chan polled, 1)
	poll := func() {
		reqs, err := dev.Poll(context.Background())
		got <- polled{reqs, err}
	}
	go poll()
	var started struct{ ID, Number string }
	rp("POST", "/v1/rp/signins", map[string]string{"user": "alice", "application": "Wiki"}, &started)
	r := <-got
	if r.err != nil || len(r.reqs) != 1 || r.reqs[0].ID != started.ID {
		t.Fatalf("the long-poll returned %+v, %v", r.reqs, r.err)
	}
	if err := dev.Respond(context.Background(), r.reqs[0], approve.Answer{Approve: true, Number: started.Number}); err != nil {
		t.Fatal(err)
	}
	if dials != 1 {
		t.Fatalf("the device opened %d connections, want 1 kept alive throughout", dials)
	}
	// The answered sign-in leaves the device (an immediate answer), then
	// the next long-poll waits until the server shuts down.
	if reqs, err := dev.Poll(context.Background()); err != nil || len(reqs) != 0 {
		t.Fatalf("after the answer: %+v, %v", reqs, err)
	}
	go poll()
	waitMetric(t, h2, base, "sesame_waiting_devices 1")
	cancel()
	r = <-got
	if !errors.Is(r.err, approve.ErrServer) {
		t.Fatalf("the long-poll ended with %v at the shutdown, want the server's unavailable", r.err)
	}
	if res := <-done; res.code != 0 {
		t.Fatalf("server: exit %d, %s", res.code, res.stderr)
	}
}

// waitMetric waits until the server's /metrics has line, failing at 10 s.
func waitMetric(t *testing.T, hc *http.Client, base, line string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; {
		resp, err := hc.Get(base + "/metrics")
		if err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if strings.Contains(string(b), "\n"+line+"\n") {
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("/metrics did not show %q within 10 s", line)
		}
		time.Sleep(10 * time.Millisecond) // polling the server, not synchronising
	}
}
