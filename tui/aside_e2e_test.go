package tui

import (
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/tui/tuitest"
)

// TestE2EScanTerminalScreen: a full-screen xterm under Xvfb shows a QR code
// printed by qrencode, then runs the built sesame over it. "a" then "s":
// the first capture shows only Sesame, so it steps aside (off the
// alternate screen), captures the terminal's own screen once xterm has
// answered, adds the account and comes back; its code is oathtool's.
func TestE2EScanTerminalScreen(t *testing.T) {
	t.Parallel()
	bin := tuitest.Sesame(t)
	xterm := tuitest.Need(t, "xterm")
	tuitest.Need(t, "qrencode")
	tuitest.Need(t, "oathtool")
	display := tuitest.XvfbScreen(t, "1024x768x24")
	env := append(e2eVault(t, ghURI), "DISPLAY="+display)
	uri := "otpauth://totp/TermBank:ann?secret=" + rfcSecret + "&issuer=TermBank"

	// 200×80 cells of xterm's 6×13 font are larger than the screen: it
	// covers it all. -lf logs everything the terminal is sent.
	log := filepath.Join(t.TempDir(), "xterm.log")
	cmd := exec.Command(xterm, "-geometry", "200x80+0+0", "-l", "-lf", log,
		"-e", "sh", "-c", `qrencode -t ansiutf8 "$1" && exec "$2"`, "sh", uri, bin)
	cmd.Env = tuitest.Environ(env...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var waitErr error
	exited := make(chan struct{})
	go func() { waitErr = cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})

	waitInOutput(t, log, "1 account")
	tuitest.XType(t, display, "a")
	waitInOutput(t, log, "Scan the screen")
	before := oathtool(t)
	tuitest.XType(t, display, "s")
	waitInOutput(t, log, "added TermBank (ann)")
	code := exec.Command(bin, "code", "TermBank")
	code.Env = tuitest.Environ(env...)
	out, err := code.Output()
	if err != nil {
		t.Fatalf("sesame code TermBank: %v", err)
	}
	got := strings.TrimSpace(string(out))
	if after := oathtool(t); got != before && got != after {
		t.Errorf("sesame code TermBank = %s, oathtool said %s then %s", got, before, after)
	}

	tuitest.XType(t, display, "q")
	select {
	case <-exited:
		if waitErr != nil {
			t.Errorf("xterm with sesame: %v", waitErr)
		}
	case <-time.After(exitWait):
		t.Fatalf("sesame did not quit within %v of q", exitWait)
	}
}

func oathtool(t *testing.T) string {
	t.Helper()
	out, err := exec.Command("oathtool", "--totp", "-b", rfcSecret).Output()
	if err != nil {
		t.Fatalf("oathtool: %v", err)
	}
	return strings.TrimSpace(string(out))
}
