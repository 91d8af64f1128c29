//go:build unix

package gate

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"sort"
	"strings"
	"syscall"

	"github.com/BurntSushi/toml"
)

// DefaultConfigPath is where the gate reads its configuration unless told otherwise.
const DefaultConfigPath = "/etc/sesame/gate.toml"

// Failmodes: what the gate does when the approval server cannot be reached.
const (
	FailSecure = "secure" // deny (the default)
	FailSafe   = "safe"   // allow, with a log line
)

// Sign-in modes the gate may ask for.
const (
	ModeType   = "type"   // the user types the number in Sesame (default)
	ModeChoose = "choose" // the user picks the number among three
)

// Limits of Config.Timeout, in seconds (the server's limits for a sign-in's lifetime).
const (
	DefaultTimeout = 60
	MinTimeout     = 10
	MaxTimeout     = 600
)

// Config is the gate's configuration file (TOML).
type Config struct {
	// ServerURL is the approval server's base URL (https, or http to loopback).
	ServerURL string `toml:"server_url"`
	// APIKeyFile holds the relying-party API key; others must not be able to read it.
	APIKeyFile string `toml:"api_key_file"`
	// FailMode is FailSecure (default) or FailSafe.
	FailMode string `toml:"failmode"`
	// Groups limits the gate to members of these groups; empty: everyone.
	Groups []string `toml:"groups"`
	// UsersMap maps login names to Sesame user names; a missing name maps to itself.
	UsersMap map[string]string `toml:"users_map"`
	// Timeout is how long a sign-in waits for its answer, in seconds.
	Timeout int `toml:"timeout"`
	// Mode is ModeType (default) or ModeChoose.
	Mode string `toml:"mode"`
	// PushInfo sends the SSH command being run along with the sign-in request.
	PushInfo bool `toml:"pushinfo"`
}

// maxConfigBytes caps the configuration file's size.
const maxConfigBytes = 1 << 20

// ParseConfig reads a configuration from TOML text, fills in defaults and
// checks it; name says where it came from in errors. Unknown keys are
// errors that name them.
func ParseConfig(data []byte, name string) (Config, error) {
	var c Config
	md, err := toml.NewDecoder(bytes.NewReader(data)).Decode(&c)
	if err != nil {
		return c, fmt.Errorf("%s: %w", name, err)
	}
	if u := md.Undecoded(); len(u) > 0 {
		keys := make([]string, len(u))
		for i, k := range u {
			keys[i] = k.String()
		}
		sort.Strings(keys)
		return c, fmt.Errorf("%s: unknown key(s) %s: the keys are server_url, api_key_file, failmode, groups, users_map, timeout, mode and pushinfo", name, strings.Join(keys, ", "))
	}
	bad := func(format string, args ...any) (Config, error) {
		return c, fmt.Errorf("%s: "+format, append([]any{name}, args...)...)
	}
	if c.ServerURL == "" {
		return bad("server_url is missing: set it to the approval server's URL, such as https://auth.example.com")
	}
	if c.APIKeyFile == "" {
		return bad("api_key_file is missing: set it to the file holding the relying-party API key")
	}
	switch c.FailMode {
	case "":
		c.FailMode = FailSecure
	case FailSecure, FailSafe:
	default:
		return bad("failmode must be \"secure\" or \"safe\", not %q", c.FailMode)
	}
	switch c.Mode {
	case "":
		c.Mode = ModeType
	case ModeType, ModeChoose:
	default:
		return bad("mode must be \"type\" or \"choose\", not %q", c.Mode)
	}
	switch {
	case c.Timeout == 0:
		c.Timeout = DefaultTimeout
	case c.Timeout < MinTimeout || c.Timeout > MaxTimeout:
		return bad("timeout must be between %d and %d seconds, not %d", MinTimeout, MaxTimeout, c.Timeout)
	}
	for login, user := range c.UsersMap {
		if user == "" || len(user) > 128 {
			return bad("users_map: %q maps to an empty or too long name", login)
		}
	}
	return c, nil
}

// LoadConfig reads and checks the configuration file at path. When the
// gate runs with more privileges than its caller (installed setgid so that
// it alone can read the API key), the file must belong to root and be
// writable by nobody else, or a user could point the gate at their own server.
func LoadConfig(path string, privileged bool) (Config, error) {
	f, err := os.Open(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return Config{}, fmt.Errorf("no configuration at %s: create it (see docs/ssh.md) or give --config FILE", path)
		}
		return Config{}, fmt.Errorf("read the configuration: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return Config{}, err
	}
	if privileged {
		if err := rootOwned(fi); err != nil {
			return Config{}, fmt.Errorf("%s: %w", path, err)
		}
	}
	data, err := io.ReadAll(io.LimitReader(f, maxConfigBytes+1))
	if err != nil {
		return Config{}, fmt.Errorf("read %s: %w", path, err)
	}
	if len(data) > maxConfigBytes {
		return Config{}, fmt.Errorf("%s is over 1 MiB: is it the right file?", path)
	}
	return ParseConfig(data, path)
}

func rootOwned(fi fs.FileInfo) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return errors.New("cannot tell who owns the file")
	}
	if st.Uid != 0 || fi.Mode().Perm()&0o022 != 0 {
		return fmt.Errorf("must belong to root and be writable only by root (now uid %d, mode %04o): chown root and chmod 644 it", st.Uid, fi.Mode().Perm())
	}
	return nil
}

// maxKeyBytes caps the API key file's size.
const maxKeyBytes = 4096

// ReadAPIKey reads the API key from path (first line, trimmed). It refuses
// a file that others can read: only root and the gate's group may.
func ReadAPIKey(path string, privileged bool) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("read the API key file: %w (it must be readable by root or the gate's group only)", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return "", err
	}
	if p := fi.Mode().Perm(); p&0o007 != 0 {
		return "", fmt.Errorf("the API key file %s can be read or changed by every user (mode %04o): chmod 640 it, owned by root and the gate's group", path, p)
	}
	if privileged {
		if st, ok := fi.Sys().(*syscall.Stat_t); !ok || st.Uid != 0 {
			return "", fmt.Errorf("the API key file %s must belong to root", path)
		}
	}
	b, err := io.ReadAll(io.LimitReader(f, maxKeyBytes+1))
	if err != nil {
		return "", fmt.Errorf("read the API key file: %w", err)
	}
	if len(b) > maxKeyBytes {
		return "", fmt.Errorf("the API key file %s is over 4 KiB: is it the right file?", path)
	}
	line, _, _ := strings.Cut(string(b), "\n")
	key := strings.TrimSpace(line)
	if len(key) < 16 {
		return "", fmt.Errorf("the API key in %s is shorter than 16 characters: use the server's key", path)
	}
	return key, nil
}
