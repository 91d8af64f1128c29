package approve

// The dispatch: pairing from a URI of any provider handed in, making the
// provider for a stored pairing, and the commands some providers offer.
// Callers never special-case providers.

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/sesame-auth/sesame/vault"
)

// Kind is one kind of provider Sesame pairs with: approve/sesame and
// approve/privacyidea each offer one. cmd hands the kinds in through Options,
// as http.Server takes a Handler, so this package never imports them.
type Kind struct {
	// Name is vault.Pairing.Provider for this kind's pairings.
	Name string
	// IsPairingURI reports whether this kind pairs from uri.
	IsPairingURI func(uri string) bool
	// Pair pairs with the server named in uri.
	Pair func(ctx context.Context, uri string, opts Options) (vault.Pairing, error)
	// New returns the provider for a stored pairing of this kind.
	New func(p vault.Pairing, opts Options) (Provider, error)
}

// Options configure pairing and the providers.
type Options struct {
	// Kinds are the providers Sesame may pair with and watch; none when nil.
	Kinds []Kind
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

func (o Options) kind(pred func(Kind) bool) (Kind, bool) {
	for _, k := range o.Kinds {
		if pred(k) {
			return k, true
		}
	}
	return Kind{}, false
}

// ErrUnknownURI is returned for a URI that no provider pairs from.
var ErrUnknownURI = errors.New("not a pairing link Sesame knows: expected sesame://pair?... or a privacyIDEA push enrolment link (otpauth://pipush/...)")

// ErrUnknownProvider is returned for a stored pairing of an unknown provider.
var ErrUnknownProvider = errors.New("the pairing is for a provider this Sesame does not know: update Sesame")

// Pair pairs with the server named in uri, whichever provider it is for, and
// returns the pairing to store in the vault.
func Pair(ctx context.Context, uri string, opts Options) (vault.Pairing, error) {
	k, ok := opts.kind(func(k Kind) bool { return k.IsPairingURI(uri) })
	if !ok {
		return vault.Pairing{}, ErrUnknownURI
	}
	return k.Pair(ctx, uri, opts)
}

// IsPairingURI reports whether some provider in opts pairs from uri.
func IsPairingURI(uri string, opts Options) bool {
	_, ok := opts.kind(func(k Kind) bool { return k.IsPairingURI(uri) })
	return ok
}

// NewProvider returns the provider for a stored pairing.
func NewProvider(p vault.Pairing, opts Options) (Provider, error) {
	k, ok := opts.kind(func(k Kind) bool { return k.Name == p.Provider })
	if !ok {
		return nil, fmt.Errorf("%w (%q)", ErrUnknownProvider, p.Provider)
	}
	return k.New(p, opts)
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
	return fmt.Errorf("%w: this provider has no unblock: ask the service's administrator", ErrBadRequest)
}
