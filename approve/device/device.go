// Package device is the device side of sign-in approvals for the CLI and the
// TUI: it pairs from a URI of any supported provider, makes the provider for
// a stored pairing, and watches every pairing for requests with a Watcher.
// Callers never special-case providers.
package device

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/sesame-auth/sesame/approve"
	"github.com/sesame-auth/sesame/vault"
)

// Options configure pairing and the providers. The zero value is ready to use.
type Options struct {
	// HTTPClient sends the requests; each provider's default when nil.
	HTTPClient *http.Client
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// Rand returns a uniform int64 in [0, n), for backoff jitter; crypto/rand when nil.
	Rand func(n int64) int64
	// ConfirmInsecureTLS is asked, with the server's origin, when a pairing
	// URI asks to skip TLS certificate checks (privacyIDEA's sslverify=0).
	// Only true allows it; nil refuses.
	ConfirmInsecureTLS func(server string) bool
}

func (o Options) now() time.Time {
	if o.Now != nil {
		return o.Now()
	}
	return time.Now()
}

func (o Options) client() approve.ClientOptions {
	return approve.ClientOptions{HTTPClient: o.HTTPClient, Now: o.Now}
}

// ErrUnknownURI is returned for a URI that no provider pairs from.
var ErrUnknownURI = errors.New("not a pairing link Sesame knows: expected sesame://pair?... or a privacyIDEA push enrolment link (otpauth://pipush/...)")

// ErrUnknownProvider is returned for a stored pairing of an unknown provider.
var ErrUnknownProvider = errors.New("the pairing is for a provider this Sesame does not know: update Sesame")

// Pair pairs with the server named in uri, whichever provider it is for, and
// returns the pairing to store in the vault.
func Pair(ctx context.Context, uri string, opts Options) (vault.Pairing, error) {
	switch {
	case approve.IsPairingURI(uri):
		return approve.Pair(ctx, uri, opts.client())
	case isPrivacyIDEA(uri):
		return pairPrivacyIDEA(ctx, uri, opts)
	}
	return vault.Pairing{}, ErrUnknownURI
}

// IsPairingURI reports whether some provider pairs from uri.
func IsPairingURI(uri string) bool { return approve.IsPairingURI(uri) || isPrivacyIDEA(uri) }

// NewProvider returns the provider for a stored pairing.
func NewProvider(p vault.Pairing, opts Options) (approve.Provider, error) {
	switch p.Provider {
	case approve.ProviderName:
		return approve.NewClient(p, opts.client())
	case privacyIDEAName:
		return newPrivacyIDEA(p, opts)
	}
	return nil, fmt.Errorf("%w (%q)", ErrUnknownProvider, p.Provider)
}

// Unpair tells the pairing's server to forget this device, where the
// provider supports it (Sesame's own protocol does). It returns nil for
// providers without a way to do so; the caller removes the pairing from the
// vault either way.
func Unpair(ctx context.Context, p vault.Pairing, opts Options) error {
	prov, err := NewProvider(p, opts)
	if err != nil {
		return err
	}
	if u, ok := prov.(interface{ Unpair(context.Context) error }); ok {
		return u.Unpair(ctx)
	}
	return nil
}

// Unblock clears the block a "this wasn't me" answer put on the pairing's
// user, where the provider supports it.
func Unblock(ctx context.Context, p vault.Pairing, opts Options) error {
	prov, err := NewProvider(p, opts)
	if err != nil {
		return err
	}
	if u, ok := prov.(interface{ Unblock(context.Context) error }); ok {
		return u.Unblock(ctx)
	}
	return fmt.Errorf("%w: this provider has no unblock: ask the service's administrator", approve.ErrBadRequest)
}
