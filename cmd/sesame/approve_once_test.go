//go:build !lean

package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/tui/tuitest"
)

// TestApproveOnce drives 'sesame approve [ID]' from stdin against the real
// server: it answers the oldest pending request or the named one and exits,
// 0 when the answer was delivered, 1 otherwise, sending nothing when no
// answer was given.
func TestApproveOnce(t *testing.T) {
	t.Parallel()
	srv := startApprovalServer(t)
	env := srv.env

	_, errOut, code := runBinary(t, env, "", "approve")
	if code != 1 || !strings.Contains(errOut, "no sign-in request is waiting") {
		t.Fatalf("nothing pending: exit %d, %s", code, errOut)
	}
	if _, errOut, code = runBinary(t, env, "", "approve", "--watch", "abc"); code != 2 {
		t.Fatalf("an ID with --watch: exit %d, %s", code, errOut)
	}

	s1 := srv.start(0)
	_, errOut, code = runBinary(t, env, s1.Number+"\n", "approve", "0123456789abcdef")
	if code != 1 || !strings.Contains(errOut, "no sign-in request 0123456789abcdef is pending") {
		t.Fatalf("unknown ID: exit %d, %s", code, errOut)
	}
	// No answer on stdin: nothing is sent and the request stays pending.
	out, errOut, code := runBinary(t, env, "", "approve", s1.ID)
	if code != 1 || !strings.Contains(errOut, "no answer was given") || !strings.Contains(out, "application: Wiki") {
		t.Fatalf("end of input: exit %d\n%s%s", code, out, errOut)
	}
	if n := srv.answersSent(); n != 0 {
		t.Fatalf("%d answers sent without an answer", n)
	}
	// A line that is no answer is asked again; then the number approves.
	out, errOut, code = runBinary(t, env, "maybe\n"+s1.Number+"\n", "approve", s1.ID)
	if code != 0 || !strings.Contains(errOut, "type the digits shown") || !strings.Contains(out, "Approved") {
		t.Fatalf("approve by ID: exit %d\n%s%s", code, out, errOut)
	}
	if o := srv.outcome(s1.ID); o.Status != "approved" {
		t.Fatalf("first sign-in: %+v", o)
	}

	// The oldest pending one, answered with a wrong number: denied, exit 1.
	s2 := srv.start(0)
	wrong := "10"
	if s2.Number == wrong {
		wrong = "11"
	}
	out, _, code = runBinary(t, env, wrong+"\n", "approve")
	if code != 1 || !strings.Contains(out, "did not match") {
		t.Fatalf("wrong number: exit %d\n%s", code, out)
	}
	if o := srv.outcome(s2.ID); o.Status != "denied" || o.Reason != "wrong_number" {
		t.Fatalf("second sign-in: %+v", o)
	}
	if n := srv.answersSent(); n != 2 {
		t.Fatalf("%d answers sent, want 2", n)
	}
}

// TestTerminalNotificationsThroughTmux: inside tmux with allow-passthrough
// on, a new request makes the terminal UI and 'sesame approve --watch' send
// OSC 9 and OSC 777 notify through tmux to the terminal tmux is attached to
// (a second tmux here, whose pane output is recorded), without the number;
// with --no-notify nothing is sent.
func TestTerminalNotificationsThroughTmux(t *testing.T) {
	t.Parallel()
	srv := startApprovalServer(t)
	for _, c := range []struct {
		name, ready, done string
		args              []string
		quiet             bool
	}{
		{"tui", "sign-ins on", "Approved: sign-in to Wiki", nil, false},
		{"approve --watch", ": ok", "Approved", []string{"approve", "--watch"}, false},
		{"approve --watch --no-notify", ": ok", "Approved", []string{"approve", "--watch", "--no-notify"}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			inner := tuitest.Start(t, tuitest.TermOptions{Width: 100, Height: 30, Env: srv.env}, append([]string{srv.bin}, c.args...)...)
			inner.Tmux("set-option", "-g", "allow-passthrough", "on")
			inner.WaitFor(30*time.Second, c.ready)
			outer := tuitest.Start(t, tuitest.TermOptions{Width: 100, Height: 30, Env: []string{"TERM=xterm-256color"}},
				"tmux", "-S", inner.Socket(), "attach")
			outer.WaitFor(30*time.Second, c.ready)
			raw := filepath.Join(t.TempDir(), "outer.raw")
			outer.PipeTo(raw)

			s := srv.start(0)
			inner.WaitFor(15*time.Second, "Are you trying to sign in?")
			want9 := "\x1b]9;Sesame: Sign-in to Wiki?: user: alice\a"
			want777 := "\x1b]777;notify;Sesame: Sign-in to Wiki?;user: alice\a"
			read := func() string { b, _ := os.ReadFile(raw); return string(b) }
			if !c.quiet {
				deadline := time.Now().Add(15 * time.Second)
				for got := read(); !strings.Contains(got, want9) || !strings.Contains(got, want777); got = read() {
					if time.Now().After(deadline) {
						t.Fatalf("the outer terminal did not get OSC 9 and OSC 777 within 15 s; it got %q", got)
					}
					time.Sleep(50 * time.Millisecond) // polling interval
				}
			}
			inner.Type(s.Number)
			inner.Keys("Enter")
			inner.WaitFor(15*time.Second, c.done)
			got := read()
			if strings.Contains(got, "tmux;") {
				t.Errorf("the passthrough wrapper reached the outer terminal: %q", got)
			}
			if c.quiet && (strings.Contains(got, "]9;") || strings.Contains(got, "]777;")) {
				t.Errorf("--no-notify still sent a notification: %q", got)
			}
		})
	}
}
