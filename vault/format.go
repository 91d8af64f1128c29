package vault

// The vault file format: the envelope, reading and checking it, and encoding
// and decoding the encrypted contents.

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"

	"filippo.io/age"
)

// The vault file, version 2, is one line of JSON: a short header saying how
// to find the key, then the age ciphertext of the contents, as raw bytes:
//
//	{"format":"sesame-vault","version":2,"store":"keyring","keyring_id":"vault-…","data":"<age binary>"}
//
// It stays a JSON document so that Sesame before version 2, which reads the
// format and version with encoding/json over the whole file, says that the
// vault was written by a newer Sesame instead of calling it damaged. The
// ciphertext is not base64: a JSON string may hold any byte but the controls,
// '"' and '\', so only those and the escape byte are written as two bytes
// (see stuff), and Sesame reads the header alone with encoding/json and the
// payload with one pass over it. Version 1 (JSON contents in base64 inside an
// indented JSON envelope) is still read; every write is version 2.
const (
	envelopeFormat  = "sesame-vault"
	envelopeVersion = 2
	dataKey         = `,"data":"` // ends the header; the payload follows

	maxFileSize = 64 << 20 // far above 1,000 accounts; refuse anything bigger as damaged
)

// envelope is the vault file. Only Data and WrappedKey carry secrets, and
// both are age-encrypted: Data to the vault's X25519 key, WrappedKey (the
// X25519 key itself) to a passphrase with scrypt. The cleartext fields say
// only how to find the key.
type envelope struct {
	Format     string    `json:"format"`
	Version    int       `json:"version"`
	Store      StoreKind `json:"store"`
	KeyringID  string    `json:"keyring_id,omitempty"`  // keyring item user name, for keyring vaults
	WrappedKey []byte    `json:"wrapped_key,omitempty"` // the vault key under the (recovery) passphrase
	Data       []byte    `json:"data,omitempty"`        // age ciphertext of the contents
}

// newerFormatError says the vault file was written by a newer Sesame.
type newerFormatError int

func (e newerFormatError) Error() string {
	return fmt.Sprintf("the vault was written by a newer Sesame (format %d): upgrade Sesame; nothing was changed", int(e))
}

// Is matches ErrNewerFormat.
func (e newerFormatError) Is(target error) bool { return target == ErrNewerFormat }

// CorruptError says the vault file cannot be read, and where the previous version is.
type CorruptError struct {
	Path, Backup string
	Err          error
}

func (e *CorruptError) Error() string {
	msg := fmt.Sprintf("%v: %s: %v", ErrCorrupt, e.Path, e.Err)
	if _, err := os.Stat(e.Backup); err == nil {
		msg += fmt.Sprintf("; the previous version is kept in %s: move the damaged file aside and copy the backup in its place", e.Backup)
	}
	return msg
}

// Unwrap lets errors.Is(err, ErrCorrupt) match.
func (e *CorruptError) Unwrap() error { return ErrCorrupt }

// readEnvelope reads and parses the vault file. It returns the file's
// FileInfo for change detection. headerRead, when set, is given the
// envelope (without its Data) as soon as the header checks out, before the
// payload is decoded.
func (v *Vault) readEnvelope(headerRead func(envelope)) (envelope, fs.FileInfo, error) {
	var env envelope
	path := v.Path()
	f, st, err := openRegular(path)
	if errors.Is(err, fs.ErrNotExist) {
		if names := leftovers(v.dir); len(names) > 0 {
			return env, nil, &backupOnlyError{dir: v.dir, names: names, open: true}
		}
		return env, nil, fmt.Errorf("%w (looked in %s)", ErrNoVault, v.dir)
	}
	if errors.Is(err, ErrNotRegular) {
		return env, nil, err
	}
	if err != nil {
		return env, nil, fmt.Errorf("read the vault: %w", err)
	}
	defer f.Close()
	b, err := readAll(io.LimitReader(f, maxFileSize+1), st.Size())
	if err != nil {
		return env, nil, fmt.Errorf("read the vault: %w", err)
	}
	corrupt := func(why string) (envelope, fs.FileInfo, error) {
		return envelope{}, nil, &CorruptError{Path: path, Backup: v.BackupPath(), Err: errors.New(why)}
	}
	if len(b) > maxFileSize {
		return corrupt("it is larger than any vault could be")
	}
	env, stuffed, err := splitEnvelope(b)
	var newer newerFormatError
	if errors.As(err, &newer) {
		return envelope{}, nil, err
	}
	if err != nil {
		return corrupt(err.Error())
	}
	switch {
	case env.Store != StoreKeyring && env.Store != StorePassphrase:
		return corrupt("it names no key store")
	case env.Store == StoreKeyring && env.KeyringID == "":
		return corrupt("it names no keyring item")
	case env.Store == StorePassphrase && len(env.WrappedKey) == 0:
		return corrupt("its passphrase-protected key is missing")
	}
	if headerRead != nil {
		headerRead(env)
	}
	if stuffed != nil {
		if env.Data, err = unstuffData(stuffed); err != nil {
			return corrupt(err.Error())
		}
	}
	return env, st, nil
}

// parseEnvelope parses a vault file of any version Sesame reads. Its errors
// are a newerFormatError or the reason why the file is damaged.
func parseEnvelope(b []byte) (envelope, error) {
	env, stuffed, err := splitEnvelope(b)
	if err == nil && stuffed != nil {
		env.Data, err = unstuffData(stuffed)
	}
	if err != nil {
		return envelope{}, err
	}
	return env, nil
}

// unstuffData decodes the payload of a version 2 file, in place.
func unstuffData(stuffed []byte) ([]byte, error) {
	data, ok := unstuff(stuffed)
	if !ok {
		return nil, errors.New("its encrypted contents are damaged")
	}
	return data, nil
}

// splitEnvelope is parseEnvelope up to the payload of a version 2 file,
// which it returns as stuffed bytes for unstuffData (a version 1 file has
// its Data decoded already, and stuffed nil).
func splitEnvelope(b []byte) (env envelope, stuffed []byte, err error) {
	// Version 2 and later: the header alone says the format and version.
	// It is read as this version's envelope; when that fails, or names a
	// newer version (which may change any other field), the format and
	// version alone decide what to say.
	var head struct {
		Format  string `json:"format"`
		Version int    `json:"version"`
	}
	if i := bytes.Index(b, []byte(dataKey)); i >= 0 {
		header := append(b[:i:i], '}')
		if json.Unmarshal(header, &env) == nil && env.Format == envelopeFormat && env.Version == envelopeVersion {
			payload := b[i+len(dataKey):]
			end := bytes.IndexByte(payload, '"')
			if end < 0 || string(bytes.TrimRight(payload[end+1:], " \t\r\n")) != "}" {
				return envelope{}, nil, errors.New("it is truncated")
			}
			return env, payload[:end:end], nil
		}
		if json.Unmarshal(header, &head) == nil && head.Format == envelopeFormat && head.Version >= 2 {
			if head.Version > envelopeVersion {
				return envelope{}, nil, newerFormatError(head.Version)
			}
			return envelope{}, nil, errors.New("it is not a Sesame vault or it is truncated")
		}
	}
	// Version 1, or not a vault: Sesame 1 read the whole file as JSON.
	head.Format, head.Version = "", 0
	if err := json.Unmarshal(b, &head); err != nil {
		return envelope{}, nil, errors.New("it is not a Sesame vault or it is truncated")
	}
	switch {
	case head.Format != envelopeFormat:
		return envelope{}, nil, errors.New("it is not a Sesame vault")
	case head.Version > envelopeVersion:
		return envelope{}, nil, newerFormatError(head.Version)
	case head.Version == 2:
		return envelope{}, nil, errors.New("it is not a Sesame vault or it is truncated") // not laid out as version 2 is
	case head.Version != 1:
		return envelope{}, nil, errors.New("it names no valid format version")
	}
	env = envelope{}
	if err := json.Unmarshal(b, &env); err != nil {
		return envelope{}, nil, errors.New("it is not a Sesame vault or it is truncated")
	}
	return env, nil, nil
}

// encodeEnvelope returns env as a version 2 file.
func encodeEnvelope(env envelope) ([]byte, error) {
	data := env.Data
	env.Data, env.Format, env.Version = nil, envelopeFormat, envelopeVersion
	head, err := json.Marshal(env)
	if err != nil {
		return nil, err
	}
	b := make([]byte, 0, len(head)+len(dataKey)+len(data)+len(data)/6+4)
	b = append(b, head[:len(head)-1]...) // without its closing brace
	b = append(b, dataKey...)
	b = stuff(b, data)
	return append(b, "\"}\n"...), nil
}

// stuffEscape starts the two-byte form of a byte that a JSON string cannot
// hold as it is: the escape, then the byte plus 0x80.
const stuffEscape = '='

// stuffed lists the bytes written in two-byte form.
var stuffed = func() (t [256]bool) {
	for c := range 0x20 {
		t[c] = true
	}
	t['"'], t['\\'], t[stuffEscape] = true, true, true
	return t
}()

// stuff appends p to b in a form that a JSON string holds as it is.
func stuff(b, p []byte) []byte {
	for _, c := range p {
		if stuffed[c] {
			b = append(b, stuffEscape, c|0x80)
		} else {
			b = append(b, c)
		}
	}
	return b
}

// unstuff reverses stuff, in place: it overwrites s (each byte lands at or
// before where it was read) and returns the front of it. ok is false for
// anything stuff does not write. One table lookup a byte decides (the escape
// is itself a stuffed byte).
func unstuff(s []byte) (p []byte, ok bool) {
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if stuffed[c] {
			if c != stuffEscape {
				return nil, false
			}
			if i++; i == len(s) || s[i] < 0x80 || !stuffed[s[i]&^0x80] {
				return nil, false
			}
			c = s[i] &^ 0x80
		}
		s[n] = c
		n++
	}
	return s[:n], true
}

// errOtherKey is the reason of a CorruptError for contents that are not
// encrypted to the key used.
var errOtherKey = errors.New("its contents are not encrypted to this vault's key")

// decrypt decrypts and parses env's contents.
func (v *Vault) decrypt(env envelope, id *age.X25519Identity) (*contents, error) {
	corrupt := func(why string) (*contents, error) {
		return nil, &CorruptError{Path: v.Path(), Backup: v.BackupPath(), Err: errors.New(why)}
	}
	r, err := age.Decrypt(bytes.NewReader(env.Data), id)
	var noMatch *age.NoIdentityMatchError
	if errors.As(err, &noMatch) {
		return nil, &CorruptError{Path: v.Path(), Backup: v.BackupPath(), Err: errOtherKey}
	}
	if err != nil {
		return corrupt("its encrypted contents are damaged")
	}
	b, err := readAll(io.LimitReader(r, maxFileSize), int64(len(env.Data))) // the plaintext is a little shorter
	if err != nil {
		return corrupt("its encrypted contents are damaged or truncated")
	}
	if env.Version == 1 {
		var d Data
		if err := json.Unmarshal(b, &d); err != nil {
			return corrupt("its contents do not parse")
		}
		return &contents{decoded: true, accounts: d.Accounts, pairings: d.Pairings, history: d.History}, nil
	}
	c, err := parseContents(b)
	if err != nil {
		return corrupt(err.Error())
	}
	return c, nil
}

// encodeFile encrypts d to id into env.Data and returns the vault file's
// bytes, in the newest version.
func encodeFile(env *envelope, id *age.X25519Identity, d *Data) ([]byte, error) {
	plain, err := encodeContents(d)
	if err != nil {
		return nil, err
	}
	var ct bytes.Buffer
	ct.Grow(len(plain) + len(plain)/64 + 256)
	w, err := age.Encrypt(&ct, id.Recipient())
	if err != nil {
		return nil, err
	}
	if _, err := w.Write(plain); err != nil {
		return nil, err
	}
	if err := w.Close(); err != nil {
		return nil, err
	}
	env.Format, env.Version, env.Data = envelopeFormat, envelopeVersion, ct.Bytes()
	return encodeEnvelope(*env)
}

// readAll is io.ReadAll into a buffer sized for what r is expected to hold,
// so that a large vault is read without growing and copying the buffer.
func readAll(r io.Reader, size int64) ([]byte, error) {
	var buf bytes.Buffer
	buf.Grow(int(min(max(size, 0), maxFileSize)) + bytes.MinRead)
	_, err := buf.ReadFrom(r)
	return buf.Bytes(), err
}
