package transfer

import (
	"strings"

	"github.com/sesame-auth/sesame/vault"
)

// ExportURIs writes accounts as a text list of otpauth:// URIs, one a line,
// which most authenticator apps import. The text holds every secret
// unencrypted: callers must warn before writing it anywhere.
func ExportURIs(accounts []vault.Account) []byte {
	var b strings.Builder
	for _, a := range accounts {
		b.WriteString(a.URI())
		b.WriteByte('\n')
	}
	return []byte(b.String())
}
