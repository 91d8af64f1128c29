package approve

import (
	"strings"
	"testing"
	"unicode/utf8"
)

func TestUserAgentSummary(t *testing.T) {
	for _, tc := range []struct{ ua, want string }{
		{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", "Chrome on Linux"},
		{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0", "Edge on Windows"},
		{"Mozilla/5.0 (Macintosh; Intel Mac OS X 14_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15", "Safari on macOS"},
		{"Mozilla/5.0 (X11; Ubuntu; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0", "Firefox on Linux"},
		{"Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36", "Chrome on Android"},
		{"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1", "Safari on iOS"},
		{"curl/8.5.0", "curl"},
		{"Firefox on Linux", "Firefox on Linux"},
		{"OpenSSH", "OpenSSH"},
		{"", ""},
	} {
		if got := UserAgentSummary(tc.ua); got != tc.want {
			t.Errorf("UserAgentSummary(%q) = %q, want %q", tc.ua, got, tc.want)
		}
	}
	long := strings.Repeat("unknown-agent ", 30)
	if got := UserAgentSummary(long); utf8.RuneCountInString(got) > maxUserAgentSummary || !strings.HasSuffix(got, "…") {
		t.Errorf("a long unknown agent gives %q", got)
	}
}
