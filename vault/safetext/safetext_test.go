package safetext

import (
	"testing"
	"unicode/utf8"
)

func TestClean(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"Firefox on Linux", "Firefox on Linux"},
		{"Lyon, FR · café 東京 🙂", "Lyon, FR · café 東京 🙂"},
		{"evil\u202Egpj.exe", "evilgpj.exe"},                                     // right-to-left override
		{"\u2066Paris\u2069, FR", "Paris, FR"},                                   // isolates
		{"a\u200Bb\u200Cc\u200Dd\uFEFFe\u00ADf", "abcdef"},                       // zero-width, BOM, soft hyphen
		{"Git\u200dHub", "GitHub"},                                               // joiner after a letter
		{"\u200d\U0001F4BB", "\U0001F4BB"},                                       // joiner at the start
		{"\U0001F469\u200d\U0001F4BB dev", "\U0001F469\u200d\U0001F4BB dev"},     // emoji sequence
		{"\U0001F3F3\ufe0f\u200d\U0001F308", "\U0001F3F3\ufe0f\u200d\U0001F308"}, // after a variation selector
		{"\U0001F44B\U0001F3FD\u200d", "\U0001F44B\U0001F3FD\u200d"},             // after a skin tone
		{"\U0001F469\u200b\u200d\U0001F4BB", "\U0001F469\u200d\U0001F4BB"},       // judged after what is kept
		{"tag\U000E0041\U000E0042", "tag"},                                       // tag characters
		{"line\u2028break\u2029", "linebreak"},                                   // separators
		{"\x1b[31mred\x1b[0m", "red"},                                            // SGR
		{"\x1b]8;;https://evil\x07link\x1b]8;;\x07", "link"},                     // OSC 8 hyperlink
		{"\x1b]0;title\x1b\\x", "x"},                                             // OSC with ST
		{"\x1bPdcs\x1b\\y", "y"},                                                 // DCS
		{"\u009b2Jz", "z"},                                                       // 8-bit CSI
		{"a\x1b(Bb\x1bcc", "abc"},                                                // charset and reset
		{"tab\tnew\nline\r\x7f\x00", "tabnewline"},                               // C0 and DEL
		{"bad\xffutf8\ufffd", "badutf8"},                                         // invalid UTF-8 and U+FFFD
		{"\ue000private", "private"},                                             // private use
		{"\x1b[", ""},                                                            // truncated
	} {
		got := Clean(tc.in)
		if got != tc.want {
			t.Errorf("Clean(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if !IsClean(got) {
			t.Errorf("Clean(%q) = %q is not clean", tc.in, got)
		}
		if IsClean(tc.in) != (tc.in == tc.want) {
			t.Errorf("IsClean(%q) = %v", tc.in, IsClean(tc.in))
		}
	}
}

func TestLine(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"  Sign-in\tfrom\r\nParis \u2028FR  ", "Sign-in from Paris FR"},
		{"a\x1b[31mred\x1b[0m b", "ared b"},
		{"evil\u202Egpj", "evilgpj"},
	} {
		if got := Line(tc.in); got != tc.want {
			t.Errorf("Line(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}

func FuzzClean(f *testing.F) {
	for _, s := range []string{"plain", "a\u202Eb", "\x1b[1;31mx", "\x1b]0;t\x07", "\xff\xfe", "\u009b31m"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		c := Clean(s)
		if !IsClean(c) || !utf8.ValidString(c) {
			t.Fatalf("Clean(%q) = %q is not clean", s, c)
		}
		if Clean(c) != c {
			t.Fatalf("Clean is not idempotent on %q", s)
		}
		if len(c) > len(s) {
			t.Fatalf("Clean(%q) grew", s)
		}
	})
}
