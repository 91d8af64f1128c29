package vault_test

import (
	"bufio"
	"errors"
	"net/url"
	"os"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/sesame-auth/sesame/vault/vaulttest"

	"github.com/pquerna/otp"
	"github.com/sesame-auth/sesame/vault"
)

// want is the expected result of parsing one URI. Zero means "rejected".
type want struct {
	typ            vault.Type
	issuer, name   string
	secret         string // base32, upper case, no padding
	algo           vault.Algorithm
	digits, period int
	counter        uint64
}

func totpW(issuer, name, secret string, algo vault.Algorithm, digits, period int) want {
	return want{vault.TOTP, issuer, name, secret, algo, digits, period, 0}
}

func hotpW(issuer, name, secret string, algo vault.Algorithm, digits int, counter uint64) want {
	return want{vault.HOTP, issuer, name, secret, algo, digits, 0, counter}
}

func steamW(issuer, name, secret string) want {
	return want{vault.Steam, issuer, name, secret, vault.SHA1, 5, 30, 0}
}

func (w want) check(t *testing.T, uri string, a vault.Account, err error) {
	t.Helper()
	if err != nil {
		t.Errorf("ParseURI(%q): %v", uri, err)
		return
	}
	got := want{a.Type, a.Issuer, a.Name, a.Secret.Base32(), a.Algorithm, a.Digits, a.Period, a.Counter}
	if got != w {
		t.Errorf("ParseURI(%q)\n got  %+v\n want %+v", uri, got, w)
	}
	if err := a.Validate(); err != nil {
		t.Errorf("ParseURI(%q) returned an account that does not validate: %v", uri, err)
	}
}

// checkRejected asserts err is a *vault.FieldError naming field, and that its
// message follows the error style and does not reveal secretText.
func checkRejected(t *testing.T, uri string, err error, field, secretText string) *vault.FieldError {
	t.Helper()
	var fe *vault.FieldError
	if !errors.As(err, &fe) {
		t.Errorf("ParseURI(%q) = %v, want a *vault.FieldError for %s", uri, err, field)
		return nil
	}
	if fe.Field != field {
		t.Errorf("ParseURI(%q) blames %q (%v), want %q", uri, fe.Field, err, field)
	}
	if !errors.Is(err, vault.ErrInvalid) {
		t.Errorf("ParseURI(%q): errors.Is(err, ErrInvalid) = false", uri)
	}
	msg := err.Error()
	if !strings.HasPrefix(msg, fe.Field+" ") || fe.Reason == "" {
		t.Errorf("error %q does not start with the field name and a reason", msg)
	}
	if r, _ := utf8.DecodeRuneInString(msg); unicode.IsUpper(r) || strings.HasSuffix(msg, ".") {
		t.Errorf("error %q: want lower case, no trailing period", msg)
	}
	if secretText != "" {
		forms := []string{secretText, strings.ToUpper(secretText), strings.ToLower(secretText)}
		if s, err := vault.ParseSecret(secretText); err == nil {
			forms = append(forms, s.Base32(), string(s))
		}
		for _, f := range forms {
			if len(f) >= 4 && strings.Contains(msg, f) {
				t.Errorf("error %q reveals the secret", msg)
			}
		}
	}
	return fe
}

// edgeCases mirrors every URI of ../shared/fixtures/synthesized/otpauth_edge_cases.txt
// (synthesized data) with the result Sesame decided on. field names the
// *FieldError of a rejected URI.
var edgeCases = []struct {
	uri   string
	want  want
	field string
}{
	{uri: "otpauth://totp/Example:alice@google.com?secret=JBSWY3DPEHPK3PXP&issuer=Example",
		want: totpW("Example", "alice@google.com", "JBSWY3DPEHPK3PXP", vault.SHA1, 6, 30)},
	{uri: "otpauth://totp/ACME%20Co:john.doe@email.com?secret=HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ&issuer=ACME%20Co&algorithm=SHA1&digits=6&period=30",
		want: totpW("ACME Co", "john.doe@email.com", "HXDMVJECJJWSRB3HWIZR4IFUGFTMXBOZ", vault.SHA1, 6, 30)},
	{uri: "otpauth://totp/Big%20Corporation%3A%20alice%40bigco.com?secret=JBSWY3DPEHPK3PXP&issuer=Big%20Corporation",
		want: totpW("Big Corporation", "alice@bigco.com", "JBSWY3DPEHPK3PXP", vault.SHA1, 6, 30)},
	{uri: "otpauth://hotp/Air%20Canada:Benjamin?secret=KUVJJOM753IHTNDSZVCNKL7GII&issuer=Air+Canada&algorithm=SHA256&digits=7&counter=50",
		want: hotpW("Air Canada", "Benjamin", "KUVJJOM753IHTNDSZVCNKL7GII", vault.SHA256, 7, 50)},
	{uri: "otpauth://totp/pi%40raspberrypi?secret=7KSQL2JTUDIS5EF65KLMRQIIGY",
		want: totpW("", "pi@raspberrypi", "7KSQL2JTUDIS5EF65KLMRQIIGY", vault.SHA1, 6, 30)},
	{uri: "otpauth://totp/pi%40raspberrypi?secret=7KSQL2JTUDIS5EF65KLMRQIIGY&issuer=raspberrypi",
		want: totpW("raspberrypi", "pi@raspberrypi", "7KSQL2JTUDIS5EF65KLMRQIIGY", vault.SHA1, 6, 30)},
	// Decision: the issuer parameter wins over a disagreeing label prefix.
	{uri: "otpauth://totp/Foo:alice?secret=JBSWY3DPEHPK3PXP&issuer=Bar",
		want: totpW("Bar", "alice", "JBSWY3DPEHPK3PXP", vault.SHA1, 6, 30)},
	// Decision: the label is split at its first colon.
	{uri: "otpauth://totp/encoding%3A%20%C2%BF%C3%A4%C3%84%C3%A9%C3%89%3F%20%28demo%29?secret=7KSQL2JTUDIS5EF65KLMRQIIGY",
		want: totpW("encoding", "¿äÄéÉ? (demo)", "7KSQL2JTUDIS5EF65KLMRQIIGY", vault.SHA1, 6, 30)},
	{uri: "otpauth://totp/Example:alice?secret=jbswy3dpehpk3pxp&issuer=Example",
		want: totpW("Example", "alice", "JBSWY3DPEHPK3PXP", vault.SHA1, 6, 30)},
	{uri: "otpauth://totp/Deno:Mason?secret=4SJHB4GSD43FZBAI7C2HLRJGPQ======&issuer=Deno",
		want: totpW("Deno", "Mason", "4SJHB4GSD43FZBAI7C2HLRJGPQ", vault.SHA1, 6, 30)},
	{uri: "otpauth://totp/Deno:Mason?secret=4SJHB4GSD43FZBAI7C2HLRJGPQ%3D%3D%3D%3D%3D%3D&issuer=Deno",
		want: totpW("Deno", "Mason", "4SJHB4GSD43FZBAI7C2HLRJGPQ", vault.SHA1, 6, 30)},
	{uri: "otpauth://totp/Example:alice?secret=JBSW%20Y3DP%20EHPK%203PXP&issuer=Example",
		want: totpW("Example", "alice", "JBSWY3DPEHPK3PXP", vault.SHA1, 6, 30)},
	{uri: "otpauth://totp/Example:alice?secret=JBSW+Y3DP+EHPK+3PXP&issuer=Example",
		want: totpW("Example", "alice", "JBSWY3DPEHPK3PXP", vault.SHA1, 6, 30)},
	{uri: "otpauth://totp/Example:alice?secret=JBSW-Y3DP-EHPK-3PXP&issuer=Example",
		want: totpW("Example", "alice", "JBSWY3DPEHPK3PXP", vault.SHA1, 6, 30)},
	{uri: "otpauth://totp/SPDX:James?secret=5OM4WOOGPLQEF6UGN3CPEOOLWU&issuer=SPDX&algorithm=SHA256&digits=7&period=20",
		want: totpW("SPDX", "James", "5OM4WOOGPLQEF6UGN3CPEOOLWU", vault.SHA256, 7, 20)},
	{uri: "otpauth://totp/Example:alice?secret=JBSWY3DPEHPK3PXP&issuer=Example&algorithm=SHA512&digits=8&period=60",
		want: totpW("Example", "alice", "JBSWY3DPEHPK3PXP", vault.SHA512, 8, 60)},
	{uri: "otpauth://hotp/WWE:Mason?algorithm=sha512&digits=8&issuer=WWE&period=30&secret=5VAML3X35THCEBVRLV24CGBKOY&counter=10300&codeDisplay=%7B%22pinned%22%3Afalse%7D",
		want: hotpW("WWE", "Mason", "5VAML3X35THCEBVRLV24CGBKOY", vault.SHA512, 8, 10300)},
	{uri: "OTPAUTH://TOTP/Example:alice?secret=JBSWY3DPEHPK3PXP&issuer=Example",
		want: totpW("Example", "alice", "JBSWY3DPEHPK3PXP", vault.SHA1, 6, 30)},
	// Decision: an HOTP URI without a counter is rejected.
	{uri: "otpauth://hotp/Example:alice?secret=JBSWY3DPEHPK3PXP&issuer=Example", field: "counter"},
	{uri: "otpauth://steam/Boeing:Sophia?secret=JRZCL47CMXVOQMNPZR2F7J4RGI&issuer=Boeing&algorithm=SHA1&digits=5&period=30",
		want: steamW("Boeing", "Sophia", "JRZCL47CMXVOQMNPZR2F7J4RGI")},
	{uri: "otpauth://totp/test:test@example.com?secret=63BEDWCQZKTQWPESARIERL5DTTQFCJTK&issuer=Valve&algorithm=SHA1&digits=5&period=30&encoder=steam",
		want: steamW("Valve", "test@example.com", "63BEDWCQZKTQWPESARIERL5DTTQFCJTK")},
	{uri: "otpauth://totp/Steam:alice?secret=JBSWY3DPEHPK3PXP&encoder=steam",
		want: steamW("Steam", "alice", "JBSWY3DPEHPK3PXP")},
	// Decision: Bitwarden's steam://SECRET gives issuer "Steam" and no name.
	{uri: "steam://JRZCL47CMXVOQMNPZR2F7J4RGI",
		want: steamW("Steam", "", "JRZCL47CMXVOQMNPZR2F7J4RGI")},
	// Decision: a plain totp URI labelled Steam stays a 6-digit TOTP.
	{uri: "otpauth://totp/Steam:Sophia?secret=JRZCL47CMXVOQMNPZR2F7J4RGI&issuer=Steam",
		want: totpW("Steam", "Sophia", "JRZCL47CMXVOQMNPZR2F7J4RGI", vault.SHA1, 6, 30)},
	{uri: "otpauth://totp/test:test?secret=&algo=SHA1&digits=6&period=30", field: "secret"},
	{uri: "otpauth://totp/Example:alice?secret=0000&issuer=Example", field: "secret"},
	{uri: "otpauth://totp/Example:alice?issuer=Example", field: "secret"},
	// Decision: out-of-range digits and period, and MD5, are rejected, not clamped.
	{uri: "otpauth://totp/Example:alice?secret=JBSWY3DPEHPK3PXP&issuer=Example&digits=11", field: "digits"},
	{uri: "otpauth://totp/Example:alice?secret=JBSWY3DPEHPK3PXP&issuer=Example&period=0", field: "period"},
	{uri: "otpauth://totp/Example:alice?secret=JBSWY3DPEHPK3PXP&issuer=Example&algorithm=MD5", field: "algorithm"},
	// Decision: split at the first colon: issuer "a", name "b:c".
	{uri: "otpauth://totp/a:b:c?secret=JBSWY3DPEHPK3PXP",
		want: totpW("a", "b:c", "JBSWY3DPEHPK3PXP", vault.SHA1, 6, 30)},
	{uri: "otpauth://xotp/Example:alice?secret=JBSWY3DPEHPK3PXP", field: "type"},
}

func TestParseURIEdgeCases(t *testing.T) {
	for i, tc := range edgeCases {
		t.Run(strconv.Itoa(i), func(t *testing.T) {
			a, err := vault.ParseURI(tc.uri)
			if tc.field != "" {
				if err == nil {
					t.Fatalf("ParseURI(%q) accepted %+v, want a %s error", tc.uri, a, tc.field)
				}
				checkRejected(t, tc.uri, err, tc.field, queryParam(tc.uri, "secret"))
				return
			}
			tc.want.check(t, tc.uri, a, err)
		})
	}
}

func queryParam(uri, key string) string {
	_, q, _ := strings.Cut(uri, "?")
	v, _ := url.ParseQuery(q)
	return v.Get(key)
}

// edgeFileCase is one URI of otpauth_edge_cases.txt with the comment block above it.
type edgeFileCase struct {
	uri        string
	expect     string // text after "# EXPECT...:"
	discussion string // all comment lines of the block
	line       int
}

func readEdgeCaseFile(t *testing.T, path string) []edgeFileCase {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var (
		cases              []edgeFileCase
		expect, discussion string
		inBlock            bool
	)
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "":
		case strings.HasPrefix(line, "# SEEN"):
			inBlock, expect, discussion = true, "", line
		case strings.HasPrefix(line, "#"):
			if !inBlock {
				continue // file header
			}
			discussion += "\n" + line
			if strings.HasPrefix(line, "# EXPECT") {
				_, expect, _ = strings.Cut(line, ":")
				expect = strings.TrimSpace(expect)
			}
		default:
			if expect == "" {
				t.Fatalf("%s:%d: URI without a preceding # EXPECT line", path, n)
			}
			cases = append(cases, edgeFileCase{uri: line, expect: expect, discussion: discussion, line: n})
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return cases
}

// parseExpect reads "type | issuer | name | secret | algo | digits | period|counter=N".
// ok is false when the line leaves a choice open (the mirror table holds the decision).
func parseExpect(s string) (w want, reject, ok bool) {
	if strings.HasPrefix(s, "REJECT") {
		return want{}, true, true
	}
	f := strings.Split(s, "|")
	if len(f) != 7 {
		return want{}, false, false
	}
	for i := range f {
		f[i] = strings.TrimSpace(f[i])
	}
	w.typ = vault.Type(f[0])
	switch w.typ {
	case vault.TOTP, vault.HOTP, vault.Steam:
	default:
		return want{}, false, false
	}
	label := func(v string) (string, bool) {
		if v == "(empty)" {
			return "", true
		}
		return v, !strings.ContainsAny(v, "()") && !strings.Contains(v, " or ")
	}
	var ok1, ok2 bool
	w.issuer, ok1 = label(f[1])
	w.name, ok2 = label(f[2])
	if !ok1 || !ok2 {
		return want{}, false, false
	}
	w.secret, w.algo = f[3], vault.Algorithm(f[4])
	var err error
	if w.digits, err = strconv.Atoi(f[5]); err != nil {
		return want{}, false, false
	}
	last := strings.Fields(f[6])[0]
	if c, isCounter := strings.CutPrefix(last, "counter="); isCounter {
		if w.counter, err = strconv.ParseUint(c, 10, 64); err != nil {
			return want{}, false, false
		}
	} else if w.period, err = strconv.Atoi(last); err != nil {
		return want{}, false, false
	}
	return w, false, true
}

func TestParseURIEdgeCaseFile(t *testing.T) {
	cases := readEdgeCaseFile(t, vaulttest.Fixture(t, "synthesized", "otpauth_edge_cases.txt"))
	if len(cases) < 30 {
		t.Fatalf("read %d cases, want the ~35 in the file: the format may have changed", len(cases))
	}
	mirror := map[string]int{}
	for i, tc := range edgeCases {
		mirror[tc.uri] = i
	}
	inFile := map[string]bool{}
	for _, fc := range cases {
		inFile[fc.uri] = true
		t.Run(strconv.Itoa(fc.line), func(t *testing.T) {
			i, mirrored := mirror[fc.uri]
			if !mirrored {
				t.Fatalf("line %d: %q is not mirrored in edgeCases; add it with the decided result", fc.line, fc.uri)
			}
			m := edgeCases[i]
			a, err := vault.ParseURI(fc.uri)
			w, reject, ok := parseExpect(fc.expect)
			switch {
			case reject:
				if err == nil {
					t.Fatalf("line %d: %q accepted as %+v; the file says REJECT", fc.line, fc.uri, a)
				}
				if m.field == "" {
					t.Fatalf("line %d: the mirror accepts a URI the file rejects", fc.line)
				}
				checkRejected(t, fc.uri, err, m.field, queryParam(fc.uri, "secret"))
			case ok:
				if m.want != w {
					t.Errorf("line %d: mirror row %+v disagrees with the file %+v", fc.line, m.want, w)
				}
				w.check(t, fc.uri, a, err)
			default:
				// The file leaves a choice open: the mirror holds the decision,
				// which must be one of the options the file discusses.
				if m.field != "" {
					t.Fatalf("line %d: open case %q is decided as a rejection; the file expects a result", fc.line, fc.uri)
				}
				m.want.check(t, fc.uri, a, err)
				text := fc.discussion + "\n" + fc.uri
				if dec, err := url.PathUnescape(fc.uri); err == nil {
					text += "\n" + dec
				}
				for _, v := range []string{string(m.want.typ), m.want.issuer, m.want.name} {
					if v == "" {
						v = "empty"
					}
					if !strings.Contains(text, v) {
						t.Errorf("line %d: decided value %q is not among the options the file discusses:\n%s", fc.line, v, fc.discussion)
					}
				}
			}
		})
	}
	for _, tc := range edgeCases {
		if !inFile[tc.uri] {
			t.Errorf("mirror row %q is not in the fixture file", tc.uri)
		}
	}
}

// The decisions the lead made, each asserted on its own so a change of rule
// shows up by name.
func TestParseURIDecisions(t *testing.T) {
	t.Run("issuer parameter wins over the label prefix", func(t *testing.T) {
		a, err := vault.ParseURI("otpauth://totp/Foo:alice?secret=JBSWY3DPEHPK3PXP&issuer=Bar")
		totpW("Bar", "alice", "JBSWY3DPEHPK3PXP", vault.SHA1, 6, 30).check(t, "", a, err)
	})
	t.Run("blank issuer parameter keeps the label prefix", func(t *testing.T) {
		a, err := vault.ParseURI("otpauth://totp/Foo:alice?secret=JBSWY3DPEHPK3PXP&issuer=+")
		totpW("Foo", "alice", "JBSWY3DPEHPK3PXP", vault.SHA1, 6, 30).check(t, "", a, err)
	})
	t.Run("label split at the first colon", func(t *testing.T) {
		a, err := vault.ParseURI("otpauth://totp/a:b:c?secret=JBSWY3DPEHPK3PXP")
		totpW("a", "b:c", "JBSWY3DPEHPK3PXP", vault.SHA1, 6, 30).check(t, "", a, err)
		a, err = vault.ParseURI("otpauth://totp/a%3Ab:c?secret=JBSWY3DPEHPK3PXP")
		totpW("a", "b:c", "JBSWY3DPEHPK3PXP", vault.SHA1, 6, 30).check(t, "", a, err)
		a, err = vault.ParseURI("otpauth://totp/a:b%3ac?secret=JBSWY3DPEHPK3PXP")
		totpW("a", "b:c", "JBSWY3DPEHPK3PXP", vault.SHA1, 6, 30).check(t, "", a, err)
	})
	t.Run("UTF-8 label with a colon", func(t *testing.T) {
		u := "otpauth://totp/encoding%3A%20%C2%BF%C3%A4%C3%84%C3%A9%C3%89%3F%20%28demo%29?secret=7KSQL2JTUDIS5EF65KLMRQIIGY"
		a, err := vault.ParseURI(u)
		totpW("encoding", "¿äÄéÉ? (demo)", "7KSQL2JTUDIS5EF65KLMRQIIGY", vault.SHA1, 6, 30).check(t, u, a, err)
	})
	t.Run("hotp without counter is rejected", func(t *testing.T) {
		u := "otpauth://hotp/Example:alice?secret=JBSWY3DPEHPK3PXP&issuer=Example"
		_, err := vault.ParseURI(u)
		checkRejected(t, u, err, "counter", "JBSWY3DPEHPK3PXP")
	})
	t.Run("period on hotp is ignored", func(t *testing.T) {
		a, err := vault.ParseURI("otpauth://hotp/x?secret=JBSWY3DPEHPK3PXP&counter=0&period=0")
		hotpW("", "x", "JBSWY3DPEHPK3PXP", vault.SHA1, 6, 0).check(t, "", a, err)
	})
	t.Run("totp labelled Steam stays 6-digit totp", func(t *testing.T) {
		a, err := vault.ParseURI("otpauth://totp/Steam:Sophia?secret=JRZCL47CMXVOQMNPZR2F7J4RGI&issuer=Steam")
		totpW("Steam", "Sophia", "JRZCL47CMXVOQMNPZR2F7J4RGI", vault.SHA1, 6, 30).check(t, "", a, err)
	})
	t.Run("steam:// gives issuer Steam", func(t *testing.T) {
		a, err := vault.ParseURI("steam://JRZCL47CMXVOQMNPZR2F7J4RGI")
		steamW("Steam", "", "JRZCL47CMXVOQMNPZR2F7J4RGI").check(t, "", a, err)
		a, err = vault.ParseURI("STEAM://jrzcl47cmxvoqmnpzr2f7j4rgi")
		steamW("Steam", "", "JRZCL47CMXVOQMNPZR2F7J4RGI").check(t, "", a, err)
	})
	t.Run("steam ignores digits", func(t *testing.T) {
		a, err := vault.ParseURI("otpauth://steam/Boeing:Sophia?secret=JRZCL47CMXVOQMNPZR2F7J4RGI&digits=8")
		steamW("Boeing", "Sophia", "JRZCL47CMXVOQMNPZR2F7J4RGI").check(t, "", a, err)
	})
	// Decision: a parameter Sesame uses, given twice, is refused rather than
	// first-wins: apps disagree on which one counts, so the codes could be wrong.
	t.Run("repeated parameters are refused", func(t *testing.T) {
		for _, tc := range []struct{ uri, field string }{
			{"otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&SECRET=AAAAAAAA", "secret"},
			{"otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&secret=JBSWY3DPEHPK3PXP", "secret"},
			{"otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&issuer=A&issuer=B", "issuer"},
			{"otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&algorithm=SHA1&Algorithm=SHA256", "algorithm"},
			{"otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&digits=8&digits=6", "digits"},
			{"otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&period=30&period=60", "period"},
			{"otpauth://hotp/x?secret=JBSWY3DPEHPK3PXP&counter=1&counter=2", "counter"},
			{"otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&encoder=steam&encoder=", "encoder"},
			{"otpauth://steam/x?secret=JBSWY3DPEHPK3PXP&digits=5&digits=5", "digits"},
		} {
			_, err := vault.ParseURI(tc.uri)
			var fe *vault.FieldError
			if !errors.As(err, &fe) || fe.Field != tc.field || !strings.Contains(err.Error(), "given twice") {
				t.Errorf("%s: %v, want a FieldError saying %s is given twice", tc.uri, err, tc.field)
			}
		}
		// Parameters Sesame ignores may repeat.
		a, err := vault.ParseURI("otpauth://totp/x?secret=JBSWY3DPEHPK3PXP&image=a&image=b")
		totpW("", "x", "JBSWY3DPEHPK3PXP", vault.SHA1, 6, 30).check(t, "", a, err)
	})
	t.Run("steam must be SHA1", func(t *testing.T) {
		for _, u := range []string{
			"otpauth://steam/Steam:x?secret=JRZCL47CMXVOQMNPZR2F7J4RGI&algorithm=SHA256",
			"otpauth://totp/Steam:x?secret=JRZCL47CMXVOQMNPZR2F7J4RGI&encoder=steam&algorithm=SHA512",
		} {
			_, err := vault.ParseURI(u)
			var fe *vault.FieldError
			if !errors.As(err, &fe) || fe.Field != "algorithm" {
				t.Errorf("%s: %v, want a FieldError on algorithm", u, err)
			}
		}
	})
	t.Run("invisible characters in labels are refused", func(t *testing.T) {
		for _, tc := range []struct{ uri, field string }{
			{"otpauth://totp/Git%E2%80%8BHub:alice?secret=JBSWY3DPEHPK3PXP", "issuer"},
			{"otpauth://totp/GitHub:alice?secret=JBSWY3DPEHPK3PXP&issuer=Git%E2%80%8BHub", "issuer"},
			{"otpauth://totp/GitHub:%E2%80%AEecila?secret=JBSWY3DPEHPK3PXP", "name"},
		} {
			_, err := vault.ParseURI(tc.uri)
			var fe *vault.FieldError
			if !errors.As(err, &fe) || fe.Field != tc.field {
				t.Errorf("%s: %v, want a FieldError on %s", tc.uri, err, tc.field)
			}
		}
	})
	t.Run("fragment and surrounding space are ignored", func(t *testing.T) {
		a, err := vault.ParseURI("  otpauth://totp/x?secret=JBSWY3DPEHPK3PXP#digits=8 \n")
		totpW("", "x", "JBSWY3DPEHPK3PXP", vault.SHA1, 6, 30).check(t, "", a, err)
	})
	t.Run("plus stays plus in the label", func(t *testing.T) {
		a, err := vault.ParseURI("otpauth://totp/A+B:c+d?secret=JBSWY3DPEHPK3PXP")
		totpW("A+B", "c+d", "JBSWY3DPEHPK3PXP", vault.SHA1, 6, 30).check(t, "", a, err)
	})
}

// Labels that are not escaped (pasted by hand or written by sloppy
// generators) hold raw UTF-8; the %3A separator must still be found at the
// right byte, whatever upper-casing would do to the length of the text.
func TestParseURIRawUTF8Label(t *testing.T) {
	for _, tc := range []struct{ label, issuer, name string }{
		{"ıı%3Ab", "ıı", "b"},               // 'ı' upper-cases to the shorter 'I'
		{"ſtore%3Aalice", "ſtore", "alice"}, // so does 'ſ'
		{"ɐb%3Ac", "ɐb", "c"},               // 'ɐ' upper-cases to the longer 'Ɐ'
		{"Straße%3Aalice", "Straße", "alice"},
		{"Ünïcødé:ñame", "Ünïcødé", "ñame"},
	} {
		u := "otpauth://totp/" + tc.label + "?secret=JBSWY3DPEHPK3PXP"
		a, err := vault.ParseURI(u)
		totpW(tc.issuer, tc.name, "JBSWY3DPEHPK3PXP", vault.SHA1, 6, 30).check(t, u, a, err)
	}
}

func TestParseURIRejections(t *testing.T) {
	const sec = "JBSWY3DPEHPK3PXP"
	long := strings.Repeat("A", 1700)
	for _, tc := range []struct {
		uri, field, reason string
	}{
		{"otpauth://totp/x?issuer=y", "secret", "missing"},
		{"otpauth://totp/x?secret=", "secret", "empty"},
		{"otpauth://totp/x?secret=%3D%3D", "secret", "empty"},
		{"otpauth://totp/x?secret=+-+", "secret", "empty"},
		{"otpauth://totp/x?secret=JBSWY3DPEHPK3PX1", "secret", "base32"},
		{"otpauth://totp/x?secret=JBSWY3DPEHPK3PXP0", "secret", "base32"},
		{"otpauth://totp/x?secret=A", "secret", "base32"},
		{"otpauth://totp/x?secret=" + long, "secret", "too long"},
		{"otpauth://totp/x?secret=" + sec + "&digits=5", "digits", "6 to 8"},
		{"otpauth://totp/x?secret=" + sec + "&digits=9", "digits", "6 to 8"},
		{"otpauth://totp/x?secret=" + sec + "&digits=", "digits", "6 to 8"},
		{"otpauth://totp/x?secret=" + sec + "&digits=six", "digits", "6 to 8"},
		{"otpauth://hotp/x?secret=" + sec + "&digits=-6&counter=1", "digits", "6 to 8"},
		{"otpauth://totp/x?secret=" + sec + "&period=0", "period", "1 to 3600"},
		{"otpauth://totp/x?secret=" + sec + "&period=3601", "period", "1 to 3600"},
		{"otpauth://totp/x?secret=" + sec + "&period=-30", "period", "1 to 3600"},
		{"otpauth://totp/x?secret=" + sec + "&period=30s", "period", "1 to 3600"},
		{"otpauth://steam/x?secret=" + sec + "&period=0", "period", "1 to 3600"},
		{"otpauth://totp/x?secret=" + sec + "&algorithm=MD5", "algorithm", "not supported"},
		{"otpauth://totp/x?secret=" + sec + "&algorithm=SHA3-256", "algorithm", "not supported"},
		{"otpauth://totp/x?secret=" + sec + "&algorithm=", "algorithm", "not supported"},
		{"otpauth://motp/x?secret=" + sec, "type", "not supported"},
		{"otpauth:///x?secret=" + sec, "type", "missing"},
		{"otpauth://?secret=" + sec, "type", "missing"},
		{"otpauth://hotp/x?secret=" + sec, "counter", "missing"},
		{"otpauth://hotp/x?secret=" + sec + "&counter=-1", "counter", "whole number"},
		{"otpauth://hotp/x?secret=" + sec + "&counter=1.5", "counter", "whole number"},
		{"otpauth://hotp/x?secret=" + sec + "&counter=18446744073709551616", "counter", "whole number"},
		{"otpauth://totp/x%zz?secret=" + sec, "label", "%-escape"},
		{"otpauth://totp/x%3?secret=" + sec, "label", "%-escape"},
		{"otpauth://totp/x%zz:y?secret=" + sec, "label", "%-escape"},
		{"otpauth://totp/x:y%?secret=" + sec, "label", "%-escape"},
		{"otpauth://totp/x?secret=" + sec + "%zz", "secret", "%-escape"},
		{"otpauth://totp/x?secret=" + sec + "&issuer=%G1", "issuer", "%-escape"},
		{"otpauth://totp/x?secret=" + sec + "&digits=%", "digits", "%-escape"},
		{"otpauth://totp/?secret=" + sec, "name", "empty"},
		{"otpauth://totp/%20:%20?secret=" + sec, "name", "empty"},
		{"otpauth://totp/%FF?secret=" + sec, "name", "UTF-8"},
		{"otpauth://totp/x?secret=" + sec + "&issuer=%C3", "issuer", "UTF-8"},
		{"otpauth://totp/" + strings.Repeat("n", 513) + "?secret=" + sec, "name", "longer than 512"},
		{"otpauth://totp/x?secret=" + sec + "&issuer=" + strings.Repeat("i", 513), "issuer", "longer than 512"},
		{"otpauth://totp/x%00y?secret=" + sec, "name", "control"},
		{"otpauth://totp/x?secret=" + sec + "&issuer=%1B%5B31mRed", "issuer", "control"},
		{"https://example.com/?secret=" + sec, "uri", "otpauth://"},
		{"otpauth:totp/x?secret=" + sec, "uri", "otpauth://"},
		{sec, "uri", "otpauth://"},
		{"", "uri", "otpauth://"},
		{"otpauth://totp/x?secret=" + sec + "&pad=" + strings.Repeat("x", vault.MaxURILength), "uri", "too long"},
		{"steam://", "secret", "empty"},
		{"steam://" + sec + "?issuer=x", "secret", "base32"},
	} {
		a, err := vault.ParseURI(tc.uri)
		name := tc.uri
		if len(name) > 80 {
			name = name[:80] + "..."
		}
		if err == nil {
			t.Errorf("ParseURI(%q) accepted %+v, want a %s error", name, a, tc.field)
			continue
		}
		if !reflect.DeepEqual(a, vault.Account{}) {
			t.Errorf("ParseURI(%q) returned a non-zero account with its error", name)
		}
		secretText := queryParam(tc.uri, "secret")
		if strings.HasPrefix(tc.uri, "steam://") || tc.uri == sec {
			secretText = sec
		}
		if fe := checkRejected(t, name, err, tc.field, secretText); fe != nil && !strings.Contains(fe.Reason, tc.reason) {
			t.Errorf("ParseURI(%q): reason %q does not say %q", name, fe.Reason, tc.reason)
		}
		if len(err.Error()) > 200 {
			t.Errorf("ParseURI(%q): error is %d bytes long; it must not echo the input", name, len(err.Error()))
		}
	}
}

// Error messages quote offending values; they must stay short and never carry
// a secret that ended up in the wrong place.
func TestParseURIErrorsDoNotEchoLongValues(t *testing.T) {
	const sec = "JBSWY3DPEHPK3PXP"
	for _, u := range []string{
		"otpauth://" + sec + "/x?secret=" + sec,
		"otpauth://totp/x?secret=" + sec + "&digits=" + sec,
		"otpauth://totp/x?secret=" + sec + "&period=" + sec,
		"otpauth://totp/x?secret=" + sec + "&algorithm=" + sec,
		"otpauth://hotp/x?secret=" + sec + "&counter=" + sec,
		"otpauth://totp/x?secret=" + sec + "&digits=" + strings.Repeat("9", 10000),
	} {
		_, err := vault.ParseURI(u)
		if err == nil {
			t.Errorf("ParseURI(%.60q) accepted", u)
			continue
		}
		if strings.Contains(err.Error(), sec) || len(err.Error()) > 200 {
			t.Errorf("ParseURI(%.60q) error echoes too much: %q", u, err)
		}
	}
}

func sameAccount(a, b vault.Account) bool {
	return reflect.DeepEqual(a, b)
}

func TestURIRoundTrip(t *testing.T) {
	secret := vault.Secret{0x00, 0xff, 0x10, 0x80, 0x7f, 0x01, 0x02}
	for _, a := range []vault.Account{
		{Type: vault.TOTP, Issuer: "Example", Name: "alice@example.com"},
		{Type: vault.TOTP, Issuer: "", Name: "only name"},
		{Type: vault.TOTP, Issuer: "only issuer", Name: ""},
		{Type: vault.TOTP, Issuer: "a:b", Name: "c"},
		{Type: vault.TOTP, Issuer: "a", Name: "b:c"},
		{Type: vault.TOTP, Issuer: "a:b", Name: "c:d"},
		{Type: vault.TOTP, Issuer: "", Name: "b:c"},
		{Type: vault.TOTP, Issuer: "a:b", Name: ""},
		{Type: vault.TOTP, Issuer: "%3A 100% /?#&=+", Name: "x%3Ay %2F +"},
		{Type: vault.TOTP, Issuer: "¿äÄéÉ?", Name: "名前 ıſɐ"},
		{Type: vault.TOTP, Issuer: "Odd", Name: "p", Algorithm: vault.SHA512, Digits: 8, Period: 7},
		{Type: vault.TOTP, Issuer: "Slow", Name: "p", Algorithm: vault.SHA256, Digits: 7, Period: 3600},
		{Type: vault.TOTP, Issuer: "Fast", Name: "p", Period: 1},
		{Type: vault.HOTP, Issuer: "H", Name: "zero", Counter: 0},
		{Type: vault.HOTP, Issuer: "H", Name: "max", Counter: ^uint64(0), Algorithm: vault.SHA256, Digits: 7},
		{Type: vault.Steam, Issuer: "Steam", Name: ""},
		{Type: vault.Steam, Issuer: "Boeing", Name: "Sophia", Period: 45},
	} {
		a.Secret = secret
		a.Normalize()
		if err := a.Validate(); err != nil {
			t.Fatalf("test account %+v: %v", a, err)
		}
		u := a.URI()
		b, err := vault.ParseURI(u)
		if err != nil {
			t.Errorf("ParseURI(URI of %q/%q) = %v\n%s", a.Issuer, a.Name, err, u)
			continue
		}
		if !sameAccount(a, b) {
			t.Errorf("round trip of %s\n got  %+v\n want %+v", u, b, a)
		}
		if !strings.HasPrefix(u, "otpauth://"+string(a.Type)+"/") || strings.ContainsAny(u, " \n") {
			t.Errorf("URI %q: want otpauth://%s/ and no raw spaces", u, a.Type)
		}
	}
}

// URIs Sesame writes are read the same way by another parser (pquerna/otp's
// Key, which follows Google's Key Uri Format).
func TestURIInterop(t *testing.T) {
	for _, a := range []vault.Account{
		{Type: vault.TOTP, Issuer: "ACME Co", Name: "john.doe@email.com", Secret: vault.Secret("12345678901234567890"), Algorithm: vault.SHA256, Digits: 8, Period: 60},
		{Type: vault.HOTP, Issuer: "Air Canada", Name: "Benjamin", Secret: vault.Secret("0123456789"), Counter: 50},
		{Type: vault.TOTP, Issuer: "", Name: "pi@raspberrypi", Secret: vault.Secret("raspberry")},
	} {
		a.Normalize()
		k, err := otp.NewKeyFromURL(a.URI())
		if err != nil {
			t.Fatalf("otp.NewKeyFromURL(%q): %v", a.URI(), err)
		}
		if k.Type() != string(a.Type) || k.Issuer() != a.Issuer || k.AccountName() != a.Name ||
			k.Secret() != a.Secret.Base32() || int(k.Digits()) != a.Digits ||
			!strings.EqualFold(k.Algorithm().String(), string(a.Algorithm)) {
			t.Errorf("pquerna reads %q as type %q issuer %q name %q digits %d algo %v", a.URI(), k.Type(), k.Issuer(), k.AccountName(), k.Digits(), k.Algorithm())
		}
		if a.Type == vault.TOTP && int(k.Period()) != a.Period {
			t.Errorf("pquerna reads period %d, want %d", k.Period(), a.Period)
		}
	}
}

// uriSeeds are the links of the edge cases above and a few more.
func uriSeeds() []string {
	var out []string
	for _, tc := range edgeCases {
		out = append(out, tc.uri)
	}
	return append(out,
		"otpauth://totp/ıı%3Ab?secret=JBSWY3DPEHPK3PXP",
		"otpauth://totp/ɐb%3Ac?secret=JBSWY3DPEHPK3PXP",
		"otpauth://totp/:a%3Ab?secret=JBSWY3DPEHPK3PXP&issuer=x%3Ay",
		"otpauth://hotp/x?secret=AAAAAAAA&counter=18446744073709551615",
		"otpauth://totp/x%00?secret=AA",
		"steam://",
		"",
	)
}

// TestURISeedCorpus keeps the committed seed corpus of FuzzParseURI (see
// vaulttest.SeedCorpus; rewrite it with -write-corpus).
func TestURISeedCorpus(t *testing.T) {
	var seeds [][]any
	for _, s := range uriSeeds() {
		seeds = append(seeds, []any{s})
	}
	vaulttest.SeedCorpus(t, "FuzzParseURI", seeds...)
}

func FuzzParseURI(f *testing.F) {
	for _, s := range uriSeeds() {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := vault.ParseURI(s)
		if err != nil {
			var fe *vault.FieldError
			if !errors.As(err, &fe) || fe.Field == "" || fe.Reason == "" {
				t.Fatalf("ParseURI error %v (%T) is not a complete *FieldError", err, err)
			}
			if len(err.Error()) > 200 {
				t.Fatalf("error is %d bytes: it echoes the input", len(err.Error()))
			}
			if !reflect.DeepEqual(a, vault.Account{}) {
				t.Fatalf("non-zero account with an error: %+v", a)
			}
			return
		}
		if err := a.Validate(); err != nil {
			t.Fatalf("accepted an invalid account: %v", err)
		}
		u := a.URI()
		b, err := vault.ParseURI(u)
		if err != nil {
			t.Fatalf("URI() = %q does not parse: %v", u, err)
		}
		if !sameAccount(a, b) {
			t.Fatalf("round trip through %q\n got  %+v (secret %x)\n want %+v (secret %x)", u, b, []byte(b.Secret), a, []byte(a.Secret))
		}
		if b.URI() != u {
			t.Fatalf("URI() is not stable: %q then %q", u, b.URI())
		}
	})
}

// encoder=steam makes a TOTP link a Steam account, but never turns an HOTP
// link (whose counter would be dropped) into a time-based one.
func TestSteamEncoderOnlyForTOTP(t *testing.T) {
	a, err := vault.ParseURI("otpauth://hotp/X:y?secret=JBSWY3DPEHPK3PXP&counter=7&encoder=steam")
	if err != nil {
		t.Fatal(err)
	}
	if a.Type != vault.HOTP || a.Counter != 7 || a.Digits != 6 {
		t.Fatalf("hotp with encoder=steam parsed as %s counter %d digits %d", a.Type, a.Counter, a.Digits)
	}
}
