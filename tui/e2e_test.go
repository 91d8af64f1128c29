package tui

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/tui/internal/testenv"
)

// The end-to-end tests run the real sesame binary in a real terminal (tmux),
// drive it with send-keys and read it with capture-pane. They check the codes
// against the independent TOTP implementation in helpers_test.go.

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// sesameBinary builds ./cmd/sesame once per test run.
func sesameBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		root, err := filepath.Abs("..")
		if err != nil {
			buildErr = err
			return
		}
		dir, err := os.MkdirTemp("", "sesame-e2e-bin")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "sesame")
		cmd := exec.Command("go", "build", "-o", binPath, "./cmd/sesame")
		cmd.Dir = root
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build ./cmd/sesame: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// term is one tmux server with one window running a command.
type term struct {
	t      *testing.T
	socket string
}

func newTerm(t *testing.T, w, h int, env map[string]string, argv ...string) *term {
	t.Helper()
	testenv.Need(t, "tmux")
	tm := &term{t: t, socket: fmt.Sprintf("sesame-e2e-%d-%d", os.Getpid(), time.Now().UnixNano())}
	args := []string{"-L", tm.socket, "-f", "/dev/null", "new-session", "-d", "-s", "e2e",
		"-x", fmt.Sprint(w), "-y", fmt.Sprint(h)}
	for k, v := range env {
		args = append(args, "-e", k+"="+v)
	}
	args = append(args, strings.Join(quoteAll(argv), " "))
	cmd := exec.Command("tmux", args...)
	cmd.Env = cleanEnv()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("tmux new-session: %v\n%s", err, out)
	}
	t.Cleanup(func() { exec.Command("tmux", "-L", tm.socket, "kill-server").Run() })
	return tm
}

// cleanEnv is the test's environment without anything that would change
// how the clipboard is detected or where the vault is.
func cleanEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch k {
		case "DISPLAY", "WAYLAND_DISPLAY", "SSH_TTY", "SSH_CONNECTION", "SSH_CLIENT", "TMUX", "STY", "SESAME_HOME", "SESAME_PASSPHRASE":
			continue
		}
		out = append(out, kv)
	}
	return out
}

func quoteAll(argv []string) []string {
	q := make([]string, len(argv))
	for i, a := range argv {
		q[i] = "'" + strings.ReplaceAll(a, "'", `'\''`) + "'"
	}
	return q
}

func (tm *term) tmux(args ...string) string {
	tm.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-L", tm.socket}, args...)...).CombinedOutput()
	if err != nil {
		tm.t.Fatalf("tmux %v: %v\n%s", args, err, out)
	}
	return string(out)
}

func (tm *term) keys(keys ...string) { tm.tmux(append([]string{"send-keys", "-t", "e2e"}, keys...)...) }

// literal types text as keystrokes.
func (tm *term) literal(text string) { tm.tmux("send-keys", "-t", "e2e", "-l", text) }

func (tm *term) capture() string { return tm.tmux("capture-pane", "-p", "-t", "e2e") }

// waitFor polls the pane until it shows every string.
func (tm *term) waitFor(want ...string) string {
	tm.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	var screen string
	for time.Now().Before(deadline) {
		screen = tm.capture()
		ok := true
		for _, w := range want {
			ok = ok && strings.Contains(screen, w)
		}
		if ok {
			return screen
		}
		time.Sleep(50 * time.Millisecond) // polling interval
	}
	tm.t.Fatalf("the terminal never showed %q; it shows:\n%s", want, screen)
	return ""
}

// waitExit waits for the program (and so the tmux session) to end.
func (tm *term) waitExit() {
	tm.t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if exec.Command("tmux", "-L", tm.socket, "has-session", "-t", "e2e").Run() != nil {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	tm.t.Fatalf("sesame did not exit; the terminal shows:\n%s", tm.capture())
}

// e2eVault makes a passphrase vault with the CLI and returns the
// environment that opens it.
func e2eVault(t *testing.T, bin string, uris ...string) map[string]string {
	t.Helper()
	env := map[string]string{
		"SESAME_HOME":       t.TempDir(),
		"SESAME_PASSPHRASE": "e2e test passphrase",
		"TERM":              "xterm-256color",
		"NO_COLOR":          "",
		"HOME":              t.TempDir(),
	}
	for _, u := range uris {
		cliRun(t, bin, env, "add", "--store", "passphrase", u)
	}
	return env
}

func cliRun(t *testing.T, bin string, env map[string]string, args ...string) string {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = cleanEnv()
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("sesame %v: %v\n%s", args, err, out)
	}
	return string(out)
}

var (
	ghURI  = "otpauth://totp/GitHub:alice@example.com?secret=" + helloSecret + "&issuer=GitHub"
	awsURI = "otpauth://totp/AWS:root?secret=" + rfcSecret + "&digits=8&algorithm=SHA256&issuer=AWS"
)

// codeOnScreen finds the code shown on the row of issuer.
func codeOnScreen(t *testing.T, screen, issuer string) string {
	t.Helper()
	re := regexp.MustCompile(regexp.QuoteMeta(issuer) + `\s.*?\s(\d{3,4} \d{3,4})\b`)
	m := re.FindStringSubmatch(screen)
	if m == nil {
		t.Fatalf("no code on the %s row:\n%s", issuer, screen)
	}
	return strings.ReplaceAll(m[1], " ", "")
}

// acceptable are the codes valid around a capture: the one for the time just
// before, during or just after it.
func acceptable(secret []byte, digits int, alg string, before, after time.Time) []string {
	h := sha1.New
	if alg == "SHA256" {
		h = sha256.New
	}
	var out []string
	for c := before.Unix() / 30; c <= after.Unix()/30+1; c++ {
		out = append(out, hotpCode(secret, uint64(c), digits, h))
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestE2EInTmux(t *testing.T) {
	bin := sesameBinary(t)
	testenv.Need(t, "xclip")
	display := testenv.Xvfb(t)
	env := e2eVault(t, bin, ghURI, awsURI)
	env["DISPLAY"] = display
	tm := newTerm(t, 100, 30, env, bin)

	before := time.Now()
	screen := tm.waitFor("GitHub", "AWS", "passphrase vault", "2 accounts")
	after := time.Now()
	gh := codeOnScreen(t, screen, "GitHub")
	if ok := acceptable(mustSecret(helloSecret), 6, "SHA1", before, after); !contains(ok[:len(ok)-1], gh) {
		t.Errorf("GitHub shows %s, the independent TOTP says one of %v", gh, ok)
	}
	aws := codeOnScreen(t, screen, "AWS")
	if ok := acceptable(mustSecret(rfcSecret), 8, "SHA256", before, after); !contains(ok[:len(ok)-1], aws) {
		t.Errorf("AWS shows %s, the independent TOTP says one of %v", aws, ok)
	}

	// Filter.
	tm.keys("/")
	tm.literal("aws")
	screen = tm.waitFor("/ aws")
	if strings.Contains(screen, "GitHub") {
		t.Errorf("the filter still shows GitHub:\n%s", screen)
	}
	tm.keys("Escape")
	tm.waitFor("GitHub", "AWS")
	tm.keys("g") // the filter kept AWS selected; go back to the top

	// Copy: xclip in the virtual X server holds the code.
	before = time.Now()
	tm.keys("Enter")
	tm.waitFor("copied GitHub code to xclip")
	after = time.Now()
	var clip string
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		out, _ := exec.Command("xclip", "-display", display, "-selection", "clipboard", "-out").Output()
		if clip = string(out); clip != "" {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if ok := acceptable(mustSecret(helloSecret), 6, "SHA1", before, after); !contains(ok, clip) {
		t.Errorf("xclip holds %q, want one of %v", clip, ok)
	}

	// Add via URI in the add screen.
	tm.keys("a")
	tm.waitFor("Paste an otpauth:// link")
	tm.keys("l")
	tm.literal("otpauth://totp/Example:demo@example.com?secret=MFRGGZDFMZTWQ2LK&issuer=Example")
	tm.waitFor("Example (demo@example.com) · TOTP")
	tm.keys("Enter")
	tm.waitFor("added Example", "3 accounts")

	// A change from another process shows up while the UI is open.
	cliRun(t, bin, env, "add", "otpauth://totp/Outside:cli?secret=KRSXG5CTMVRXEZLU&issuer=Outside")
	tm.waitFor("Outside", "4 accounts")
	if list := cliRun(t, bin, env, "list"); !strings.Contains(list, "Example") {
		t.Errorf("sesame list does not show the account added in the UI:\n%s", list)
	}

	tm.keys("q")
	tm.waitExit()
}

// Over SSH the code goes out as an OSC 52 sequence on the terminal.
func TestE2EOSC52OverSSH(t *testing.T) {
	bin := sesameBinary(t)
	env := e2eVault(t, bin, ghURI)
	env["SSH_TTY"] = "/dev/pts/99"
	env["SSH_CONNECTION"] = "192.0.2.1 50000 192.0.2.2 22"
	tm := newTerm(t, 100, 30, env, bin)
	tm.waitFor("GitHub", "1 account")

	raw := filepath.Join(t.TempDir(), "pane.raw")
	tm.tmux("pipe-pane", "-o", "-t", "e2e", "cat >> "+raw)
	before := time.Now()
	tm.keys("Enter")
	var got []byte
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		got, _ = os.ReadFile(raw)
		if bytes.Contains(got, []byte("\x1b]52;c;")) {
			break
		}
		time.Sleep(50 * time.Millisecond) // polling interval
	}
	after := time.Now()
	m := regexp.MustCompile(`\x1b\]52;c;([A-Za-z0-9+/=]+)\x07`).FindSubmatch(got)
	if m == nil {
		t.Fatalf("no OSC 52 sequence in the pane's output (%d bytes); the terminal shows:\n%s", len(got), tm.capture())
	}
	if screen := tm.capture(); !strings.Contains(screen, "copied GitHub code to terminal (OSC 52 via tmux)") {
		t.Logf("the copy toast is not (or no longer) on screen:\n%s", screen)
	}
	ok := acceptable(mustSecret(helloSecret), 6, "SHA1", before, after)
	code, err := base64.StdEncoding.DecodeString(string(m[1]))
	if err != nil || !contains(ok, string(code)) {
		t.Fatalf("OSC 52 carries %q (%v), want one of %v", code, err, ok)
	}
	// Inside tmux the sequence is also wrapped for passthrough.
	if !bytes.Contains(got, []byte("\x1bPtmux;\x1b\x1b]52;c;"+string(m[1]))) {
		t.Errorf("no tmux passthrough copy of the sequence")
	}
	tm.keys("q")
	tm.waitExit()
}
