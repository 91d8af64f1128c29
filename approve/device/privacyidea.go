package device

import (
	"context"

	"github.com/sesame-auth/sesame/approve"
	"github.com/sesame-auth/sesame/approve/privacyidea"
	"github.com/sesame-auth/sesame/vault"
)

// privacyIDEAName is vault.Pairing.Provider for privacyIDEA PUSH tokens.
const privacyIDEAName = "privacyidea"

func (o Options) privacyIDEA() privacyidea.Options {
	return privacyidea.Options{HTTPClient: o.HTTPClient, Now: o.Now, AllowInsecureTLS: o.ConfirmInsecureTLS}
}

func isPrivacyIDEA(uri string) bool { return privacyidea.IsEnrollURI(uri) }

func pairPrivacyIDEA(ctx context.Context, uri string, opts Options) (vault.Pairing, error) {
	return privacyidea.Pair(ctx, uri, opts.privacyIDEA())
}

func newPrivacyIDEA(p vault.Pairing, opts Options) (approve.Provider, error) {
	return privacyidea.New(p, opts.privacyIDEA())
}
