//go:build !lean

package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/sesame-auth/sesame/approve/server"
)

func TestServerDatabaseUnreachableAtStart(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close() // nothing listens there now
	c := newCLI(t)
	c.env["SESAME_DATABASE_URL"] = "postgres://sesame:hunter2-pw@127.0.0.1:" + strconv.Itoa(port) + "/sesame?sslmode=disable"
	r := c.run("", "server", "--data", t.TempDir(), "--listen", "127.0.0.1:0")
	if r.code != 1 || !strings.HasPrefix(r.stderr, "sesame: cannot reach the database at 127.0.0.1:"+strconv.Itoa(port)) {
		t.Fatalf("exit %d, stderr %q: want exit 1 and a clear error", r.code, r.stderr)
	}
	if strings.Contains(r.stderr, "hunter2-pw") {
		t.Fatalf("the error shows the database password: %q", r.stderr)
	}
}

func TestServerRefusesToMakeAKeyForAnotherDeployment(t *testing.T) {
	dir := t.TempDir()
	st, err := server.OpenBolt(filepath.Join(dir, "server.db"))
	if err != nil {
		t.Fatal(err)
	}
	pub, _, _ := ed25519.GenerateKey(rand.Reader)
	if err := server.BindKey(st, pub); err != nil {
		t.Fatal(err)
	}
	st.Close()
	r := newCLI(t).run("", "server", "--data", dir, "--listen", "127.0.0.1:0")
	if r.code != 1 || !strings.Contains(r.stderr, "copy server.key from another replica") {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, "server.key")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a key of its own was made for the deployment: %v", err)
	}
}

func TestAPIKeyFromTheEnvironmentIsTrimmed(t *testing.T) {
	key := "0123456789abcdef0123"
	for _, v := range []string{key, key + "\n", "  " + key + "\r\n"} {
		a := &app{getenv: func(k string) string {
			if k == "SESAME_API_KEY" {
				return v
			}
			return ""
		}}
		got, err := a.apiKey("")
		if err != nil || string(got) != key {
			t.Errorf("SESAME_API_KEY=%q: %q, %v", v, got, err)
		}
	}
	a := &app{getenv: func(string) string { return "short \n" }}
	if _, err := a.apiKey(""); err == nil || !strings.Contains(err.Error(), "shorter") {
		t.Errorf("a short key: %v", err)
	}
}
