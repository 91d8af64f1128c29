//go:build !darwin && !windows

package vault

// ReadUnlocked is SystemKeyring.Get's own Secret Service read, without
// go-keyring behind it, over a fresh connection to the session bus.
func ReadUnlocked(service, user string) (string, error) {
	c, err := openBus()
	if err != nil {
		return "", err
	}
	defer c.Close()
	return readUnlocked(c, service, user)
}

// ErrNotUnlocked is ReadUnlocked's error when there is no unlocked item.
var ErrNotUnlocked = errNotUnlocked
