//go:build !lean

package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/sesame-auth/sesame/approve"
	"github.com/sesame-auth/sesame/approve/server"
	"github.com/sesame-auth/sesame/vault"
)

func (a *app) demoCmd() *cobra.Command {
	var plain bool
	var listen string
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Try sign-in approvals in a minute: a local server, a throwaway vault, the demo page",
		Long: `Start the reference approval server on a loopback address with its demo sign-in
page, make a throwaway vault (deleted on exit) with a few sample accounts and a
device paired as user "demo", print the page's URL and open the terminal UI.
Sign in as "demo" on the page and answer in the terminal.`,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runDemo(cmd, listen, plain) },
	}
	cmd.Flags().BoolVar(&plain, "plain", false, "use the line-based prompt instead of the terminal UI")
	cmd.Flags().StringVar(&listen, "listen", "127.0.0.1:0", "loopback address for the demo server")
	return cmd
}

// demoAccounts are the sample accounts of the demo vault (made-up secrets).
var demoAccounts = []string{
	"otpauth://totp/Example:alice@example.com?secret=JBSWY3DPEHPK3PXP&issuer=Example",
	"otpauth://totp/Wiki:demo?secret=KRSXG5CTMVRXEZLUKN2XAZLSNBSXE4TF&issuer=Wiki&digits=8",
	"otpauth://hotp/Bank:demo?secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ&issuer=Bank&counter=1",
}

func (a *app) runDemo(cmd *cobra.Command, listen string, plain bool) error {
	ctx, cancel := context.WithCancel(cmd.Context())
	defer cancel()
	host, _, err := net.SplitHostPort(listen)
	if err != nil || net.ParseIP(host) == nil || !net.ParseIP(host).IsLoopback() {
		return usagef("--listen must be a loopback address such as 127.0.0.1:0")
	}
	dir, err := os.MkdirTemp("", "sesame-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)

	// The server: in memory, a fresh key, the demo pages on.
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	ln, err := net.Listen("tcp", listen)
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()
	h, err := server.New(server.Config{Key: key, Store: server.NewMemoryStore(), URL: base, Label: "Sesame demo", Now: a.now, Demo: true})
	if err != nil {
		ln.Close()
		return err
	}
	serveErr := make(chan error, 1)
	quiet := *a
	quiet.stdout, quiet.stderr = discard{}, discard{}
	go func() { serveErr <- quiet.serve(ctx, ln, h, base, "", "", false, false) }()

	// The throwaway vault, protected by a random passphrase that only this
	// process knows; the commands below find it through the environment.
	pass := make([]byte, 16)
	rand.Read(pass)
	demo := *a
	demo.getenv = func(k string) string {
		switch k {
		case "SESAME_HOME":
			return dir
		case "SESAME_PASSPHRASE":
			return hex.EncodeToString(pass)
		}
		return a.getenv(k)
	}
	demo.passphraseFile = ""
	demo.scryptWork = 10
	o, err := demo.vaultOptions()
	if err != nil {
		return err
	}
	v, err := vault.Create(o, vault.StorePassphrase)
	if err != nil {
		return err
	}
	pr, err := h.CreatePairing("demo")
	if err != nil {
		return err
	}
	p, err := approve.Pair(ctx, pr.URI, a.deviceOptions())
	if err != nil {
		return fmt.Errorf("pairing the demo device: %w", err)
	}
	_, err = v.Update(func(d *vault.Data) error {
		for _, u := range demoAccounts {
			acct, err := vault.ParseURI(u)
			if err != nil {
				return err
			}
			if _, err := d.Add(acct, a.now()); err != nil {
				return err
			}
		}
		d.Pairings = append(d.Pairings, p)
		return nil
	})
	if err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "%s/demo\n", base)
	fmt.Fprintf(a.stderr, "sesame: demo server on %s; open %s/demo, sign in as \"demo\" and answer here\n", base, base)
	fmt.Fprintf(a.stderr, "sesame: pair another device: %s/demo/pair?user=demo (everything is deleted on exit)\n", base)
	if plain {
		err = demo.watchApprovals(ctx, v, false)
	} else {
		err = demo.runTUIWith(cmd, fmt.Sprintf("demo: open %s/demo, sign in as \"demo\" and answer here · pair: %s/demo/pair?user=demo", base, base))
	}
	cancel()
	select {
	case <-serveErr:
	case <-time.After(15 * time.Second):
	}
	return err
}

// discard is an io.Writer that drops everything.
type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }
