//go:build darwin || windows

package vault

import (
	"errors"
	"net"
	"time"
)

// keyringReachable is nil: macOS and Windows always have their keyring, and
// reaching it starts nothing.
func keyringReachable() error { return nil }

// openBus returns no connection: there is no session bus to reach first.
func openBus() (net.Conn, error) { return nil, nil }

// startDirect has nothing to read with: every read goes through go-keyring.
func startDirect(net.Conn, time.Duration) error {
	return errors.New("no direct read here")
}

// sendSearch is never called here: startDirect always fails.
func sendSearch(net.Conn, string, string) error {
	return errors.New("no direct read here")
}

// finishDirect is never called here: startDirect always fails.
func finishDirect(net.Conn) (string, error) {
	return "", errors.New("no direct read here")
}

// introduceClient has nothing to do: only gnome-keyring needs it.
func introduceClient(string, string) {}
