//go:build !lean

package main

import (
	"bufio"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/sesame-auth/sesame/approve"
	"github.com/sesame-auth/sesame/approve/privacyidea"
	"github.com/sesame-auth/sesame/approve/server"
	"github.com/sesame-auth/sesame/approve/sesame"
	"github.com/sesame-auth/sesame/vault"
	"github.com/sesame-auth/sesame/vault/qrcode"
)

// approveCmds are the sign-in approval commands: the reference server, the
// device-side pairing commands and the line-based prompt.
func (a *app) approveCmds() []*cobra.Command {
	return []*cobra.Command{a.serverCmd(), a.pairCmd(), a.devicesCmd(), a.unpairCmd(), a.approveCmd(), a.demoCmd()}
}

// providers are the sign-in approval providers Sesame pairs with and watches.
var providers = []approve.Kind{sesame.Kind, privacyidea.Kind}

func (a *app) deviceOptions() approve.Options {
	return approve.Options{
		Kinds: providers,
		Now:   a.now,
		ConfirmInsecureTLS: func(server string) bool {
			ok, err := a.confirm(fmt.Sprintf("The pairing link asks to skip TLS certificate checks for %s: anyone on the network could impersonate it. Pair anyway?", server))
			return err == nil && ok
		},
	}
}

// --- sesame server ---

type serverFlags struct {
	listen, url, data, database, apiKeyFile, tlsCert, tlsKey, label string
	demo, allowApprove                                              bool
	digits, maxConns, maxConnsPerClient                             int
	ttl, bodyTimeout                                                time.Duration
	trustedProxies                                                  []string
}

func (a *app) serverCmd() *cobra.Command {
	var f serverFlags
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run the reference sign-in approval server",
		Long: `Run Sesame's reference approval server (protocol: docs/protocol.md).

The relying-party API needs an API key, read from --api-key-file or the
SESAME_API_KEY environment variable (never from a flag value). Plain HTTP is
served only on loopback addresses; anywhere else give --tls-cert and --tls-key.
Devices, pairings and pending requests are kept in --data (server.db) with the
server's signing key (server.key), so they survive a restart.

To run several replicas behind a load balancer, give them one PostgreSQL
database with --database postgres://... (or SESAME_DATABASE_URL) and the same
server.key in each --data folder; the server creates and migrates its tables
itself. See docs/deploy.md. /healthz, /readyz and /metrics serve operations.

Limits against slow or greedy clients: request headers must arrive within 10s
and a body within --body-timeout; at most --max-conns connections are open,
at most --max-conns-per-client from one address. Behind a reverse proxy give
its address with --trusted-proxy CIDR: X-Forwarded-For is then read from it
(and only from it) for the per-address pairing limit, and its connections
count only towards --max-conns.

The first line on stdout is the server's URL.`,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runServer(cmd.Context(), f) },
	}
	fl := cmd.Flags()
	fl.StringVar(&f.listen, "listen", "127.0.0.1:8440", "address to listen on")
	fl.StringVar(&f.url, "url", "", "public base URL for pairing links (default: from --listen)")
	fl.StringVar(&f.data, "data", "", "folder for server.db and server.key (default: $SESAME_SERVER_HOME or the user config folder)")
	fl.StringVar(&f.database, "database", "", "PostgreSQL URL shared by replicas, postgres://user@host/db (or set SESAME_DATABASE_URL; default: server.db in --data)")
	fl.StringVar(&f.apiKeyFile, "api-key-file", "", "file holding the relying-party API key (or set SESAME_API_KEY)")
	fl.StringVar(&f.tlsCert, "tls-cert", "", "TLS certificate file (PEM)")
	fl.StringVar(&f.tlsKey, "tls-key", "", "TLS private key file (PEM)")
	fl.StringVar(&f.label, "label", "", "name of the service shown in pairing links")
	fl.BoolVar(&f.demo, "demo", false, "serve the demo sign-in and pairing pages at /demo (no API key needed: loopback only)")
	fl.BoolVar(&f.allowApprove, "allow-approve", false, "allow the plain approve/deny mode without a number")
	fl.IntVar(&f.digits, "digits", 2, "digits of the number to match: 2 or 3")
	fl.DurationVar(&f.ttl, "ttl", sesame.DefaultSignInTTL, "lifetime of a sign-in request (at most 10m)")
	fl.DurationVar(&f.bodyTimeout, "body-timeout", server.DefaultBodyTimeout, "time a client has to send a request body")
	fl.IntVar(&f.maxConns, "max-conns", server.DefaultMaxConns, "open connections at most, in total")
	fl.IntVar(&f.maxConnsPerClient, "max-conns-per-client", server.DefaultMaxConnsPerClient, "open connections at most from one client address")
	fl.StringArrayVar(&f.trustedProxies, "trusted-proxy", nil, "address range (CIDR) of a reverse proxy whose X-Forwarded-For is believed; repeatable")
	return cmd
}

func (a *app) apiKey(file string) ([]byte, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("read the API key file: %w", err)
		}
		k := strings.TrimSpace(string(b))
		if len(k) < 16 {
			return nil, fmt.Errorf("the API key in %s is shorter than 16 characters: use a long random key", file)
		}
		return []byte(k), nil
	}
	if k := strings.TrimSpace(a.getenv("SESAME_API_KEY")); k != "" {
		if len(k) < 16 {
			return nil, errors.New("SESAME_API_KEY is shorter than 16 characters: use a long random key")
		}
		return []byte(k), nil
	}
	return nil, nil
}

// serverKey loads the server's Ed25519 seed from path, creating it (0600) when missing.
func serverKey(path string) (ed25519.PrivateKey, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		seed := make([]byte, ed25519.SeedSize)
		rand.Read(seed)
		if err := os.WriteFile(path, seed, 0o600); err != nil {
			return nil, fmt.Errorf("write the server key: %w", err)
		}
		return ed25519.NewKeyFromSeed(seed), nil
	}
	if err != nil {
		return nil, fmt.Errorf("read the server key: %w", err)
	}
	if len(b) != ed25519.SeedSize {
		return nil, fmt.Errorf("the server key %s is damaged (%d bytes, want %d)", path, len(b), ed25519.SeedSize)
	}
	return ed25519.NewKeyFromSeed(b), nil
}

// openServerStore opens the PostgreSQL database given by flag or
// SESAME_DATABASE_URL, else server.db in dir.
func (a *app) openServerStore(ctx context.Context, database, dir string) (server.Store, error) {
	if database == "" {
		database = a.getenv("SESAME_DATABASE_URL")
	}
	if database == "" {
		return server.OpenBolt(filepath.Join(dir, "server.db"))
	}
	return server.OpenPostgres(ctx, database)
}

// deploymentKey loads the server key and binds the store to it. A missing
// key file is created only for a store that no key has used yet: a replica
// must get the deployment's key, not make its own.
func deploymentKey(store server.Store, path string) (ed25519.PrivateKey, error) {
	if _, err := os.Stat(path); errors.Is(err, os.ErrNotExist) {
		bound, err := server.BoundKey(store)
		if err != nil {
			return nil, err
		}
		if bound != nil {
			return nil, fmt.Errorf("no server key at %s, and the database belongs to the key of fingerprint %s: copy server.key from another replica there",
				path, sesame.Fingerprint(bound))
		}
	}
	key, err := serverKey(path)
	if err != nil {
		return nil, err
	}
	if err := server.BindKey(store, key.Public().(ed25519.PublicKey)); err != nil {
		return nil, err
	}
	return key, nil
}

func (a *app) runServer(ctx context.Context, f serverFlags) error {
	tlsOn := f.tlsCert != "" || f.tlsKey != ""
	if tlsOn && (f.tlsCert == "" || f.tlsKey == "") {
		return usagef("give both --tls-cert and --tls-key")
	}
	host, _, err := net.SplitHostPort(f.listen)
	if err != nil {
		return usagef("--listen: %v", err)
	}
	if !tlsOn && !sesame.IsLoopback(host) {
		return usagef("plain HTTP is served only on loopback addresses: listen on 127.0.0.1, or give --tls-cert and --tls-key")
	}
	if f.demo && !sesame.IsLoopback(host) {
		return usagef("--demo pages start sign-ins without the API key: use them only on a loopback address")
	}
	if f.maxConns < 1 || f.maxConnsPerClient < 1 || f.bodyTimeout <= 0 {
		return usagef("--max-conns, --max-conns-per-client and --body-timeout must be positive")
	}
	var proxies []netip.Prefix
	for _, c := range f.trustedProxies {
		p, err := netip.ParsePrefix(c)
		if err != nil {
			if ip, ierr := netip.ParseAddr(c); ierr == nil {
				p = netip.PrefixFrom(ip, ip.BitLen())
			} else {
				return usagef("--trusted-proxy %q: give an address range like 10.0.0.0/8 or an address", c)
			}
		}
		proxies = append(proxies, p.Masked())
	}
	dir := f.data
	if dir == "" {
		if dir = a.getenv("SESAME_SERVER_HOME"); dir == "" {
			base, err := os.UserConfigDir()
			if err != nil {
				return fmt.Errorf("no folder for the server's data: give --data (%w)", err)
			}
			dir = filepath.Join(base, "sesame-server")
		}
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	apiKey, err := a.apiKey(f.apiKeyFile)
	if err != nil {
		return err
	}
	store, err := a.openServerStore(ctx, f.database, dir)
	if err != nil {
		return err
	}
	defer store.Close()
	key, err := deploymentKey(store, filepath.Join(dir, "server.key"))
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", f.listen)
	if err != nil {
		return err
	}
	ln = server.LimitListener(ln, server.ConnLimits{Total: f.maxConns, PerClient: f.maxConnsPerClient, TrustedProxies: proxies})
	base := f.url
	if base == "" {
		scheme := "http"
		if tlsOn {
			scheme = "https"
		}
		base = scheme + "://" + ln.Addr().String()
	}
	logger := slog.New(slog.NewTextHandler(a.stderr, &slog.HandlerOptions{Level: slog.LevelInfo}))
	h, err := server.New(server.Config{
		Key: key, Store: store, APIKey: apiKey, URL: base, Label: f.label, Now: a.now, Digits: f.digits,
		SignInTTL: f.ttl, AllowApprove: f.allowApprove, Demo: f.demo, Logger: logger,
		BodyTimeout: f.bodyTimeout, TrustedProxies: proxies,
	})
	if err != nil {
		ln.Close()
		return usageError{err}
	}
	return a.serve(ctx, ln, h, base, f.tlsCert, f.tlsKey, apiKey == nil, f.demo)
}

// serve runs h on ln until ctx is done, then shuts down gracefully.
func (a *app) serve(ctx context.Context, ln net.Listener, h *server.Handler, base, cert, key string, noAPI, demo bool) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second, IdleTimeout: 2 * time.Minute, MaxHeaderBytes: 16 << 10}
	srv.RegisterOnShutdown(h.Close)
	if cert != "" {
		pair, err := tls.LoadX509KeyPair(cert, key)
		if err != nil {
			ln.Close()
			return err
		}
		ln = tls.NewListener(ln, &tls.Config{Certificates: []tls.Certificate{pair}, NextProtos: []string{"h2", "http/1.1"}})
	}
	ln = h.Listener(ln)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	fmt.Fprintln(a.stdout, base)
	fmt.Fprintf(a.stderr, "sesame: approval server on %s, key fingerprint %s\n", base, h.Fingerprint())
	if noAPI {
		fmt.Fprintln(a.stderr, "sesame: no API key (--api-key-file or SESAME_API_KEY): the relying-party API is off")
	}
	if demo {
		fmt.Fprintf(a.stderr, "sesame: demo sign-in page: %s/demo\n", base)
	}
	prune := time.NewTicker(time.Hour)
	defer prune.Stop()
	h.Prune()
	for {
		select {
		case err := <-errc:
			return err
		case <-prune.C:
			if err := h.Prune(); err != nil {
				fmt.Fprintf(a.stderr, "sesame: pruning old requests: %v\n", err)
			}
		case <-ctx.Done():
			sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			fmt.Fprintln(a.stderr, "sesame: shutting down")
			return errors.Join(srv.Shutdown(sctx), h.Shutdown(sctx))
		}
	}
}

// --- sesame pair, devices, unpair ---

func (a *app) pairCmd() *cobra.Command {
	var qr bool
	var label string
	cmd := &cobra.Command{
		Use:   "pair URI | pair --qr FILE",
		Short: "Pair with a sign-in approval server (Sesame or privacyIDEA)",
		Long: `Pair this vault with a sign-in approval server, from the pairing link the
service shows (sesame://pair?... or a privacyIDEA otpauth://pipush/... link) or
from an image of its QR code. The device key is made here and kept in the
encrypted vault. A vault can hold several pairings.`,
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			uri := args[0]
			if qr {
				texts, err := qrcode.DecodeFile(args[0])
				if err != nil {
					return err
				}
				uri = ""
				for _, t := range texts {
					if approve.IsPairingURI(t, a.deviceOptions()) {
						uri = t
						break
					}
				}
				if uri == "" {
					return fmt.Errorf("the QR code in %s holds no pairing link", args[0])
				}
			}
			if !approve.IsPairingURI(uri, a.deviceOptions()) {
				return usageError{approve.ErrUnknownURI}
			}
			v, err := a.openOrCreate()
			if err != nil {
				return err
			}
			p, err := approve.Pair(cmd.Context(), uri, a.deviceOptions())
			if err != nil {
				return err
			}
			if label != "" {
				p.Label = label
			}
			if _, err := v.Update(func(d *vault.Data) error {
				d.Pairings = append(d.Pairings, p)
				return nil
			}); err != nil {
				return fmt.Errorf("paired, but saving the pairing failed (pair again with a new link): %w", err)
			}
			fmt.Fprintf(a.stdout, "paired %s as %s with %s (id %s)\n", pairingLabel(p), p.User, p.Server, p.ID)
			return nil
		},
	}
	cmd.Flags().BoolVar(&qr, "qr", false, "the argument is an image file of the pairing QR code")
	cmd.Flags().StringVar(&label, "label", "", "name to show for this pairing")
	return cmd
}

func pairingLabel(p vault.Pairing) string {
	if p.Label != "" {
		return p.Label
	}
	return p.Server
}

// openPairing opens the vault and resolves a user's query to one pairing.
func (a *app) openPairing(query string) (*vault.Vault, vault.Pairing, error) {
	v, err := a.openVault()
	if err != nil {
		return nil, vault.Pairing{}, err
	}
	d := v.Data()
	i, err := findPairing(&d, query)
	if err != nil {
		return nil, vault.Pairing{}, err
	}
	return v, d.Pairings[i], nil
}

// findPairing resolves a pairing the way account queries are resolved: its
// ID; then an exact, case-insensitive match on the label, the user (the USER
// column of 'sesame devices'), user@label or the server; then a unique ID
// prefix or a substring of the label or the user. Several matches list the
// candidates.
func findPairing(d *vault.Data, q string) (int, error) {
	q = strings.TrimSpace(q)
	if q == "" {
		return -1, errors.New("the pairing query is empty (see sesame devices)")
	}
	for i, p := range d.Pairings {
		if p.ID == q {
			return i, nil
		}
	}
	lq := strings.ToLower(q)
	tiers := []func(p vault.Pairing) bool{
		func(p vault.Pairing) bool {
			return strings.EqualFold(p.Label, q) || strings.EqualFold(p.User, q) ||
				strings.EqualFold(p.User+"@"+pairingLabel(p), q) || strings.EqualFold(p.Server, q)
		},
		func(p vault.Pairing) bool {
			return strings.HasPrefix(p.ID, q) || strings.Contains(strings.ToLower(pairingLabel(p)), lq) ||
				strings.Contains(strings.ToLower(p.User), lq)
		},
	}
	for _, match := range tiers {
		var hits []int
		for i, p := range d.Pairings {
			if match(p) {
				hits = append(hits, i)
			}
		}
		switch len(hits) {
		case 0:
			continue
		case 1:
			return hits[0], nil
		}
		list := make([]string, len(hits))
		for j, i := range hits {
			p := d.Pairings[i]
			list[j] = fmt.Sprintf("%s@%s [id %s]", p.User, pairingLabel(p), p.ID)
		}
		return -1, fmt.Errorf("%q matches %d pairings: %s; be more specific, or give the ID (see sesame devices)", q, len(hits), strings.Join(list, ", "))
	}
	return -1, fmt.Errorf("no pairing matches %q (see sesame devices)", q)
}

// pairingJSON is the stable --json shape of 'sesame devices'.
type pairingJSON struct {
	ID       string    `json:"id"`
	Provider string    `json:"provider"`
	Label    string    `json:"label"`
	User     string    `json:"user"`
	Server   string    `json:"server"`
	Paused   bool      `json:"paused"`
	Created  time.Time `json:"created"`
}

func (a *app) devicesCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "devices",
		Short: "List this vault's pairings with approval servers; pause, resume or unblock one",
		RunE: func(cmd *cobra.Command, _ []string) error {
			v, err := a.openVault()
			if err != nil {
				return err
			}
			d := v.Data()
			if asJSON {
				out := make([]pairingJSON, 0, len(d.Pairings))
				for _, p := range d.Pairings {
					out = append(out, pairingJSON{p.ID, p.Provider, pairingLabel(p), p.User, p.Server, p.Paused, p.Created})
				}
				return writeJSON(a.stdout, out)
			}
			if len(d.Pairings) == 0 {
				fmt.Fprintln(a.stderr, "sesame: no pairings: pair with 'sesame pair URI'")
				return nil
			}
			tw := tabwriter.NewWriter(a.stdout, 0, 4, 2, ' ', 0)
			fmt.Fprintln(tw, "ID\tLABEL\tUSER\tSERVER\tPROVIDER\tSTATE")
			for _, p := range d.Pairings {
				st := "active"
				if p.Paused {
					st = "paused"
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", p.ID, pairingLabel(p), p.User, p.Server, p.Provider, st)
			}
			return tw.Flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON array of the pairings (never their keys)")
	setPaused := func(use, short string, paused bool) *cobra.Command {
		return &cobra.Command{
			Use: use + " PAIRING", Short: short, Args: cobra.ExactArgs(1),
			RunE: func(cmd *cobra.Command, args []string) error {
				v, err := a.openVault()
				if err != nil {
					return err
				}
				var p vault.Pairing
				_, err = v.Update(func(d *vault.Data) error {
					i, err := findPairing(d, args[0])
					if err != nil {
						return err
					}
					got, err := d.SetPaused(d.Pairings[i].ID, paused)
					if err == nil {
						p = *got
					}
					return err
				})
				if err != nil {
					return err
				}
				fmt.Fprintf(a.stdout, "%s: sign-in requests %s\n", pairingLabel(p), map[bool]string{true: "paused", false: "resumed"}[paused])
				return nil
			},
		}
	}
	var yes bool
	unblock := &cobra.Command{
		Use: "unblock PAIRING", Short: "Let sign-in requests through again after a \"this wasn't me\" answer", Args: cobra.ExactArgs(1),
		Long: `Clear the block that a "this wasn't me" answer put on this pairing's user at
the service, so that sign-in requests reach this device again. Do it only if
that answer was a mistake: the block is there to stop someone who knows your
password from sending requests until you say so.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			_, p, err := a.openPairing(args[0])
			if err != nil {
				return err
			}
			if !yes {
				ok, err := a.confirm(fmt.Sprintf("Let sign-in requests for %s at %s through again? Do it only if \"this wasn't me\" was a mistake.", p.User, pairingLabel(p)))
				if err != nil {
					return err
				}
				if !ok {
					return errors.New("nothing was changed: sign-in requests stay blocked")
				}
			}
			if err := approve.Unblock(cmd.Context(), p, a.deviceOptions()); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "%s: sign-in requests unblocked\n", pairingLabel(p))
			return nil
		},
	}
	unblock.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation")
	cmd.AddCommand(setPaused("pause", "Stop receiving sign-in requests for a pairing", true),
		setPaused("resume", "Receive sign-in requests for a pairing again", false), unblock)
	return cmd
}

func (a *app) unpairCmd() *cobra.Command {
	var yes bool
	cmd := &cobra.Command{
		Use:   "unpair PAIRING",
		Short: "Remove a pairing: tell the server to forget this device and delete its key",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			v, p, err := a.openPairing(args[0])
			if err != nil {
				return err
			}
			if !yes {
				ok, err := a.confirm(fmt.Sprintf("Unpair %s (%s)?", pairingLabel(p), p.User))
				if err != nil {
					return err
				}
				if !ok {
					return errors.New("nothing was changed")
				}
			}
			if err := approve.Unpair(cmd.Context(), p, a.deviceOptions()); err != nil {
				fmt.Fprintf(a.stderr, "sesame: the server could not be told (%v); removing the pairing here anyway\n", err)
			}
			if _, err := v.Update(func(d *vault.Data) error {
				i, err := findPairing(d, p.ID)
				if err != nil {
					return err
				}
				d.Pairings = append(d.Pairings[:i], d.Pairings[i+1:]...)
				return nil
			}); err != nil {
				return err
			}
			fmt.Fprintf(a.stdout, "unpaired %s\n", pairingLabel(p))
			return nil
		},
	}
	cmd.Flags().BoolVarP(&yes, "yes", "y", false, "do not ask for confirmation")
	return cmd
}

// --- sesame approve ---

func (a *app) approveCmd() *cobra.Command {
	var watch, once bool
	cmd := &cobra.Command{
		Use:   "approve [ID] | approve --watch",
		Short: "Answer sign-in requests on a plain line-based terminal",
		Long: `Answer a sign-in request line by line: type the number shown on the sign-in
screen to approve, n to deny, or x if it was not you (a Sesame server then
blocks further requests until you clear it with 'sesame devices unblock').

Without --watch, answer the oldest pending request (or the one with ID, as a
notification of 'sesame agent' names it) and exit; with no request pending it
says so and exits 1. The answer is read from the terminal, or from standard
input when that is not a terminal. Exit 0 once the answer is delivered
(approved, denied or "not me"), 1 when it was not (expired, answered
elsewhere, wrong number).

With --watch, wait for requests on every active pairing and prompt for each
until stopped. Each new request rings the terminal's bell and sends a
terminal notification (OSC 9 and OSC 777, passed through tmux and screen);
--no-notify or SESAME_NO_NOTIFY=1 turns that off. Connection problems are
reported on stderr.`,
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if watch && len(args) > 0 {
				return usagef("give a request ID or --watch, not both")
			}
			if once && !watch {
				return usagef("--once goes with --watch")
			}
			v, err := a.openVault()
			if err != nil {
				return err
			}
			if !watch {
				id := ""
				if len(args) > 0 {
					id = args[0]
				}
				return a.approveOnce(cmd.Context(), v, id)
			}
			return a.watchApprovals(cmd.Context(), v, once)
		},
	}
	cmd.Flags().BoolVar(&watch, "watch", false, "watch for requests and prompt for each")
	cmd.Flags().BoolVar(&once, "once", false, "with --watch: exit after answering one request")
	return cmd
}

// activePairings counts the pairings that are not paused, failing when there is none.
func activePairings(d vault.Data) (int, error) {
	active := 0
	for _, p := range d.Pairings {
		if !p.Paused {
			active++
		}
	}
	if active == 0 {
		return 0, errors.New("no active pairing: pair with 'sesame pair URI' (or resume one with 'sesame devices resume')")
	}
	return active, nil
}

// answerLines delivers the lines typed on stdin, trimmed, until EOF (closed) or ctx is done.
func (a *app) answerLines(ctx context.Context) <-chan string {
	lines := make(chan string)
	go func() {
		defer close(lines)
		sc := bufio.NewScanner(a.stdin)
		for sc.Scan() {
			select {
			case lines <- strings.TrimSpace(sc.Text()):
			case <-ctx.Done():
				return
			}
		}
	}()
	return lines
}

// startWatcher starts watching the vault's active pairings until ctx is
// done, and says how many there are; it fails when there is none.
func (a *app) startWatcher(ctx context.Context, v *vault.Vault) (*approve.Watcher, int, error) {
	d := v.Data()
	active, err := activePairings(d)
	if err != nil {
		return nil, 0, err
	}
	w := approve.NewWatcher(d.Pairings, a.deviceOptions())
	go w.Run(ctx)
	return w, active, nil
}

// respond sends the answer to r and prints what came of it; it returns the
// history event for the caller to record, and the delivery's error.
func (a *app) respond(ctx context.Context, w *approve.Watcher, v *vault.Vault, r approve.Request, ans approve.Answer) (vault.Event, error) {
	rctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	err := w.Respond(rctx, r, ans)
	cancel()
	o := approve.OutcomeOf(ans, err)
	detail := outcomeText(o, err, blocksAfterNotMe(v.Data(), r.PairingID))
	fmt.Fprintln(a.stdout, detail)
	if code, ok := w.DisplayCode(r); ok && o == approve.OutcomeApproved {
		// Shown, not kept in the history: it is the sign-in's one-time code.
		fmt.Fprintf(a.stdout, "Now type %s on the sign-in screen.\n", code)
	}
	return approve.HistoryEvent(r, o, detail, a.now()), err
}

// readAnswer reads the answer line typed for r. An empty line (a stray
// Enter) answers nothing and a bad one says why; both ask again.
func (a *app) readAnswer(r approve.Request, line string) (approve.Answer, bool) {
	if line == "" {
		fmt.Fprint(a.stdout, promptText(r))
		return approve.Answer{}, false
	}
	ans, err := parseAnswer(r, line)
	if err != nil {
		fmt.Fprintf(a.stderr, "sesame: %v\n", err)
		fmt.Fprint(a.stdout, promptText(r))
		return approve.Answer{}, false
	}
	return ans, true
}

// watchApprovals prompts for each request on a line-based terminal until ctx
// is done (or, with once, until one request is answered).
func (a *app) watchApprovals(ctx context.Context, v *vault.Vault, once bool) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	w, active, err := a.startWatcher(ctx, v)
	if err != nil {
		return err
	}
	lines := a.answerLines(ctx)
	ring := a.terminalNotifier()
	fmt.Fprintf(a.stderr, "sesame: waiting for sign-in requests on %s; Ctrl-C to stop\n", plural(active, "pairing"))
	var hist approve.History
	defer func() { a.writeHistory(v, hist.Flush()) }()
	tick := time.NewTicker(approve.HistoryGap / 4)
	defer tick.Stop()
	var queue []approve.Request
	prompted, promptedAt := "", time.Time{}
	for {
		if len(queue) > 0 && prompted != queue[0].ID {
			a.printRequest(queue[0], len(queue)-1)
			prompted, promptedAt = queue[0].ID, a.now()
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
			a.writeHistory(v, hist.Due(a.now()))
		case ev, ok := <-w.Events():
			if !ok {
				return nil
			}
			switch {
			case ev.Status != nil:
				fmt.Fprintf(a.stderr, "sesame: %s\n", ev.Status)
			case ev.Request != nil:
				queue = append(queue, *ev.Request)
				ring(*ev.Request)
			case ev.Withdrawn != nil:
				for i, r := range queue {
					if r.PairingID == ev.Withdrawn.PairingID && r.ID == ev.Withdrawn.ID {
						queue = append(queue[:i], queue[i+1:]...)
						if i == 0 {
							now := a.now()
							if now.Before(r.Expires) {
								fmt.Fprintln(a.stdout, "The sign-in request was withdrawn or answered elsewhere.")
							} else {
								fmt.Fprintln(a.stdout, "The sign-in request expired.")
								// Only a request the user had time to see is history.
								if approve.Worth(promptedAt, now) {
									a.writeHistory(v, hist.Add(approve.HistoryEvent(r, approve.OutcomeExpired, "", now), now))
								}
							}
							prompted = ""
						}
						break
					}
				}
			}
		case line, ok := <-lines:
			if !ok {
				return nil
			}
			if len(queue) == 0 {
				if line != "" {
					fmt.Fprintln(a.stderr, "sesame: no sign-in request is waiting")
				}
				continue
			}
			r := queue[0]
			ans, ok := a.readAnswer(r, line)
			if !ok {
				continue
			}
			queue = queue[1:]
			prompted = ""
			ev, _ := a.respond(ctx, w, v, r, ans)
			now := a.now()
			a.writeHistory(v, hist.Add(ev, now))
			if once {
				return nil
			}
		}
	}
}

func (a *app) printRequest(r approve.Request, more int) {
	w := a.stdout
	fmt.Fprintln(w)
	const heading = "Are you trying to sign in?"
	fmt.Fprintln(w, heading)
	for _, s := range []string{r.Title, r.Question} {
		if s != "" && s != heading {
			fmt.Fprintf(w, "  %s\n", s)
		}
	}
	fmt.Fprintf(w, "  user:        %s\n", r.User)
	if r.Application != "" {
		fmt.Fprintf(w, "  application: %s\n", r.Application)
	}
	where := strings.Trim(strings.Join([]string{r.IP, r.Location}, ", "), ", ")
	if where != "" {
		fmt.Fprintf(w, "  from:        %s\n", where)
	}
	if r.UserAgent != "" {
		fmt.Fprintf(w, "  using:       %s\n", r.UserAgent)
	}
	fmt.Fprintf(w, "  expires in:  %s\n", r.Expires.Sub(a.now()).Round(time.Second))
	if more > 0 {
		fmt.Fprintf(w, "  (%s waiting)\n", plural(more, "more request"))
	}
	fmt.Fprint(w, promptText(r))
}

// promptText is the input line's label. The instruction itself is the
// request's Question, printed once above it.
func promptText(r approve.Request) string {
	const others = "n = deny, x = this wasn't me"
	switch r.Mode {
	case approve.ModeChoose, approve.ModePresence:
		return fmt.Sprintf("Your choice, %s (%s): ", orList(r.Choices), others)
	case approve.ModeApprove:
		return "Approve? y = yes, " + others + ": "
	}
	return "Number (" + others + "): "
}

// orList joins choices as "A, B or C".
func orList(c []string) string {
	if len(c) < 2 {
		return strings.Join(c, "")
	}
	return strings.Join(c[:len(c)-1], ", ") + " or " + c[len(c)-1]
}

// parseAnswer reads one answer line for r.
func parseAnswer(r approve.Request, line string) (approve.Answer, error) {
	l := strings.ToLower(line)
	switch l {
	case "n", "no", "deny":
		return approve.Answer{Reason: approve.Cancelled}, nil
	case "x", "not me", "not_me":
		return approve.Answer{Reason: approve.NotMe}, nil
	}
	switch r.Mode {
	case approve.ModeApprove:
		if l == "y" || l == "yes" {
			return approve.Answer{Approve: true}, nil
		}
		return approve.Answer{}, errors.New("answer y, n or x")
	case approve.ModeChoose, approve.ModePresence:
		for _, c := range r.Choices {
			if strings.EqualFold(c, line) {
				return approve.Answer{Approve: true, Number: c}, nil
			}
		}
		return approve.Answer{}, fmt.Errorf("type %s (the one on the sign-in screen), n or x", orList(r.Choices))
	}
	if strings.Trim(line, "0123456789") != "" || len(line) > 8 {
		return approve.Answer{}, errors.New("type the digits shown on the sign-in screen, n or x")
	}
	return approve.Answer{Approve: true, Number: line}, nil
}

// blocksAfterNotMe reports whether the pairing's server blocks further
// requests after a "this wasn't me" answer: Sesame's own protocol does,
// privacyIDEA only records it.
func blocksAfterNotMe(d vault.Data, pairingID string) bool {
	for _, p := range d.Pairings {
		if p.ID == pairingID {
			return p.Provider == sesame.ProviderName
		}
	}
	return false
}

// outcomeText says what became of an answer, for the line prompt.
func outcomeText(o approve.Outcome, err error, blocks bool) string {
	switch o {
	case approve.OutcomeApproved:
		return "Approved: the sign-in goes ahead."
	case approve.OutcomeNotMe:
		if blocks {
			return "Reported as not you: the sign-in was denied and the service blocks further requests until you clear it (sesame devices unblock)."
		}
		return "Reported as not you: the sign-in was denied and the server has recorded it."
	case approve.OutcomeDenied:
		return "Denied."
	case approve.OutcomeWrongNumber:
		return "Denied: the number did not match the sign-in screen."
	case approve.OutcomeExpired:
		return "Too late: the sign-in request expired."
	}
	if errors.Is(err, approve.ErrAnswered) {
		return "The sign-in request was already answered."
	}
	return "The answer could not be delivered: " + err.Error()
}

// writeHistory adds entries to the vault's sign-in history in one write.
func (a *app) writeHistory(v *vault.Vault, evs []vault.Event) {
	if len(evs) == 0 {
		return
	}
	_, err := v.Update(func(d *vault.Data) error {
		for _, e := range evs {
			d.Record(e)
		}
		return nil
	})
	if err != nil {
		fmt.Fprintf(a.stderr, "sesame: the decisions were sent but not saved in the history: %v\n", err)
	}
}
