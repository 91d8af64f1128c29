// Package transfer moves accounts in and out of Sesame: it reads the export
// files of other authenticator apps (Google Authenticator, Aegis, 2FAS,
// andOTP, Bitwarden, Ente Auth, FreeOTP+, Proton Authenticator and more) and
// writes otpauth URI lists, Google Authenticator migration QR codes, Sesame's
// own encrypted backups and encrypted Aegis vaults.
//
// Imports are all-or-nothing: Import either returns every account it could
// read, with a reason for each entry it skipped, or an error and nothing. The
// caller then applies the result to the vault with Merge inside one
// vault.Update, so that a failure leaves the vault untouched.
package transfer

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/sesame-auth/sesame/vault"
)

// Format names an import or export file format.
type Format string

// The formats Sesame reads. Detect recognises each of them from the content.
const (
	FormatURIList     Format = "uri"                // text with one otpauth:// (or steam://) URI a line
	FormatEnte        Format = "ente"               // Ente Auth plain export: otpauth URIs with a codeDisplay parameter
	FormatGoogle      Format = "google"             // Google Authenticator otpauth-migration:// URIs
	FormatImage       Format = "qr"                 // a PNG, JPEG or GIF image of a QR code (migration or otpauth URI)
	FormatAegis       Format = "aegis"              // Aegis vault JSON, plain or encrypted
	Format2FAS        Format = "2fas"               // 2FAS .2fas backup, schema 1 to 4, plain or encrypted
	FormatAndOTP      Format = "andotp"             // andOTP JSON, plain or encrypted (current and old format)
	FormatBitwarden   Format = "bitwarden"          // Bitwarden unencrypted JSON or CSV export
	FormatFreeOTPPlus Format = "freeotp-plus"       // FreeOTP+ JSON export
	FormatFreeOTPXML  Format = "freeotp-xml"        // FreeOTP / FreeOTP+ internal tokens.xml
	FormatFreeOTP2    Format = "freeotp"            // FreeOTP 2 encrypted backup (a Java-serialized map)
	FormatProton      Format = "proton"             // Proton Authenticator JSON export
	FormatStratum     Format = "stratum"            // Stratum (Authenticator Pro) backup, plain or encrypted (current and legacy format)
	FormatSteam       Format = "steam"              // Steam Desktop Authenticator maFile / manifest JSON
	FormatDuo         Format = "duo"                // Duo Mobile JSON
	FormatTOTPAuth    Format = "totp-authenticator" // TOTP Authenticator (BinaryBoot) encrypted backup or internal preferences
	FormatAuthPlus    Format = "authplus"           // Authenticator Plus encrypted zip
	FormatBackup      Format = "sesame"             // Sesame's own encrypted backup (age, scrypt passphrase)
)

// Formats lists the import formats, for help texts and the --format flag.
func Formats() []Format {
	return []Format{FormatURIList, FormatEnte, FormatGoogle, FormatImage, FormatAegis, Format2FAS,
		FormatAndOTP, FormatBitwarden, FormatFreeOTP2, FormatFreeOTPPlus, FormatFreeOTPXML, FormatProton,
		FormatStratum, FormatSteam, FormatDuo, FormatTOTPAuth, FormatAuthPlus, FormatBackup}
}

// ParseFormat checks a format name given by a user.
func ParseFormat(s string) (Format, error) {
	f := Format(strings.ToLower(strings.TrimSpace(s)))
	switch f {
	case "freeotp+", "freeotpplus":
		return FormatFreeOTPPlus, nil
	case "freeotp2", "freeotp-2", "freeotp-backup":
		return FormatFreeOTP2, nil
	case "text", "otpauth":
		return FormatURIList, nil
	case "image", "png":
		return FormatImage, nil
	case "backup":
		return FormatBackup, nil
	case "totpauthenticator", "totp-auth", "binaryboot":
		return FormatTOTPAuth, nil
	}
	for _, g := range Formats() {
		if f == g {
			return f, nil
		}
	}
	names := make([]string, 0, len(Formats()))
	for _, g := range Formats() {
		names = append(names, string(g))
	}
	return "", fmt.Errorf("%w %q: use one of %s", ErrUnknownFormat, s, strings.Join(names, ", "))
}

// Limits on what an import reads. Anything bigger is refused with ErrTooLarge
// before it costs memory or time.
const (
	MaxFileSize    = 16 << 20 // bytes in one input file
	MaxAccounts    = 10000    // accounts in one import
	maxScryptN     = 1 << 20  // a Sesame backup: one scrypt run (age's default is 2^18)
	maxScryptR     = 32
	maxScryptP     = 16
	maxPBKDF2Iter  = 10_000_000
	maxArgon2KiB   = 256 << 10 // memory of one Argon2 run (Stratum asks for 64 MiB)
	maxBatchSize   = 1000
	maxMigrationLn = 1 << 20 // bytes in one otpauth-migration URI

	// An Aegis vault may have several password slots, each tried in turn,
	// so its work is capped per slot and per file. Aegis itself writes one
	// or two password slots with scrypt N=2^15 r=8 p=1 (32 MiB, N·r·p=2^18).
	maxAegisScryptN   = 1 << 18
	maxAegisScryptMem = 256 << 20 // 128·N·r bytes of one slot
	maxAegisSlots     = 4         // password slots tried in one file
	maxAegisWork      = 1 << 23   // sum of N·r·p over the password slots of one file
)

// Errors returned by imports. Each says what went wrong; wrapped errors add
// which file and where.
var (
	ErrUnknownFormat     = errors.New("unknown import format")
	ErrWrongPassword     = errors.New("wrong password: the file could not be decrypted; check the password and try again")
	ErrPasswordRequired  = errors.New("the file is encrypted: a password is needed (use --password-file or a terminal)")
	ErrTooLarge          = errors.New("input too large")
	ErrCorrupt           = errors.New("the file is damaged or truncated")
	ErrUnsupported       = errors.New("not supported")
	ErrNoQRCode          = errors.New("no QR code found in the image: use a sharper, uncropped picture or screenshot")
	ErrMissingBatchParts = errors.New("some QR codes of a Google Authenticator export are missing")
	// ErrTooMuchWork refuses a file whose key-derivation parameters (scrypt
	// cost, PBKDF2 iterations, number of password slots) are beyond those
	// of any real export, before any of that work is done.
	ErrTooMuchWork = errors.New("the file asks for more key-derivation work than any real export: refused")
	// ErrNoAccounts is returned for an input that is a valid export but
	// holds no accounts at all: there is nothing to import.
	ErrNoAccounts = errors.New("the file holds no accounts: nothing to import")
)

// NotFormatError says that a file read as one format (given with --format,
// or detected) lacks what every file of that format has. It matches
// ErrUnknownFormat.
type NotFormatError struct {
	Format Format
	What   string // "2FAS backup"
	Detail string // what is missing
}

// Error says which format the file is not, and what to do.
func (e *NotFormatError) Error() string {
	article := "a"
	if e.What != "" && strings.ContainsRune("AEIOUaeiou", rune(e.What[0])) {
		article = "an"
	}
	return fmt.Sprintf("this is not %s %s (%s): name the right --format, or leave --format out to detect it", article, e.What, e.Detail)
}

// Is makes errors.Is(err, ErrUnknownFormat) true.
func (e *NotFormatError) Is(target error) bool { return target == ErrUnknownFormat }

// MissingPartsError lists, for every multi-QR Google Authenticator export
// of an import that lacks some of its QR codes, which ones are missing.
type MissingPartsError struct {
	Exports []MissingExport
}

// MissingExport is one incomplete multi-QR export. QR codes are numbered
// from 1, as Google Authenticator shows them; exports are numbered from 1 in
// the order the import met them.
type MissingExport struct {
	Number  int      // which multi-QR export of the import this is
	BatchID int32    // the id all QR codes of the export share
	Size    int      // how many QR codes the export has
	Missing []int    // numbers of the missing QR codes
	Sources []string // inputs that held the QR codes given
}

// String says which QR codes of the export are missing: "export 1 (from
// a.png): QR codes 2, 3 of 3 missing".
func (m *MissingExport) String() string {
	parts := make([]string, len(m.Missing))
	for i, n := range m.Missing {
		parts[i] = fmt.Sprint(n)
	}
	codes := "QR code"
	if len(parts) > 1 {
		codes = "QR codes"
	}
	from := ""
	if len(m.Sources) > 0 {
		names := m.Sources
		if len(names) > 3 {
			names = append(slices.Clone(names[:3]), fmt.Sprintf("%d more", len(m.Sources)-3))
		}
		from = " (from " + strings.Join(names, ", ") + ")"
	}
	return fmt.Sprintf("export %d%s: %s %s of %d missing", m.Number, from, codes, strings.Join(parts, ", "), m.Size)
}

// Error names every incomplete export and its missing QR codes, and says
// what to do.
func (e *MissingPartsError) Error() string {
	parts := make([]string, len(e.Exports))
	for i := range e.Exports {
		parts[i] = e.Exports[i].String()
	}
	return fmt.Sprintf("%s: %s; import every QR code of an export together (or pass --partial)",
		ErrMissingBatchParts, strings.Join(parts, "; "))
}

// Is makes errors.Is(err, ErrMissingBatchParts) true.
func (e *MissingPartsError) Is(target error) bool { return target == ErrMissingBatchParts }

// Input is one file (or pasted text) to import.
type Input struct {
	Name string // file name, shown in messages
	Data []byte
}

// ReadFile reads an import file, refusing files over MaxFileSize.
func ReadFile(path string) (Input, error) {
	f, err := os.Open(path)
	if err != nil {
		return Input{}, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, MaxFileSize+1))
	if err != nil {
		return Input{}, fmt.Errorf("read %s: %w", path, err)
	}
	if len(data) > MaxFileSize {
		return Input{}, fmt.Errorf("%s: %w: files over %d MiB are not export files", path, ErrTooLarge, MaxFileSize>>20)
	}
	return Input{Name: path, Data: data}, nil
}

// PasswordFunc returns the password of an encrypted input. It is called only
// for inputs that need one; name and format say which file it is for.
type PasswordFunc func(name string, f Format) ([]byte, error)

// ImportOptions control Import.
type ImportOptions struct {
	// Format forces the format of every input; empty means detect it.
	Format Format
	// Password is asked for the password of encrypted inputs; nil means
	// encrypted inputs fail with ErrPasswordRequired.
	Password PasswordFunc
	// AllowPartial imports a multi-QR Google Authenticator export even if
	// some of its QR codes are missing (they are listed in Result.Skipped);
	// without it the import fails with a *MissingPartsError.
	AllowPartial bool

	limits limits // zero means the defaults; tests and fuzzing lower them
}

// limits are the work factors an import accepts from a file.
type limits struct {
	scryptN, pbkdf2Iter, argon2KiB int
}

func (o *ImportOptions) maxScryptN() int {
	if o.limits.scryptN > 0 {
		return o.limits.scryptN
	}
	return maxScryptN
}

func (o *ImportOptions) maxPBKDF2Iter() int {
	if o.limits.pbkdf2Iter > 0 {
		return o.limits.pbkdf2Iter
	}
	return maxPBKDF2Iter
}

func (o *ImportOptions) maxArgon2MemKiB() int {
	if o.limits.argon2KiB > 0 {
		return o.limits.argon2KiB
	}
	return maxArgon2KiB
}

// Skip is one entry an import or merge left out, and why.
type Skip struct {
	Source string // input name
	Label  string // the entry as the user knows it ("Issuer (name)"), never its secret
	Reason string
}

// String formats the skip as "source: label: reason" for reports.
func (s Skip) String() string {
	if s.Source == "" {
		return s.Label + ": " + s.Reason
	}
	return s.Source + ": " + s.Label + ": " + s.Reason
}

// Warning is something an import let through but the user should check,
// such as a secret shorter than any real site uses.
type Warning struct {
	Source  string // input name
	Label   string // the account as the user knows it, never its secret
	Message string // says what to check, naming the account
}

// String formats the warning as "source: message" for reports.
func (w Warning) String() string {
	if w.Source == "" {
		return w.Message
	}
	return w.Source + ": " + w.Message
}

// minSecretBytes is the shortest secret an import takes without a warning:
// RFC 4226 asks for at least 128 bits and recommends 160; 80 bits is the
// shortest real sites use.
const minSecretBytes = 10

// InputSummary says how one input was read.
type InputSummary struct {
	Name     string
	Format   Format
	Accounts int // accounts imported from this input, duplicates left out
}

// Result is what an import read: the accounts to add, the entries it
// skipped and why, and the format of each input.
type Result struct {
	Accounts []vault.Account
	Skipped  []Skip
	Warnings []Warning // accounts imported that the user should check
	Inputs   []InputSummary
}

// Import reads every input and returns all their accounts, normalized and
// validated, or an error and nothing. An input that holds no entry at all
// fails with ErrNoAccounts; one that lacks what every file of its format has
// fails with a *NotFormatError. Entries that cannot be used (an MD5
// Google entry, a 4-digit code, a Yandex token...) and duplicates inside the
// import are skipped and listed with a reason. A multi-QR Google export
// spread over several inputs is checked for missing QR codes.
func Import(opts ImportOptions, inputs ...Input) (*Result, error) {
	res := &Result{}
	var batches batchTracker
	seen := map[string]vault.Account{}
	for _, in := range inputs {
		if len(in.Data) > MaxFileSize {
			return nil, fmt.Errorf("%s: %w: files over %d MiB are not export files", in.Name, ErrTooLarge, MaxFileSize>>20)
		}
		data := stripBOM(in.Data)
		f := opts.Format
		detected := false
		if f == "" {
			var err error
			if f, err = detect(data); err != nil {
				return nil, fmt.Errorf("%s: %w", displayName(in.Name), err)
			}
			detected = true
		} else if err := notAnExport(data); err != nil {
			return nil, fmt.Errorf("%s: %w", displayName(in.Name), err)
		}
		c := &collector{source: in.Name, opts: &opts, batches: &batches, format: f, detected: detected, seen: seen}
		if err := c.read(data); err != nil {
			return nil, fmt.Errorf("%s: %w", displayName(in.Name), err)
		}
		if len(c.accounts) == 0 && len(c.skipped) == 0 {
			return nil, fmt.Errorf("%s: %w", displayName(in.Name), ErrNoAccounts)
		}
		res.Inputs = append(res.Inputs, InputSummary{Name: in.Name, Format: c.format, Accounts: len(c.accounts)})
		res.Accounts = append(res.Accounts, c.accounts...)
		res.Skipped = append(res.Skipped, c.skipped...)
		res.Warnings = append(res.Warnings, c.warnings...)
		if len(res.Accounts) > MaxAccounts {
			return nil, fmt.Errorf("%w: more than %d accounts in one import", ErrTooLarge, MaxAccounts)
		}
	}
	if missing := batches.missing(); len(missing) > 0 {
		if !opts.AllowPartial {
			return nil, &MissingPartsError{Exports: missing}
		}
		for _, m := range missing {
			src := ""
			if len(m.Sources) == 1 {
				src = m.Sources[0]
			}
			for _, n := range m.Missing {
				res.Skipped = append(res.Skipped, Skip{
					Source: src,
					Label:  fmt.Sprintf("Google Authenticator export %d, QR code %d of %d", m.Number, n, m.Size),
					Reason: "missing from the import: its accounts were not imported",
				})
			}
		}
	}
	return res, nil
}

func displayName(name string) string {
	if name == "" {
		return "input"
	}
	return name
}

// sameKey identifies an account as vault.Account.SameAs does: type, issuer,
// name and secret.
func sameKey(a *vault.Account) string {
	return string(a.Type) + "\x00" + a.Issuer + "\x00" + a.Name + "\x00" + string(a.Secret)
}

// collector gathers the accounts and skips of one input.
type collector struct {
	source   string
	opts     *ImportOptions
	batches  *batchTracker
	format   Format
	detected bool                     // the format was guessed, not given
	seen     map[string]vault.Account // by sameKey: every account of this import so far
	accounts []vault.Account
	skipped  []Skip
	warnings []Warning
}

// add normalizes and validates one entry, keeping it or skipping it with the reason.
func (c *collector) add(a vault.Account) {
	a.Added = a.Added.UTC()
	a.Normalize()
	if err := a.Validate(); err != nil {
		c.skip(a.Label(), err.Error())
		return
	}
	key := sameKey(&a)
	if first, ok := c.seen[key]; ok {
		reason := "duplicate of an entry earlier in this import"
		if diff := settingsDiff(&first, &a); diff != "" {
			reason += " with other settings (" + diff + "): the first one is kept"
		}
		c.skip(a.Label(), reason)
		return
	}
	c.seen[key] = a
	c.accounts = append(c.accounts, a)
	if len(a.Secret) < minSecretBytes {
		c.warnings = append(c.warnings, Warning{Source: c.source, Label: a.Label(),
			Message: fmt.Sprintf("the secret of %s is only %d bits: check it", a.Label(), 8*len(a.Secret))})
	}
}

func (c *collector) skip(label, reason string) {
	if strings.TrimSpace(label) == "" {
		label = fmt.Sprintf("entry %d", len(c.accounts)+len(c.skipped)+1)
	}
	c.skipped = append(c.skipped, Skip{Source: c.source, Label: label, Reason: reason})
}

// password asks for the password of the current input.
func (c *collector) password() ([]byte, error) {
	if c.opts.Password == nil {
		return nil, ErrPasswordRequired
	}
	pw, err := c.opts.Password(c.source, c.format)
	if err != nil {
		return nil, err
	}
	if len(pw) == 0 {
		return nil, ErrPasswordRequired
	}
	return pw, nil
}

// read dispatches to the reader of the input's format.
func (c *collector) read(data []byte) error {
	if len(c.accounts) > MaxAccounts {
		return fmt.Errorf("%w: more than %d accounts", ErrTooLarge, MaxAccounts)
	}
	switch c.format {
	case FormatURIList, FormatEnte, FormatGoogle:
		return c.readText(data)
	case FormatImage:
		return c.readImage(data)
	case FormatAegis:
		return c.readAegis(data)
	case Format2FAS:
		return c.read2FAS(data)
	case FormatAndOTP:
		return c.readAndOTP(data)
	case FormatBitwarden:
		return c.readBitwarden(data)
	case FormatFreeOTPPlus:
		return c.readFreeOTPPlus(data)
	case FormatFreeOTPXML:
		return c.readFreeOTPXML(data)
	case FormatFreeOTP2:
		return c.readFreeOTP2(data)
	case FormatProton:
		return c.readProton(data)
	case FormatStratum:
		return c.readStratum(data)
	case FormatSteam:
		return c.readSteam(data)
	case FormatDuo:
		return c.readDuo(data)
	case FormatTOTPAuth:
		return c.readTOTPAuth(data)
	case FormatAuthPlus:
		return c.readAuthPlus(data)
	case FormatBackup:
		return c.readBackup(data)
	}
	return fmt.Errorf("%w %q", ErrUnknownFormat, c.format)
}

// objectKeys checks that data is a JSON object with at least one of keys,
// as every file of the collector's format has. Invalid JSON is reported as
// damaged; JSON of another shape as a *NotFormatError.
func (c *collector) objectKeys(data []byte, what string, keys ...string) error {
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(data, &obj); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return &NotFormatError{Format: c.format, What: what, Detail: "it is JSON but not an object"}
		}
		return jsonErr(what, err)
	}
	for _, k := range keys {
		if has(obj, k) {
			return nil
		}
	}
	return &NotFormatError{Format: c.format, What: what, Detail: fmt.Sprintf("it has no %q", keys[0])}
}

// jsonList refuses data that is not a JSON list, for formats that are one.
func (c *collector) jsonList(data []byte, what string) error {
	if t := bytes.TrimSpace(data); len(t) > 0 && t[0] == '{' && json.Valid(t) {
		return &NotFormatError{Format: c.format, What: what, Detail: "it is a JSON object, not a list"}
	}
	return nil
}
