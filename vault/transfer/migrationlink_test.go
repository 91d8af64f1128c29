package transfer_test

import (
	"testing"

	"github.com/sesame-auth/sesame/vault/transfer"
)

func TestIsMigrationLink(t *testing.T) {
	for s, want := range map[string]bool{
		"otpauth-migration://offline?data=CgA":       true,
		"  OTPAUTH-MIGRATION://offline?data=CgA\n":   true,
		"otpauth-Migration:":                         true,
		"otpauth://totp/X:y?secret=JBSWY3DPEHPK3PXP": false,
		"otpauth-migration":                          false,
		"":                                           false,
		"see otpauth-migration://offline":            false,
	} {
		if got := transfer.IsMigrationLink(s); got != want {
			t.Errorf("IsMigrationLink(%q) = %v, want %v", s, got, want)
		}
	}
}
