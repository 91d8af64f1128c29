package notify

import (
	"context"
	"fmt"
	"os/exec"
)

// AppleScript shows notifications with osascript's display notification.
// macOS gives scripts no way to withdraw a notification or add a button, so
// Close does nothing and there are no actions.
type AppleScript struct{}

// The strings travel as arguments, never inside the script's text.
const displayScript = `on run argv
display notification (item 2 of argv) with title "Sesame" subtitle (item 1 of argv)
end run`

// Show runs osascript.
func (AppleScript) Show(ctx context.Context, n Notification) (ID, error) {
	out, err := exec.CommandContext(ctx, "osascript", "-e", displayScript, n.Title, n.Body).CombinedOutput()
	if err != nil {
		return 0, fmt.Errorf("%w: osascript: %v (%s)", ErrUnavailable, err, out)
	}
	return 1, nil
}

// Close does nothing: macOS has no way for a script to do it.
func (AppleScript) Close(context.Context, ID) error { return nil }

// Actions is nil: script notifications have no buttons.
func (AppleScript) Actions() <-chan ID { return nil }
