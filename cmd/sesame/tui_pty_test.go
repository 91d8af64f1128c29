//go:build unix && !lean

package main

import (
	"bytes"
	"encoding/base32"
	"errors"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/creack/pty"

	"github.com/sesame-auth/sesame/tui/tuitest"
)

// Terminals that never answer a query (script, expect, Emacs shell buffers,
// serial consoles) must not make Sesame wait or print the query. These
// tests run the built binary in a pseudo-terminal nobody answers.

// ptyDeadline is when a command that should finish at once is declared hung:
// far above a normal run, far below the seconds a terminal query waits.
const ptyDeadline = 3 * time.Second

// silentPTY is the built binary running in a pseudo-terminal whose other end
// reads everything and answers nothing.
type silentPTY struct {
	t    *testing.T
	cmd  *exec.Cmd
	tty  *os.File
	mu   sync.Mutex
	out  bytes.Buffer
	read chan struct{} // closed when the terminal has no more output
	done chan error    // the program's exit
}

func startSilentPTY(t *testing.T, env []string, args ...string) *silentPTY {
	t.Helper()
	cmd := exec.Command(tuitest.Sesame(t), args...)
	// A TERM that v1 of Bubble Tea queried, and no CI: nothing here may
	// rely on the environment to skip a query.
	cmd.Env = tuitest.Environ(append([]string{"TERM=xterm-256color", "CI=", "COLORFGBG=", "NO_COLOR="}, env...)...)
	tty, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 24, Cols: 80})
	if err != nil {
		t.Fatalf("start sesame in a pty: %v", err)
	}
	p := &silentPTY{t: t, cmd: cmd, tty: tty, read: make(chan struct{}), done: make(chan error, 1)}
	go func() {
		defer close(p.read)
		buf := make([]byte, 4096)
		for {
			n, err := tty.Read(buf)
			p.mu.Lock()
			p.out.Write(buf[:n])
			p.mu.Unlock()
			if err != nil { // EIO once the program has exited
				return
			}
		}
	}()
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		tty.Close()
	})
	return p
}

func (p *silentPTY) output() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.out.String()
}

// wait waits for the program to exit and its output to drain; the test
// fails if that takes longer than within.
func (p *silentPTY) wait(within time.Duration) (string, error) {
	p.t.Helper()
	deadline := time.After(within)
	var err error
	select {
	case err = <-p.done:
	case <-deadline:
		p.t.Fatalf("sesame %s did not finish within %v in a terminal that does not answer; it wrote %q",
			strings.Join(p.cmd.Args[1:], " "), within, p.output())
	}
	select {
	case <-p.read:
	case <-deadline:
		p.t.Fatalf("the terminal output did not end within %v; it holds %q", within, p.output())
	}
	return p.output(), err
}

// waitFor waits until the output, escape sequences removed, contains text;
// the test fails at the deadline.
func (p *silentPTY) waitFor(within time.Duration, text string) {
	p.t.Helper()
	deadline := time.Now().Add(within)
	for !strings.Contains(stripEscapes(p.output()), text) {
		if time.Now().After(deadline) {
			p.t.Fatalf("the terminal did not show %q within %v; it holds %q", text, within, p.output())
		}
		select {
		case <-p.read:
			p.t.Fatalf("sesame ended before showing %q; it wrote %q", text, p.output())
		case <-time.After(20 * time.Millisecond): // polling the output, not synchronising
		}
	}
}

// stripEscapes removes CSI, OSC and other escape sequences.
func stripEscapes(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != 0x1b {
			b.WriteByte(s[i])
			continue
		}
		i++
		if i >= len(s) {
			break
		}
		switch s[i] {
		case '[': // CSI: parameters, then a final byte in @..~
			for i++; i < len(s) && (s[i] < 0x40 || s[i] > 0x7e); i++ {
			}
		case ']', 'P', '_': // OSC, DCS, APC: up to BEL or ST
			for i++; i < len(s) && s[i] != 0x07 && !(s[i] == 0x1b && i+1 < len(s) && s[i+1] == '\\'); i++ {
			}
			if i < len(s) && s[i] == 0x1b {
				i++
			}
		}
	}
	return b.String()
}

// ptyVault runs the test in a real Secret Service and makes a keyring vault
// holding one account there; false means the outer run, which is done.
func ptyVault(t *testing.T) (env []string, secret []byte, inside bool) {
	t.Helper()
	if !inSecretService(t) {
		return nil, nil, false
	}
	secret = []byte("pty-test-secret-0123456789")
	env = []string{"SESAME_HOME=" + t.TempDir(), "SESAME_PASSPHRASE="}
	cmd := exec.Command(tuitest.Sesame(t), "add", "otpauth://totp/PtyBank:pty-user?secret="+base32.StdEncoding.EncodeToString(secret))
	cmd.Env = tuitest.Environ(env...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("sesame add: %v\n%s", err, out)
	}
	return env, secret, true
}

// TestCommandsInSilentTerminal: 'sesame --version' and 'sesame code NAME'
// print what they print through a pipe, at once, and no escape sequence.
func TestCommandsInSilentTerminal(t *testing.T) {
	t.Parallel()
	env, secret, inside := ptyVault(t)
	if !inside {
		return
	}

	out, err := startSilentPTY(t, env, "--version").wait(ptyDeadline)
	if err != nil || !strings.HasPrefix(out, "sesame ") || strings.Count(out, "\n") != 1 || strings.ContainsRune(out, 0x1b) {
		t.Fatalf("--version in a pty: %v, %q", err, out)
	}

	before := time.Now()
	out, err = startSilentPTY(t, env, "code", "ptybank").wait(ptyDeadline)
	after := time.Now()
	if err != nil {
		t.Fatalf("code in a pty: %v, %q", err, out)
	}
	got := strings.TrimSuffix(out, "\r\n")
	if got != totp(secret, "SHA1", 6, 30, before) && got != totp(secret, "SHA1", 6, 30, after) {
		t.Fatalf("code in a pty printed %q, want the code and a newline only", out)
	}
}

// TestTUIInSilentTerminal: the terminal UI draws its first frame and the
// codes without an answer to its background-colour question, and quits on q.
func TestTUIInSilentTerminal(t *testing.T) {
	t.Parallel()
	env, _, inside := ptyVault(t)
	if !inside {
		return
	}
	p := startSilentPTY(t, env)
	p.waitFor(ptyDeadline, "Sesame")     // the first frame: the title bar
	p.waitFor(10*time.Second, "PtyBank") // the codes, after a keyring call over D-Bus
	if _, err := p.tty.Write([]byte("q")); err != nil {
		t.Fatal(err)
	}
	if _, err := p.wait(10 * time.Second); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) || ee.Sys().(syscall.WaitStatus).Signaled() {
			t.Fatalf("the UI did not quit cleanly on q: %v", err)
		}
		t.Fatalf("the UI exited with %v after q", err)
	}
}
