//go:build windows

package notify

// Desktop returns the desktop's notifier: toasts through PowerShell.
func Desktop() Notifier { return &Toast{} }
