package qrcode

import (
	"fmt"
	"strings"
	"testing"

	"rsc.io/qr/coding"
)

// Long runs of QR alphanumeric characters (the secret) get their own segment.
func TestSegments(t *testing.T) {
	uri := "otpauth://totp/GitHub:alice?algorithm=SHA512&digits=8&issuer=GitHub&period=60&secret=GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ"
	var kinds []string
	joined := ""
	for _, s := range segments(uri) {
		kinds = append(kinds, fmt.Sprintf("%T", s))
		switch s := s.(type) {
		case coding.String:
			joined += string(s)
		case coding.Alpha:
			joined += string(s)
		}
	}
	if strings.Join(kinds, " ") != "coding.String coding.Alpha" {
		t.Errorf("segments %v, want the link in byte mode then the secret in alphanumeric mode", kinds)
	}
	if joined != uri {
		t.Errorf("the segments spell %q", joined)
	}
}
