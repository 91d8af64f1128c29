// Package safetext cleans text that came from outside (a server, a pairing
// link, an imported file) before it is signed, stored or shown on a terminal,
// so that it cannot reorder, hide or restyle what the user reads.
//
// It is the one home of that rule: the approval server, the device side of
// sign-in approvals and the account lists all call it.
package safetext

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Allowed reports whether r may appear in displayed text after prev, the
// character shown before it (0 at the start). Refused are: control
// characters (C0, DEL, C1, which include ESC and so every ANSI escape
// sequence), format characters (Unicode category Cf: bidirectional overrides
// and isolates U+202A–U+202E and U+2066–U+2069, zero-width spaces and
// non-joiners, the byte-order mark, soft hyphens, tags), the line and
// paragraph separators U+2028 and U+2029, surrogates, private-use characters
// and the replacement character U+FFFD. The one exception is the zero-width
// joiner U+200D right after an emoji (a symbol, its variation selector or
// skin-tone modifier), where it builds emoji sequences such as 👩‍💻; after
// a letter it could hide inside a name ("Git\u200dHub"), and is refused.
func Allowed(prev, r rune) bool {
	switch {
	case r < 0x20, r == 0x7f, r >= 0x80 && r < 0xa0:
		return false
	case r == utf8.RuneError, r == '\u2028', r == '\u2029':
		return false
	case r == zwj:
		return unicode.Is(unicode.So, prev) || prev == '\ufe0f' || prev >= 0x1f3fb && prev <= 0x1f3ff
	case unicode.In(r, unicode.Cf, unicode.Cs, unicode.Co):
		return false
	}
	return true
}

// zwj is the zero-width joiner.
const zwj = '\u200d'

// IsControl reports whether r breaks a line or moves the cursor: a C0 or C1
// control character (ESC among them), or the line and paragraph separators
// U+2028 and U+2029, which some terminals and most text widgets take for
// newlines. Allowed refuses these too; IsControl tells them apart from the
// invisible ones, for messages that say which kind was found.
func IsControl(r rune) bool {
	return unicode.IsControl(r) || r == '\u2028' || r == '\u2029'
}

// IsClean reports whether s is valid UTF-8 made only of allowed characters,
// that is whether Clean(s) == s.
func IsClean(s string) bool {
	var prev rune
	for _, r := range s {
		if !Allowed(prev, r) {
			return false
		}
		prev = r
	}
	return true
}

// Clean returns s without invalid UTF-8, without ANSI escape sequences (CSI,
// OSC, DCS and the other string commands, in their 7-bit and 8-bit forms, with
// their parameters) and without any character Allowed refuses. Printable text
// is kept as it is.
func Clean(s string) string {
	if IsClean(s) {
		return s
	}
	s = strings.ToValidUTF8(s, "")
	var b strings.Builder
	b.Grow(len(s))
	var prev rune // the last character kept
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == 0x1b:
			i += escapeLen(s[i:])
		case r == 0x9b: // 8-bit CSI
			i += n + csiLen(s[i+n:])
		case r == 0x90 || r == 0x98 || r == 0x9d || r == 0x9e || r == 0x9f: // 8-bit DCS, SOS, OSC, PM, APC
			i += n + stringLen(s[i+n:])
		default:
			if Allowed(prev, r) {
				b.WriteString(s[i : i+n])
				prev = r
			}
			i += n
		}
	}
	return b.String()
}

// Line is Clean for text shown on one line (a notification, a server's
// message): tabs, line breaks and other white space become single spaces
// first, so that words do not run together, and the result is trimmed.
func Line(s string) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) || r == '\u2028' || r == '\u2029' {
			return ' '
		}
		return r
	}, s)
	return strings.Join(strings.Fields(Clean(s)), " ")
}

// escapeLen is the length of the escape sequence at the start of s (s[0] is ESC).
func escapeLen(s string) int {
	if len(s) < 2 {
		return len(s)
	}
	switch s[1] {
	case '[':
		return 2 + csiLen(s[2:])
	case ']', 'P', 'X', '^', '_':
		return 2 + stringLen(s[2:])
	}
	if s[1] >= 0x20 && s[1] < 0x7f {
		// Intermediate bytes, then one final byte (ESC ( B, ESC c, ESC 7, ...).
		i := 1
		for i < len(s) && s[i] >= 0x20 && s[i] <= 0x2f {
			i++
		}
		if i < len(s) && s[i] >= 0x30 && s[i] < 0x7f {
			i++
		}
		return i
	}
	return 1
}

// csiLen is the length of a CSI sequence's parameters, intermediates and
// final byte at the start of s.
func csiLen(s string) int {
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= 0x40 && c <= 0x7e:
			return i + 1
		case c < 0x20 || c > 0x7e:
			return i // not a well-formed sequence: stop before the stray byte
		}
	}
	return len(s)
}

// stringLen is the length of a string command's body and terminator (BEL,
// ESC \ or the 8-bit ST) at the start of s; all of s when it is unterminated.
func stringLen(s string) int {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == 0x07 || r == 0x9c:
			return i + n
		case r == 0x1b && i+1 < len(s) && s[i+1] == '\\':
			return i + 2
		}
		i += n
	}
	return len(s)
}
