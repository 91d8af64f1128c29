//go:build darwin

package notify

// Desktop returns the desktop's notifier: osascript's notifications.
func Desktop() Notifier { return AppleScript{} }
