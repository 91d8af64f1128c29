package tui

import (
	"bytes"
	"crypto/sha1"
	"crypto/sha256"
	"encoding/base64"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"github.com/sesame-auth/sesame/tui/tuitest"
	"github.com/sesame-auth/sesame/vault"
	"github.com/sesame-auth/sesame/vault/vaulttest"
)

// The end-to-end tests run the real sesame binary in a real terminal (tmux),
// drive it with send-keys and read it with capture-pane. They check the codes
// against the independent TOTP implementation in helpers_test.go.

// How long the terminal may take to show what a step waits for, and to end
// after q.
const (
	screenWait = 20 * time.Second
	exitWait   = 10 * time.Second
)

func TestMain(m *testing.M) { tuitest.Main(m) }

// e2eVault makes a passphrase vault holding the accounts of uris, in
// process at a cheap scrypt cost (the binary opens it at the cost written in
// its file), and returns the environment that opens it.
func e2eVault(t *testing.T, uris ...string) []string {
	t.Helper()
	home := t.TempDir()
	var accts []vault.Account
	for _, u := range uris {
		a, err := vault.ParseURI(u)
		if err != nil {
			t.Fatal(err)
		}
		accts = append(accts, a)
	}
	vaulttest.NewPassphraseIn(t, home, "e2e test passphrase", accts...)
	return []string{
		"SESAME_HOME=" + home,
		"SESAME_PASSPHRASE=e2e test passphrase",
		"TERM=xterm-256color",
		"NO_COLOR=",
		"HOME=" + t.TempDir(),
	}
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

// copyCode presses enter on the first row, which must be GitHub's, waits
// for the toast in the pane's output raw, and returns the codes the copy may
// rightly have taken: the current one, or the next one when the toast says
// so (Sesame copies the next code in a period's last seconds), for any
// moment from a late tick before the key to the toast. The real clock runs on
// meanwhile, so this is one code, or two across a period boundary.
func copyCode(t *testing.T, tm *tuitest.Term, raw, where string) []string {
	t.Helper()
	// The screen's clock is that of its last tick: a second old, or more
	// on a machine so busy that the tick was late.
	before := time.Now().Add(-5 * time.Second)
	tm.Keys("Enter")
	toast := waitInOutputMatch(t, raw, `copied (the NEXT )?GitHub code to `+regexp.QuoteMeta(where))
	after := time.Now()
	next := uint64(0)
	if strings.Contains(toast, "NEXT") {
		next = 1
	}
	var codes []string
	for c := before.Unix() / 30; c <= after.Unix()/30; c++ {
		codes = append(codes, hotpCode(mustSecret(helloSecret), uint64(c)+next, 6, sha1.New))
	}
	return codes
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
	t.Parallel()
	bin := tuitest.Sesame(t)
	tuitest.Need(t, "xclip")
	display := tuitest.Xvfb(t)
	env := append(e2eVault(t, ghURI, awsURI), "DISPLAY="+display)
	tm := tuitest.Start(t, tuitest.TermOptions{Width: 100, Height: 30, Env: env}, bin)

	before := time.Now()
	screen := tm.WaitFor(screenWait, "GitHub", "AWS", "passphrase vault", "2 accounts")
	after := time.Now()
	gh := codeOnScreen(t, screen, "GitHub")
	if ok := acceptable(mustSecret(helloSecret), 6, "SHA1", before, after); !contains(ok[:len(ok)-1], gh) {
		t.Errorf("GitHub shows %s, the independent TOTP says one of %v", gh, ok)
	}
	aws := codeOnScreen(t, screen, "AWS")
	if ok := acceptable(mustSecret(rfcSecret), 8, "SHA256", before, after); !contains(ok[:len(ok)-1], aws) {
		t.Errorf("AWS shows %s, the independent TOTP says one of %v", aws, ok)
	}

	// Copy: xclip in the virtual X server holds the code. (Filtering,
	// adding and changes from other processes are teatest flows.)
	raw := filepath.Join(t.TempDir(), "pane.raw")
	tm.PipeTo(raw)
	want := copyCode(t, tm, raw, "xclip") // the toast is brief: read it from the output
	var clip string
	deadline := time.Now().Add(10 * time.Second)
	for {
		out, _ := exec.Command("xclip", "-display", display, "-selection", "clipboard", "-out").Output()
		if clip = string(out); clip != "" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("xclip holds nothing 10 s after the copy")
		}
		time.Sleep(50 * time.Millisecond) // polling xclip, not synchronising
	}
	if !contains(want, clip) {
		t.Errorf("xclip holds %q, want one of %v", clip, want)
	}

	// Scan the screen: a real window shows a QR code made by qrencode;
	// "a" then "s" adds its account, and its code is the right one.
	scanURI := "otpauth://totp/ScanBank:scan?secret=" + rfcSecret + "&issuer=ScanBank"
	tuitest.ShowImage(t, display, tuitest.QRPNG(t, scanURI, 4), 200, 100, scanURI)
	tm.Keys("a")
	tm.WaitFor(screenWait, "s  Scan the screen")
	tm.Keys("s")
	waitInOutput(t, raw, "added ScanBank (scan)")
	before = time.Now()
	screen = tm.WaitFor(screenWait, "ScanBank", "3 accounts")
	after = time.Now()
	if ok, got := acceptable(mustSecret(rfcSecret), 6, "SHA1", before, after), codeOnScreen(t, screen, "ScanBank"); !contains(ok, got) {
		t.Errorf("ScanBank shows %s, the independent TOTP says one of %v", got, ok)
	}

	tm.Keys("q")
	tm.WaitExit(exitWait)
}

// Over SSH, outside tmux, the code goes out as an OSC 52 sequence on the terminal.
func TestE2EOSC52OverSSH(t *testing.T) {
	t.Parallel()
	bin := tuitest.Sesame(t)
	env := append(e2eVault(t, ghURI), "SSH_TTY=/dev/pts/99", "SSH_CONNECTION=192.0.2.1 50000 192.0.2.2 22")
	// The test's terminal is tmux: hide it, as if Sesame ran in a plain terminal.
	tm := tuitest.Start(t, tuitest.TermOptions{Width: 100, Height: 30, Env: env}, "env", "-u", "TMUX", bin)
	tm.WaitFor(screenWait, "GitHub", "1 account")

	raw := filepath.Join(t.TempDir(), "pane.raw")
	tm.PipeTo(raw)
	// The toast lives a few seconds: look for it in everything the program
	// wrote, not only on the screen of the moment.
	want := copyCode(t, tm, raw, "terminal (OSC 52)")
	got, _ := os.ReadFile(raw)
	m := regexp.MustCompile(`\x1b\]52;c;([A-Za-z0-9+/=]+)\x07`).FindSubmatch(got)
	if m == nil {
		t.Fatalf("no OSC 52 sequence before the toast in the pane's output (%d bytes); the terminal shows:\n%s", len(got), tm.Screen())
	}
	code, err := base64.StdEncoding.DecodeString(string(m[1]))
	if err != nil || !contains(want, string(code)) {
		t.Fatalf("OSC 52 carries %q (%v), want one of %v", code, err, want)
	}
	if bytes.Contains(got, []byte("\x1bPtmux;")) {
		t.Errorf("a tmux passthrough sequence outside tmux")
	}
	tm.Keys("q")
	tm.WaitExit(exitWait)
}

// Inside tmux with its stock options (set-clipboard external,
// allow-passthrough off) a program's own OSC 52 never leaves tmux: Sesame
// asks tmux to copy (load-buffer -w), and tmux passes the code on to the
// terminal it is attached to. The outer terminal here is a second tmux,
// whose paste buffer shows what reached it.
func TestE2ECopyInTmux(t *testing.T) {
	t.Parallel()
	bin := tuitest.Sesame(t)
	env := append(e2eVault(t, ghURI), "SSH_TTY=/dev/pts/99", "SSH_CONNECTION=192.0.2.1 50000 192.0.2.2 22")
	inner := tuitest.Start(t, tuitest.TermOptions{Width: 90, Height: 28, Env: env}, bin)
	inner.WaitFor(screenWait, "GitHub", "1 account")
	if got := strings.TrimSpace(inner.Tmux("show-options", "-gv", "set-clipboard")); got != "external" {
		t.Fatalf("the inner tmux's set-clipboard is %q, want the stock external", got)
	}
	// The outer terminal: a tmux client attached to the inner server, in a
	// terminal that accepts OSC 52 into its own buffer.
	outer := tuitest.Start(t, tuitest.TermOptions{Width: 100, Height: 30, Env: []string{"TERM=xterm-256color"}},
		"tmux", "-S", inner.Socket(), "attach")
	outer.Tmux("set-option", "-g", "set-clipboard", "on")
	outer.WaitFor(screenWait, "GitHub", "1 account")

	raw := filepath.Join(t.TempDir(), "pane.raw")
	inner.PipeTo(raw)
	want := copyCode(t, inner, raw, "terminal clipboard via tmux")
	if got := inner.Tmux("show-buffer"); !contains(want, got) {
		t.Errorf("the inner tmux's buffer holds %q, want one of %v", got, want)
	}
	var got string
	deadline := time.Now().Add(10 * time.Second)
	for {
		if out, err := exec.Command("tmux", "-S", outer.Socket(), "show-buffer").Output(); err == nil {
			got = string(out)
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the outer terminal's clipboard is still empty 10 s after the copy")
		}
		time.Sleep(50 * time.Millisecond) // polling tmux, not synchronising
	}
	if !contains(want, got) {
		t.Errorf("the outer terminal's clipboard holds %q, want one of %v", got, want)
	}
	inner.Keys("q")
	inner.WaitExit(exitWait)
}

// waitInOutput polls a pane's piped output until its text (escape
// sequences removed) contains want.
func waitInOutput(t *testing.T, raw, want string) {
	t.Helper()
	waitInOutputMatch(t, raw, regexp.QuoteMeta(want))
}

// waitInOutputMatch polls a pane's piped output until its text (escape
// sequences removed) matches the regular expression pattern, and returns
// the first match.
func waitInOutputMatch(t *testing.T, raw, pattern string) string {
	t.Helper()
	re := regexp.MustCompile(pattern)
	deadline := time.Now().Add(screenWait)
	for {
		b, _ := os.ReadFile(raw)
		text := ansi.Strip(string(b))
		if m := re.FindString(text); m != "" {
			return m
		}
		if time.Now().After(deadline) {
			t.Fatalf("the program never wrote /%s/; its output:\n%s", pattern, text)
		}
		time.Sleep(50 * time.Millisecond) // polling the file, not synchronising
	}
}
