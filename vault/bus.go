//go:build !darwin && !windows

package vault

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// keyringReachable reports why the Secret Service cannot be reached: there
// is no session bus.
func keyringReachable() error {
	c, err := openBus()
	if err == nil {
		c.Close()
	}
	return err
}

// openBus connects to the session bus, or says why there is none (an error
// matching ErrNoKeyring). The connection is not authenticated yet: the
// Secret Service reads go over it (SystemKeyring.Connect). When the bus is
// only known by its socket in the runtime folder, it sets
// DBUS_SESSION_BUS_ADDRESS to it, so that the D-Bus library under
// go-keyring connects there and never falls back to autolaunching a bus of
// its own (dbus-launch), which would start a dbus-daemon and a keyring
// daemon that outlive Sesame.
func openBus() (net.Conn, error) {
	addr, c, err := sessionBus(os.Getenv, os.Getuid())
	if err != nil {
		return nil, err
	}
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") != addr {
		if err := os.Setenv("DBUS_SESSION_BUS_ADDRESS", addr); err != nil {
			c.Close()
			return nil, err
		}
	}
	return c, nil
}

// busDialTimeout bounds the check that a session bus answers a connection.
const busDialTimeout = 2 * time.Second

// sessionBus returns the address of the session bus and a connection to
// it, which shows that it accepts connections: DBUS_SESSION_BUS_ADDRESS when
// set, else the socket "bus" in $XDG_RUNTIME_DIR (or /run/user/UID when that
// is unset). Its error matches ErrNoKeyring and says what is missing.
func sessionBus(getenv func(string) string, uid int) (string, net.Conn, error) {
	if addr := getenv("DBUS_SESSION_BUS_ADDRESS"); addr != "" {
		c, err := dialBus(addr)
		if err != nil {
			return "", nil, noKeyringError{fmt.Sprintf("the D-Bus session bus in DBUS_SESSION_BUS_ADDRESS (%s) does not answer: %v", addr, err)}
		}
		return addr, c, nil
	}
	dir := getenv("XDG_RUNTIME_DIR")
	if dir == "" {
		dir = "/run/user/" + strconv.Itoa(uid)
	}
	sock := filepath.Join(dir, "bus")
	if _, err := os.Stat(sock); err != nil {
		return "", nil, noKeyringError{fmt.Sprintf("there is no D-Bus session bus: DBUS_SESSION_BUS_ADDRESS is not set and %s does not exist", sock)}
	}
	addr := "unix:path=" + escapeBusValue(sock)
	c, err := dialBus(addr)
	if err != nil {
		return "", nil, noKeyringError{fmt.Sprintf("the D-Bus session bus socket %s does not answer: %v", sock, err)}
	}
	return addr, c, nil
}

// dialBus connects to the first address of a D-Bus address list that
// accepts a connection. Only the transports a
// session bus uses are tried: unix (path or abstract) and tcp; "autolaunch:"
// and the like are refused, because using them starts a bus.
func dialBus(list string) (net.Conn, error) {
	err := fmt.Errorf("no usable address (Sesame connects to unix: and tcp: addresses only)")
	for _, a := range strings.Split(list, ";") {
		transport, params, ok := strings.Cut(a, ":")
		if !ok {
			continue
		}
		kv := map[string]string{}
		for _, p := range strings.Split(params, ",") {
			if k, v, ok := strings.Cut(p, "="); ok {
				kv[k] = unescapeBusValue(v)
			}
		}
		var network, address string
		switch {
		case transport == "unix" && kv["path"] != "":
			network, address = "unix", kv["path"]
		case transport == "unix" && kv["abstract"] != "":
			network, address = "unix", "@"+kv["abstract"]
		case (transport == "tcp" || transport == "nonce-tcp") && kv["port"] != "":
			network, address = "tcp", net.JoinHostPort(kv["host"], kv["port"])
		default:
			continue
		}
		c, derr := net.DialTimeout(network, address, busDialTimeout)
		if derr == nil {
			return c, nil
		}
		err = derr
	}
	return nil, err
}

// escapeBusValue escapes a value of a D-Bus address: bytes other than
// [-0-9A-Za-z_/.\*] become %XX.
func escapeBusValue(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '-' || c == '_' || c == '/' || c == '.' || c == '\\' || c == '*' ||
			(c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02x", c)
		}
	}
	return b.String()
}

// unescapeBusValue undoes escapeBusValue; a malformed escape is kept as is.
func unescapeBusValue(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '%' && i+2 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+3], 16, 8); err == nil {
				b.WriteByte(byte(n))
				i += 2
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
