package transfer

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"strings"
	"unicode/utf8"
)

// Detect guesses the format of an export file from its content. A UTF-8
// byte-order mark is ignored. Binary data that is nothing else it knows is
// taken for an encrypted andOTP backup when it starts like one (a plausible
// PBKDF2 iteration count); decrypting it then tells for sure. Other binary
// data is refused: an old-format andOTP backup, which has no header at all,
// must be named with Format.
func Detect(data []byte) (Format, error) {
	return detect(stripBOM(data))
}

// utf8BOM is the byte-order mark some Windows tools put before UTF-8 text.
const utf8BOM = "\xef\xbb\xbf"

// stripBOM removes one UTF-8 byte-order mark from the start of an input.
// Import does it once for every input, before detection and reading, so no
// importer has to.
func stripBOM(data []byte) []byte {
	return bytes.TrimPrefix(data, []byte(utf8BOM))
}

// readable lists, for errors, what Import reads.
const readable = "Google Authenticator, Aegis, 2FAS, andOTP, Bitwarden, Ente Auth, FreeOTP (1 and 2) and FreeOTP+, " +
	"Proton Authenticator, Stratum, Steam Desktop Authenticator, Duo, TOTP Authenticator and Authenticator Plus exports, " +
	"otpauth:// links, QR code images (PNG, JPEG, GIF) and Sesame backups"

// andOTPHeader reports whether data starts like a current-format encrypted
// andOTP backup: a 4-byte iteration count that Sesame accepts, then room for
// the salt, nonce and tag. Random data passes this about once in 400 times.
func andOTPHeader(data []byte) bool {
	if len(data) < 4+andOTPSaltLen+andOTPMinLen {
		return false
	}
	iter := binary.BigEndian.Uint32(data)
	return iter >= 1 && iter <= maxPBKDF2Iter
}

func detect(data []byte) (Format, error) {
	if len(data) > MaxFileSize {
		return "", fmt.Errorf("%w: files over %d MiB are not export files", ErrTooLarge, MaxFileSize>>20)
	}
	if err := notAnExport(data); err != nil {
		return "", err
	}
	switch {
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")),
		bytes.HasPrefix(data, []byte("\xff\xd8\xff")),
		bytes.HasPrefix(data, []byte("GIF87a")), bytes.HasPrefix(data, []byte("GIF89a")):
		return FormatImage, nil
	case bytes.HasPrefix(data, []byte("PK\x03\x04")):
		return FormatAuthPlus, nil
	case isStratumEncrypted(data):
		return FormatStratum, nil
	case bytes.HasPrefix(data, javaStreamMagic):
		return FormatFreeOTP2, nil
	}
	trimmed := bytes.TrimSpace(data)
	if isAge(trimmed) {
		return FormatBackup, nil
	}
	if len(trimmed) == 0 {
		return "", fmt.Errorf("%w: the file is empty", ErrUnknownFormat)
	}
	if !utf8.Valid(trimmed) || bytes.IndexByte(trimmed, 0) >= 0 {
		if andOTPHeader(data) {
			return FormatAndOTP, nil
		}
		return "", fmt.Errorf("%w: binary data that Sesame does not recognise; it reads %s. "+
			"an old-format encrypted andOTP backup has no header to recognise: import it with --format andotp", ErrUnknownFormat, readable)
	}
	switch trimmed[0] {
	case '{', '[':
		if bytes.Contains(trimmed, []byte(`"kdfParams"`)) && bytes.Contains(trimmed, []byte(`"encryptedData"`)) {
			return "", fmt.Errorf("%w: encrypted Ente Auth exports are %w; export again as plain text", ErrUnknownFormat, ErrUnsupported)
		}
		if f, ok := detectJSON(trimmed); ok {
			return f, nil
		}
		if !json.Valid(trimmed) {
			return "", fmt.Errorf("%w: the file starts like JSON but is not valid JSON (is it truncated?)", ErrUnknownFormat)
		}
		return "", fmt.Errorf("%w: JSON that is no export Sesame knows", ErrUnknownFormat)
	case '<':
		if bytes.Contains(trimmed, []byte(`name="`+totpAuthPrefKey+`"`)) {
			return FormatTOTPAuth, nil
		}
		if bytes.Contains(trimmed, []byte("<map")) && bytes.Contains(trimmed, []byte("<string")) {
			return FormatFreeOTPXML, nil
		}
		return "", fmt.Errorf("%w: XML that is no export Sesame knows", ErrUnknownFormat)
	}
	return detectText(string(trimmed))
}

// detectText recognises URI lists, migration URIs and Bitwarden CSV.
func detectText(s string) (Format, error) {
	uris, migration, ente := 0, 0, false
	for line := range strings.Lines(s) {
		l := strings.ToLower(strings.TrimSpace(line))
		switch {
		case IsMigrationLink(l):
			migration++
		case strings.HasPrefix(l, "otpauth://"), strings.HasPrefix(l, "steam://"):
			uris++
			if strings.Contains(l, "&codedisplay=") {
				ente = true
			}
		}
	}
	first, _, _ := strings.Cut(s, "\n")
	if strings.Contains(first, "login_totp") {
		return FormatBitwarden, nil
	}
	switch {
	case migration > 0 && uris == 0:
		return FormatGoogle, nil
	case ente:
		return FormatEnte, nil
	case uris > 0 || migration > 0:
		return FormatURIList, nil
	}
	if isTOTPAuthBackup(s) {
		return FormatTOTPAuth, nil
	}
	return "", fmt.Errorf("%w: no otpauth:// or otpauth-migration:// links in the text, and no export format Sesame knows", ErrUnknownFormat)
}

// detectJSON looks at the top-level keys of a JSON document.
func detectJSON(data []byte) (Format, bool) {
	if data[0] == '[' {
		var arr []map[string]json.RawMessage
		if json.Unmarshal(data, &arr) != nil {
			return "", false
		}
		if len(arr) == 0 {
			return FormatAndOTP, true // andOTP writes [] for an empty backup
		}
		e := arr[0]
		switch {
		case has(e, "otpGenerator"):
			return FormatDuo, true
		case has(e, "otp") && has(e, "secret"):
			return Format2FAS, true // the decrypted services array of a .2fas file
		case has(e, "secret") && has(e, "type") && (has(e, "label") || has(e, "digits")):
			return FormatAndOTP, true
		}
		return "", false
	}
	var obj map[string]json.RawMessage
	if json.Unmarshal(data, &obj) != nil {
		return "", false
	}
	switch {
	case has(obj, "header") && has(obj, "db"):
		return FormatAegis, true
	case has(obj, "services") || has(obj, "servicesEncrypted"):
		return Format2FAS, true
	case has(obj, "items") && (has(obj, "encrypted") || has(obj, "folders")):
		return FormatBitwarden, true
	case has(obj, "encrypted") && has(obj, "data"):
		return FormatBitwarden, true // password-protected Bitwarden export; refused with a clear message
	case has(obj, "tokens") && has(obj, "tokenOrder"):
		return FormatFreeOTPPlus, true
	case has(obj, "entries") && has(obj, "version"):
		return FormatProton, true
	case has(obj, "Authenticators"):
		return FormatStratum, true
	case has(obj, "shared_secret") || has(obj, "accounts"):
		return FormatSteam, true
	}
	return "", false
}

func has(m map[string]json.RawMessage, key string) bool {
	v, ok := m[key]
	return ok && string(v) != "null"
}

// notAnExport recognises files people take for exports but that no importer
// reads: an app's internal SQLite database (Google Authenticator, Microsoft
// Authenticator, Stratum), and the app data (Android shared preferences) of
// Authy and the Battle.net Authenticator, which have no export at all.
func notAnExport(data []byte) error {
	xml := bytes.HasPrefix(bytes.TrimSpace(data), []byte("<"))
	switch {
	case xml && bytes.Contains(data, []byte(`name="com.authy.storage.`)):
		return fmt.Errorf("%w: this is Authy's app data, and Authy files are %w: Authy has no export; "+
			"add each account to Sesame again from the site's two-factor settings (re-enrol), then remove it from Authy", ErrUnknownFormat, ErrUnsupported)
	case xml && bytes.Contains(data, []byte(`name="com.blizzard.messenger.`)):
		return fmt.Errorf("%w: this is the Battle.net Authenticator's app data, and Battle.net files are %w: the app has no export; "+
			"remove the authenticator from your Battle.net account and attach a new one with Sesame (re-enrol), "+
			"or use Battle.net's own transfer to move it to another app that exports otpauth links", ErrUnknownFormat, ErrUnsupported)
	case bytes.HasPrefix(data, []byte("SQLite format 3\x00")):
		return fmt.Errorf("%w: this is an app's internal database, not an export: export from the app instead", ErrUnknownFormat)
	}
	return nil
}
