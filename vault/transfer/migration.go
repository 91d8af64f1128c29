package transfer

import (
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/url"
	"slices"
	"strings"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/sesame-auth/sesame/vault"
)

// MigrationPayload is the content of a Google Authenticator
// otpauth-migration://offline?data=... link: a protobuf MigrationPayload.
type MigrationPayload struct {
	OTPs       []MigrationOTP
	Version    int32
	BatchSize  int32 // how many QR codes the export has; 0 or 1 when it has one
	BatchIndex int32 // 0-based number of this QR code
	BatchID    int32 // the same on every QR code of one export
}

// MigrationOTP is one account of a migration payload, with the raw protobuf
// enum values.
type MigrationOTP struct {
	Secret    vault.Secret
	Name      string
	Issuer    string
	Algorithm int32 // 0 unspecified, 1 SHA1, 2 SHA256, 3 SHA512, 4 MD5
	Digits    int32 // 0 unspecified, 1 six, 2 eight
	Type      int32 // 0 unspecified, 1 HOTP, 2 TOTP
	Counter   int64
}

// Protobuf enum values of Google Authenticator's migration format.
const (
	migAlgoUnspecified = 0
	migAlgoSHA1        = 1
	migAlgoSHA256      = 2
	migAlgoSHA512      = 3
	migAlgoMD5         = 4

	migDigitsUnspecified = 0
	migDigitsSix         = 1
	migDigitsEight       = 2

	migTypeUnspecified = 0
	migTypeHOTP        = 1
	migTypeTOTP        = 2
)

// IsMigrationLink says whether s, surrounding space aside, is a Google
// Authenticator export link (otpauth-migration:, in any letter case). It is
// the one test by which the CLI, the TUI and the importers tell such a link
// from an otpauth:// one and send it to Import.
func IsMigrationLink(s string) bool {
	const scheme = "otpauth-migration:"
	s = strings.TrimSpace(s)
	return len(s) >= len(scheme) && strings.EqualFold(s[:len(scheme)], scheme)
}

// ParseMigrationURI decodes an otpauth-migration://offline?data=... link. It
// tolerates data that is not percent-encoded (raw '+', '/', '='), a '+' that
// was form-decoded into a space, URL-safe base64 and missing padding.
func ParseMigrationURI(s string) (*MigrationPayload, error) {
	s = strings.TrimSpace(s)
	if len(s) > maxMigrationLn {
		return nil, fmt.Errorf("%w: migration link longer than %d bytes", ErrTooLarge, maxMigrationLn)
	}
	scheme, rest, ok := strings.Cut(s, "://")
	if !ok || !strings.EqualFold(scheme, "otpauth-migration") {
		return nil, fmt.Errorf("%w: not an otpauth-migration:// link", ErrCorrupt)
	}
	host, query, _ := strings.Cut(rest, "?")
	if !strings.EqualFold(strings.TrimSuffix(host, "/"), "offline") {
		return nil, fmt.Errorf("%w: migration link is not otpauth-migration://offline", ErrCorrupt)
	}
	var raw string
	found := false
	for pair := range strings.SplitSeq(query, "&") {
		k, v, _ := strings.Cut(pair, "=")
		if strings.EqualFold(k, "data") {
			raw, found = v, true
			break
		}
	}
	if !found || raw == "" {
		return nil, fmt.Errorf("%w: migration link has no data", ErrCorrupt)
	}
	if strings.Contains(raw, "%") {
		v, err := url.PathUnescape(raw) // PathUnescape keeps a raw '+' as '+'
		if err != nil {
			return nil, fmt.Errorf("%w: migration data has a malformed %%-escape", ErrCorrupt)
		}
		raw = v
	}
	data, err := decodeBase64Lenient(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: migration data is not base64", ErrCorrupt)
	}
	return ParseMigrationPayload(data)
}

// decodeBase64Lenient reads standard or URL-safe base64 with or without
// padding, taking spaces for form-decoded '+'.
func decodeBase64Lenient(s string) ([]byte, error) {
	s = strings.Map(func(r rune) rune {
		switch r {
		case ' ':
			return '+'
		case '-':
			return '+'
		case '_':
			return '/'
		case '=', '\n', '\r', '\t':
			return -1
		}
		return r
	}, s)
	return base64.RawStdEncoding.DecodeString(s)
}

// ParseMigrationPayload decodes the protobuf MigrationPayload message.
func ParseMigrationPayload(b []byte) (*MigrationPayload, error) {
	p := &MigrationPayload{}
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return nil, protoErr(n)
		}
		b = b[n:]
		switch {
		case num == 1 && typ == protowire.BytesType:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return nil, protoErr(n)
			}
			b = b[n:]
			if len(p.OTPs) >= MaxAccounts {
				return nil, fmt.Errorf("%w: more than %d accounts in one migration link", ErrTooLarge, MaxAccounts)
			}
			otp, err := parseMigrationOTP(v)
			if err != nil {
				return nil, err
			}
			p.OTPs = append(p.OTPs, otp)
		case num >= 2 && num <= 5 && typ == protowire.VarintType:
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return nil, protoErr(n)
			}
			b = b[n:]
			switch num {
			case 2:
				p.Version = int32(v)
			case 3:
				p.BatchSize = int32(v)
			case 4:
				p.BatchIndex = int32(v)
			case 5:
				p.BatchID = int32(v)
			}
		default:
			n := protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return nil, protoErr(n)
			}
			b = b[n:]
		}
	}
	if p.BatchSize < 0 || p.BatchSize > maxBatchSize || p.BatchIndex < 0 ||
		(p.BatchSize > 0 && p.BatchIndex >= p.BatchSize) {
		return nil, fmt.Errorf("%w: migration link says it is QR code %d of %d", ErrCorrupt, int64(p.BatchIndex)+1, p.BatchSize)
	}
	return p, nil
}

func parseMigrationOTP(b []byte) (MigrationOTP, error) {
	var o MigrationOTP
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return o, protoErr(n)
		}
		b = b[n:]
		switch {
		case num >= 1 && num <= 3 && typ == protowire.BytesType:
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return o, protoErr(n)
			}
			b = b[n:]
			switch num {
			case 1:
				o.Secret = slices.Clone(v)
			case 2:
				o.Name = string(v)
			case 3:
				o.Issuer = string(v)
			}
		case num >= 4 && num <= 7 && typ == protowire.VarintType:
			v, n := protowire.ConsumeVarint(b)
			if n < 0 {
				return o, protoErr(n)
			}
			b = b[n:]
			switch num {
			case 4:
				o.Algorithm = int32(v)
			case 5:
				o.Digits = int32(v)
			case 6:
				o.Type = int32(v)
			case 7:
				o.Counter = int64(v)
			}
		default:
			n := protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return o, protoErr(n)
			}
			b = b[n:]
		}
	}
	return o, nil
}

func protoErr(n int) error {
	err := protowire.ParseError(n)
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return fmt.Errorf("%w: migration data is truncated", ErrCorrupt)
	}
	return fmt.Errorf("%w: migration data is not a valid Google Authenticator payload (%v)", ErrCorrupt, err)
}

// Account converts a migration entry to a Sesame account. Unspecified enum
// values take the defaults (TOTP, SHA1, 6 digits); the period is always 30
// seconds, since the format has no field for it. A name that repeats the
// issuer as a prefix ("ACME:alice") is shortened to the account ("alice").
func (o *MigrationOTP) Account() (vault.Account, error) {
	a := vault.Account{Secret: o.Secret, Issuer: strings.TrimSpace(o.Issuer), Name: strings.TrimSpace(o.Name), Period: vault.DefaultPeriod}
	if a.Issuer != "" {
		if rest, ok := strings.CutPrefix(a.Name, a.Issuer+":"); ok {
			a.Name = strings.TrimSpace(rest)
		}
	}
	switch o.Algorithm {
	case migAlgoUnspecified, migAlgoSHA1:
		a.Algorithm = vault.SHA1
	case migAlgoSHA256:
		a.Algorithm = vault.SHA256
	case migAlgoSHA512:
		a.Algorithm = vault.SHA512
	case migAlgoMD5:
		return a, &vault.FieldError{Field: "algorithm", Reason: "MD5 is not supported (SHA1, SHA256 or SHA512 only)"}
	default:
		return a, &vault.FieldError{Field: "algorithm", Reason: fmt.Sprintf("value %d is unknown", o.Algorithm)}
	}
	switch o.Digits {
	case migDigitsUnspecified, migDigitsSix:
		a.Digits = 6
	case migDigitsEight:
		a.Digits = 8
	default:
		return a, &vault.FieldError{Field: "digits", Reason: fmt.Sprintf("value %d is unknown", o.Digits)}
	}
	switch o.Type {
	case migTypeUnspecified, migTypeTOTP:
		a.Type = vault.TOTP
	case migTypeHOTP:
		a.Type = vault.HOTP
		if o.Counter < 0 {
			return a, &vault.FieldError{Field: "counter", Reason: "is negative"}
		}
		a.Counter = uint64(o.Counter)
		a.Period = 0
	default:
		return a, &vault.FieldError{Field: "type", Reason: fmt.Sprintf("value %d is unknown", o.Type)}
	}
	a.Normalize()
	return a, a.Validate()
}

// Marshal encodes the payload as protobuf.
func (p *MigrationPayload) Marshal() []byte {
	var b []byte
	for _, o := range p.OTPs {
		var e []byte
		e = protowire.AppendTag(e, 1, protowire.BytesType)
		e = protowire.AppendBytes(e, o.Secret)
		e = protowire.AppendTag(e, 2, protowire.BytesType)
		e = protowire.AppendString(e, o.Name)
		if o.Issuer != "" {
			e = protowire.AppendTag(e, 3, protowire.BytesType)
			e = protowire.AppendString(e, o.Issuer)
		}
		for _, f := range []struct {
			num protowire.Number
			v   int64
		}{{4, int64(o.Algorithm)}, {5, int64(o.Digits)}, {6, int64(o.Type)}, {7, o.Counter}} {
			if f.v != 0 {
				e = protowire.AppendTag(e, f.num, protowire.VarintType)
				e = protowire.AppendVarint(e, uint64(f.v))
			}
		}
		b = protowire.AppendTag(b, 1, protowire.BytesType)
		b = protowire.AppendBytes(b, e)
	}
	for _, f := range []struct {
		num protowire.Number
		v   int32
	}{{2, p.Version}, {3, p.BatchSize}, {4, p.BatchIndex}, {5, p.BatchID}} {
		b = protowire.AppendTag(b, f.num, protowire.VarintType)
		b = protowire.AppendVarint(b, uint64(int64(f.v))) // int32 sign-extends, as protobuf does
	}
	return b
}

// URI formats the payload as an otpauth-migration://offline?data=... link,
// percent-encoded as Google Authenticator writes it.
func (p *MigrationPayload) URI() string {
	return "otpauth-migration://offline?data=" + url.QueryEscape(base64.StdEncoding.EncodeToString(p.Marshal()))
}

// Limits of one exported Google Authenticator QR code, so that a phone
// camera reads it at once: at most GoogleMaxAccountsPerQR accounts (Google
// Authenticator itself puts about ten in one code), and fewer when their
// names, issuers or secrets are long, since the link's length cap keeps the
// code at QR version 20 or below. 'sesame export --help' says so.
const (
	GoogleMaxAccountsPerQR = 10
	googleMaxURILength     = 600
)

// ExportGoogle encodes accounts as Google Authenticator migration links, one
// per QR code, in batches that phone cameras scan reliably. Accounts the
// format cannot hold (Steam, 7 digits, a period other than 30 seconds) are
// returned as skipped.
func ExportGoogle(accounts []vault.Account) (uris []string, skipped []Skip, err error) {
	var otps []MigrationOTP
	for _, a := range accounts {
		o, reason := toMigrationOTP(&a)
		if reason != "" {
			skipped = append(skipped, Skip{Label: a.Label(), Reason: reason})
			continue
		}
		otps = append(otps, o)
	}
	if len(otps) == 0 {
		return nil, skipped, nil
	}
	var batches [][]MigrationOTP
	var cur []MigrationOTP
	for _, o := range otps {
		next := append(slices.Clone(cur), o)
		p := MigrationPayload{OTPs: next, Version: 1, BatchSize: maxBatchSize, BatchIndex: maxBatchSize - 1, BatchID: -1}
		if len(cur) > 0 && (len(next) > GoogleMaxAccountsPerQR || len(p.URI()) > googleMaxURILength) {
			batches = append(batches, cur)
			next = []MigrationOTP{o}
		}
		cur = next
	}
	batches = append(batches, cur)
	if len(batches) > maxBatchSize {
		return nil, nil, fmt.Errorf("%w: more than %d QR codes", ErrTooLarge, maxBatchSize)
	}
	id := rand.Int32()
	for i, b := range batches {
		p := MigrationPayload{OTPs: b, Version: 1, BatchSize: int32(len(batches)), BatchIndex: int32(i), BatchID: id}
		uris = append(uris, p.URI())
	}
	return uris, skipped, nil
}

// toMigrationOTP converts an account, or says why it cannot be.
func toMigrationOTP(a *vault.Account) (MigrationOTP, string) {
	o := MigrationOTP{Secret: a.Secret, Name: a.Name, Issuer: a.Issuer}
	switch a.Type {
	case vault.TOTP:
		o.Type = migTypeTOTP
		if a.Period != vault.DefaultPeriod {
			return o, fmt.Sprintf("Google Authenticator codes always last 30 seconds, this one %d", a.Period)
		}
	case vault.HOTP:
		o.Type = migTypeHOTP
		if a.Counter > 1<<62 {
			return o, "counter too large for Google Authenticator"
		}
		o.Counter = int64(a.Counter)
	default:
		return o, "Google Authenticator has no Steam accounts (use the uri, backup or aegis export)"
	}
	switch a.Algorithm {
	case vault.SHA1:
		o.Algorithm = migAlgoSHA1
	case vault.SHA256:
		o.Algorithm = migAlgoSHA256
	case vault.SHA512:
		o.Algorithm = migAlgoSHA512
	default:
		return o, fmt.Sprintf("algorithm %s is not supported", a.Algorithm)
	}
	switch a.Digits {
	case 6:
		o.Digits = migDigitsSix
	case 8:
		o.Digits = migDigitsEight
	default:
		return o, fmt.Sprintf("Google Authenticator codes have 6 or 8 digits, this one %d", a.Digits)
	}
	return o, ""
}

// batchTracker records which QR codes of each multi-QR export were read.
type batchTracker struct {
	batches map[int32]*batchSeen
	order   []int32
}

type batchSeen struct {
	size    int32
	seen    map[int32]bool
	sources []string
}

func (t *batchTracker) add(p *MigrationPayload, source string) error {
	if p.BatchSize <= 1 {
		return nil
	}
	if t.batches == nil {
		t.batches = make(map[int32]*batchSeen)
	}
	b := t.batches[p.BatchID]
	if b == nil {
		b = &batchSeen{size: p.BatchSize, seen: make(map[int32]bool)}
		t.batches[p.BatchID] = b
		t.order = append(t.order, p.BatchID)
	}
	if b.size != p.BatchSize {
		return fmt.Errorf("%w: QR codes of export %d disagree on how many there are (%d and %d)", ErrCorrupt, p.BatchID, b.size, p.BatchSize)
	}
	b.seen[p.BatchIndex] = true
	if source != "" && !slices.Contains(b.sources, source) {
		b.sources = append(b.sources, source)
	}
	return nil
}

// missing lists the exports with missing QR codes, numbered in the order
// the import met them.
func (t *batchTracker) missing() []MissingExport {
	var out []MissingExport
	for num, id := range t.order {
		b := t.batches[id]
		var miss []int
		for i := int32(0); i < b.size; i++ {
			if !b.seen[i] {
				miss = append(miss, int(i)+1)
			}
		}
		if len(miss) > 0 {
			out = append(out, MissingExport{Number: num + 1, BatchID: id, Size: int(b.size), Missing: miss, Sources: b.sources})
		}
	}
	return out
}

// addMigration imports the accounts of one migration payload.
func (c *collector) addMigration(p *MigrationPayload) error {
	if err := c.batches.add(p, displayName(c.source)); err != nil {
		return err
	}
	for _, o := range p.OTPs {
		a, err := o.Account()
		if err != nil {
			c.skip(a.Label(), err.Error())
			continue
		}
		c.add(a)
	}
	return nil
}
