// Package e2e runs the real sesame binary in tmux against the fake privacyIDEA
// server (a real HTTP server on loopback): pairing from a QR image, the
// devices list, and answering plain and presence challenges with
// 'sesame approve --watch'.
package e2e

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"rsc.io/qr"

	"github.com/sesame-auth/sesame/approve/privacyidea/pitest"
)

var sesameBin string // built in TestMain

func TestMain(m *testing.M) {
	os.Exit(run(m))
}

func run(m *testing.M) int {
	root, err := repoRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	dir, err := os.MkdirTemp("", "sesame-e2e-")
	if err != nil {
		fmt.Fprintln(os.Stderr, "e2e:", err)
		return 1
	}
	defer os.RemoveAll(dir)
	sesameBin = filepath.Join(dir, "sesame")
	cmd := exec.Command("go", "build", "-o", sesameBin, "./cmd/sesame")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "e2e: go build ./cmd/sesame: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

func repoRoot() (string, error) {
	d, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		parent := filepath.Dir(d)
		if parent == d {
			return "", fmt.Errorf("no go.mod above the test directory")
		}
		d = parent
	}
}

// term is one tmux session running a shell.
type term struct {
	t    *testing.T
	name string
}

func newTerm(t *testing.T, env map[string]string) *term {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatal("tmux is not installed")
		}
		t.Skip("tmux is not installed")
	}
	name := fmt.Sprintf("sesame-pi-e2e-%d", time.Now().UnixNano())
	args := []string{"-L", name, "new-session", "-d", "-s", name, "-x", "180", "-y", "50"}
	for k, v := range env {
		args = append(args, "-e", k+"="+v)
	}
	args = append(args, "sh")
	if out, err := exec.Command("tmux", args...).CombinedOutput(); err != nil {
		t.Fatalf("tmux new-session: %v %s", err, out)
	}
	tm := &term{t: t, name: name}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("screen at failure:\n%s", tm.screen())
		}
		exec.Command("tmux", "-L", name, "kill-server").Run()
	})
	return tm
}

func (tm *term) tmux(args ...string) string {
	tm.t.Helper()
	out, err := exec.Command("tmux", append([]string{"-L", tm.name}, args...)...).CombinedOutput()
	if err != nil {
		tm.t.Fatalf("tmux %v: %v %s", args, err, out)
	}
	return string(out)
}

func (tm *term) send(keys ...string) {
	tm.t.Helper()
	tm.tmux(append([]string{"send-keys", "-t", tm.name}, keys...)...)
}

// line types a line and presses Enter.
func (tm *term) line(s string) { tm.t.Helper(); tm.send("-l", s); tm.send("Enter") }

func (tm *term) screen() string {
	out, _ := exec.Command("tmux", "-L", tm.name, "capture-pane", "-p", "-J", "-S", "-200", "-t", tm.name).CombinedOutput()
	return string(out)
}

// waitFor polls the screen until re matches n times, or fails at the deadline.
func (tm *term) waitFor(re string, n int, timeout time.Duration) string {
	tm.t.Helper()
	rx := regexp.MustCompile(re)
	deadline := time.Now().Add(timeout)
	for {
		s := tm.screen()
		if len(rx.FindAllStringIndex(s, -1)) >= n {
			return s
		}
		if time.Now().After(deadline) {
			tm.t.Fatalf("timed out waiting for %q (x%d)", re, n)
		}
		time.Sleep(100 * time.Millisecond) // polling the screen, not synchronising
	}
}

func TestPairAndApproveInTmux(t *testing.T) {
	srv := pitest.New(t, pitest.Config{Label: "alice@realm1", Issuer: "ACME privacyIDEA", Capabilities: true})
	home := t.TempDir()
	qrPNG := filepath.Join(t.TempDir(), "enrol.png")
	code, err := qr.Encode(srv.EnrollURI(), qr.M)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(qrPNG, code.PNG(), 0o600); err != nil {
		t.Fatal(err)
	}
	tm := newTerm(t, map[string]string{
		"SESAME_HOME":       home,
		"SESAME_PASSPHRASE": "correct horse battery staple e2e",
		"NO_COLOR":          "1",
		"PS1":               "$ ",
	})
	bin := sesameBin

	// Pair from the QR image: the RSA-4096 key is made by the binary.
	tm.line(bin + " --store passphrase pair --qr " + qrPNG)
	tm.waitFor(`paired ACME privacyIDEA `+srv.Serial()+` as alice@realm1 with `+regexp.QuoteMeta(srv.URL), 1, 2*time.Minute)
	if ok, _, form := srv.Enrolled(); !ok || form.Get("fbtoken") != "no_firebase_token" {
		t.Fatalf("the server was not enrolled: %v", form)
	}

	// The devices list names the serial and the server.
	tm.line(bin + " devices")
	tm.waitFor(`(?m)^\S+\s+ACME privacyIDEA `+srv.Serial()+`\s+alice@realm1\s+`+regexp.QuoteMeta(srv.URL)+`\s+privacyidea\s+active`, 1, time.Minute)

	// Watch and answer.
	tm.line(bin + " approve --watch")
	tm.waitFor(`waiting for sign-in requests on 1 pairing`, 1, time.Minute)
	if !srv.WaitPolls(1, time.Minute) {
		t.Fatal("the watcher never polled")
	}

	plain := srv.Trigger(pitest.ChallengeOptions{Question: "Log in to VPN?", Title: "ACME"})
	tm.waitFor(`Approve\? y = yes, n = deny, x = this wasn't me:`, 1, time.Minute)
	tm.line("y")
	if o, ok := srv.WaitOutcome(plain, time.Minute); !ok || o.State != "accepted" {
		t.Fatalf("plain challenge: %+v", o)
	}
	tm.waitFor(`Approved: the sign-in goes ahead\.`, 1, time.Minute)

	presence := srv.Trigger(pitest.ChallengeOptions{Presence: []string{"K", "Q", "Z"}, Correct: "Q"})
	tm.waitFor(`Which is on the sign-in screen: K  Q  Z\?`, 1, time.Minute)
	tm.line("Q")
	if o, ok := srv.WaitOutcome(presence, time.Minute); !ok || o.State != "accepted" || o.PresenceAnswer != "Q" {
		t.Fatalf("presence challenge: %+v", o)
	}
	tm.waitFor(`Approved: the sign-in goes ahead\.`, 2, time.Minute)

	notMe := srv.Trigger(pitest.ChallengeOptions{Question: "Log in to mail?"})
	tm.waitFor(`Approve\? y = yes, n = deny, x = this wasn't me:`, 2, time.Minute)
	tm.line("x")
	if o, ok := srv.WaitOutcome(notMe, time.Minute); !ok || o.State != "declined" || o.DeclineReason != "unknown_trigger" {
		t.Fatalf("not-me challenge: %+v", o)
	}

	// A forged challenge never reaches the prompt; a real one after it does.
	srv.Trigger(pitest.ChallengeOptions{BadSignature: true})
	last := srv.Trigger(pitest.ChallengeOptions{})
	tm.waitFor(`Approve\? y = yes, n = deny, x = this wasn't me:`, 3, time.Minute)
	tm.line("n")
	if o, ok := srv.WaitOutcome(last, time.Minute); !ok || o.State != "cancelled" {
		t.Fatalf("cancelled challenge: %+v", o)
	}
	tm.waitFor(`Denied\.`, 1, time.Minute)
	if s := tm.screen(); strings.Count(s, "Are you trying to sign in?") != 4 {
		t.Fatalf("expected exactly 4 prompts (the forged challenge must not be shown), screen:\n%s", s)
	}
	t.Logf("screen:\n%s", tm.screen())
	tm.send("C-c")
	if _, refused := srv.Polls(); len(refused) != 0 {
		t.Fatalf("the server refused polls: %v", refused)
	}
	if s := tm.screen(); bytes.Contains([]byte(s), []byte("BEGIN")) {
		t.Fatal("a key was printed")
	}
}
