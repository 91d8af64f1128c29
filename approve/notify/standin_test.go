//go:build unix

package notify

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// standIn puts an executable shell script called name first on $PATH. It
// writes its arguments, NUL-separated, to the file it returns, and then
// the environment variables vars, when there are any, to that file + ".env";
// it fails with a message when $STANDIN_FAIL is set.
func standIn(t *testing.T, name string, vars ...string) string {
	t.Helper()
	dir := t.TempDir()
	out := filepath.Join(dir, "args")
	script := "#!/bin/sh\n" +
		`[ -n "$STANDIN_FAIL" ] && { echo "$STANDIN_FAIL" >&2; exit 1; }` + "\n" +
		`printf '%s\0' "$@" > ` + out + "\n"
	if len(vars) > 0 {
		script += `printf '%s\0'`
		for _, v := range vars {
			script += ` "$` + v + `"`
		}
		script += " > " + out + ".env\n"
	}
	if err := os.WriteFile(filepath.Join(dir, name), []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	t.Setenv("PATH", dir+string(os.PathListSeparator)+os.Getenv("PATH"))
	return out
}

func readNUL(t *testing.T, path string) []string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.Split(strings.TrimSuffix(string(b), "\x00"), "\x00")
}

// A title that would break out of an AppleScript string.
const hostile = `Sign-in to Wiki" & (do shell script "touch /tmp/pwned") & "`

// macOS: osascript gets the fixed script and the texts as arguments, never
// inside the script; its failure is ErrUnavailable with osascript's words.
func TestAppleScriptArguments(t *testing.T) {
	out := standIn(t, "osascript")
	n := Notification{Title: hostile, Body: "user: alice\nfrom: Lyon"}
	if _, err := (AppleScript{}).Show(context.Background(), n); err != nil {
		t.Fatal(err)
	}
	if got, want := readNUL(t, out), []string{"-e", displayScript, n.Title, n.Body}; !slices.Equal(got, want) {
		t.Fatalf("osascript %q, want %q", got, want)
	}
	if strings.Contains(displayScript, "Wiki") {
		t.Fatal("the text is inside the script")
	}
	t.Setenv("STANDIN_FAIL", "execution error: Not authorized to send Apple events")
	if _, err := (AppleScript{}).Show(context.Background(), n); !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "Not authorized") {
		t.Fatalf("err = %v, want ErrUnavailable with osascript's message", err)
	}
}

// Windows: PowerShell runs one of two fixed scripts; the texts and the tag
// travel in the environment. Each notification gets its own tag, a
// replacement keeps the one it replaces, and Close removes by tag.
func TestToastArguments(t *testing.T) {
	out := standIn(t, "powershell.exe", "SESAME_TITLE", "SESAME_BODY", "SESAME_TAG")
	var toast Toast
	n := Notification{Title: hostile, Body: "user: alice"}
	check := func(script string, env ...string) {
		t.Helper()
		if got, want := readNUL(t, out), []string{"-NoProfile", "-NonInteractive", "-Command", script}; !slices.Equal(got, want) {
			t.Fatalf("powershell.exe %q, want %q", got, want)
		}
		if got := readNUL(t, out+".env"); !slices.Equal(got, env) {
			t.Fatalf("environment %q, want %q", got, env)
		}
	}
	id, err := toast.Show(context.Background(), n)
	if err != nil {
		t.Fatal(err)
	}
	check(showToast, n.Title, n.Body, "sesame-1")
	second, err := toast.Show(context.Background(), Notification{Title: "t", Body: "b"})
	if err != nil || second == id {
		t.Fatalf("second toast: id %d (first %d), %v", second, id, err)
	}
	check(showToast, "t", "b", "sesame-2")
	if again, err := toast.Show(context.Background(), Notification{Title: "t2", Body: "b2", Replaces: id}); err != nil || again != id {
		t.Fatalf("replacement: id %d, want %d (%v)", again, id, err)
	}
	check(showToast, "t2", "b2", "sesame-1")
	if err := toast.Close(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	check(closeToast, "", "", "sesame-1")
	if strings.Contains(showToast, "Wiki") {
		t.Fatal("the text is inside the script")
	}
	t.Setenv("STANDIN_FAIL", "Cannot find type [Windows.UI.Notifications.ToastNotificationManager]")
	if _, err := toast.Show(context.Background(), n); !errors.Is(err, ErrUnavailable) || !strings.Contains(err.Error(), "Cannot find type") {
		t.Fatalf("err = %v, want ErrUnavailable with PowerShell's message", err)
	}
}
