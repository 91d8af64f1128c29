package notify

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"sync/atomic"
)

// Toast shows Windows toast notifications through PowerShell, under
// PowerShell's own application ID (a plain program has none registered).
// The texts travel in environment variables, never inside the script.
type Toast struct{ next atomic.Uint64 }

const toastPrelude = `$ErrorActionPreference = 'Stop'
[Windows.UI.Notifications.ToastNotificationManager, Windows.UI.Notifications, ContentType = WindowsRuntime] > $null
$app = '{1AC14E77-02E7-4E5D-B744-2EB1AE5198B7}\WindowsPowerShell\v1.0\powershell.exe'
`

const showToast = toastPrelude + `$t = [Windows.UI.Notifications.ToastNotificationManager]::GetTemplateContent([Windows.UI.Notifications.ToastTemplateType]::ToastText02)
$x = $t.GetElementsByTagName('text')
$x.Item(0).AppendChild($t.CreateTextNode($env:SESAME_TITLE)) > $null
$x.Item(1).AppendChild($t.CreateTextNode($env:SESAME_BODY)) > $null
$n = [Windows.UI.Notifications.ToastNotification]::new($t)
$n.Tag = $env:SESAME_TAG
$n.Group = 'sesame'
[Windows.UI.Notifications.ToastNotificationManager]::CreateToastNotifier($app).Show($n)
`

const closeToast = toastPrelude + `[Windows.UI.Notifications.ToastNotificationManager]::History.Remove($env:SESAME_TAG, 'sesame', $app)
`

func powershell(ctx context.Context, script string, env ...string) error {
	c := exec.CommandContext(ctx, "powershell.exe", "-NoProfile", "-NonInteractive", "-Command", script)
	c.Env = append(os.Environ(), env...)
	if out, err := c.CombinedOutput(); err != nil {
		return fmt.Errorf("%w: powershell: %v (%s)", ErrUnavailable, err, out)
	}
	return nil
}

// Show shows a toast.
func (t *Toast) Show(ctx context.Context, n Notification) (ID, error) {
	id := n.Replaces
	if id == 0 {
		id = ID(t.next.Add(1))
	}
	tag := "sesame-" + strconv.FormatUint(uint64(id), 10)
	if err := powershell(ctx, showToast, "SESAME_TITLE="+n.Title, "SESAME_BODY="+n.Body, "SESAME_TAG="+tag); err != nil {
		return 0, err
	}
	return id, nil
}

// Close removes the toast from the action centre.
func (t *Toast) Close(ctx context.Context, id ID) error {
	return powershell(ctx, closeToast, "SESAME_TAG=sesame-"+strconv.FormatUint(uint64(id), 10))
}

// Actions is nil: the toast has no button wired to Sesame.
func (t *Toast) Actions() <-chan ID { return nil }
