//go:build !lean

package main

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/tui/tuitest"
)

// TestApprovalsInTUI runs the real server and the built sesame's terminal
// UI in tmux: a sign-in started through the API opens the prompt over the
// code list, the right number approves it at the server, and the history
// lists it. (Wrong numbers, "it wasn't me" and expiry are teatest flows in
// tui/approvals_test.go, and server tests.)
func TestApprovalsInTUI(t *testing.T) {
	t.Parallel()
	srv := startApprovalServer(t)
	tm := tuitest.Start(t, tuitest.TermOptions{Width: 100, Height: 30, Env: srv.env}, srv.bin)
	tm.WaitFor(30*time.Second, "sign-ins on")

	// 1. The right number approves.
	s1 := srv.start(0)
	screen := tm.WaitFor(15*time.Second, "Are you trying to sign in?")
	for _, want := range []string{"Wiki", "alice", "192.0.2.7", "Lyon, FR", "Firefox on Linux"} {
		if !strings.Contains(screen, want) {
			t.Fatalf("the prompt lacks %q:\n%s", want, screen)
		}
	}
	// The number to match is on the sign-in screen only, never sent to the device.
	shown := regexp.MustCompile(`\b` + s1.Number + `\b`)
	for _, line := range strings.Split(screen, "\n") {
		if shown.MatchString(line) && !strings.Contains(line, "Expires in") {
			t.Fatalf("the prompt shows the number %s:\n%s", s1.Number, screen)
		}
	}
	tm.Type(s1.Number)
	tm.Keys("Enter")
	tm.WaitFor(15*time.Second, "Approved: sign-in to Wiki")
	if o := srv.outcome(s1.ID); o.Status != "approved" {
		t.Fatalf("right number: %+v", o)
	}

	// 2. "No, it wasn't me" blocks at the server; said by mistake, it is
	// cleared from the pairings screen after a confirmation.
	s2 := srv.start(0)
	tm.WaitFor(15*time.Second, "Are you trying to sign in?")
	tm.Keys("Escape")
	tm.WaitFor(15*time.Second, "Was this you?")
	tm.Keys("Right")
	tm.WaitFor(15*time.Second, "[ No, it wasn't me ]")
	tm.Keys("Enter")
	tm.WaitFor(15*time.Second, "Reported as not you: sign-in to Wiki")
	if o := srv.outcome(s2.ID); o.Status != "not_me" {
		t.Fatalf("not me: %+v", o)
	}
	if st := srv.rp("POST", "/v1/rp/signins", map[string]any{"user": "alice"}, nil); st != http.StatusForbidden {
		t.Fatalf("sign-in while blocked: %d", st)
	}
	tm.Keys("P")
	tm.WaitFor(15*time.Second, "Sign-in pairings")
	tm.Keys("u")
	tm.WaitFor(15*time.Second, "through again?")
	tm.Keys("y")
	tm.WaitFor(15*time.Second, "Unblocked: sign-in requests for alice")
	tm.Keys("Escape")
	tm.WaitGone(15*time.Second, "Sign-in pairings")

	// A sign-in goes through again, and is answered: left open, its
	// prompt would pop up over whatever screen the next keys are for.
	var s3 signInStarted
	if st := srv.rp("POST", "/v1/rp/signins", map[string]any{"user": "alice", "application": "Wiki"}, &s3); st != http.StatusCreated {
		t.Fatalf("sign-in after the unblock: %d", st)
	}
	tm.WaitFor(15*time.Second, "Are you trying to sign in?")
	tm.Type(s3.Number)
	tm.Keys("Enter")
	tm.WaitFor(15*time.Second, "Approved: sign-in to Wiki")
	if o := srv.outcome(s3.ID); o.Status != "approved" {
		t.Fatalf("sign-in after the unblock: %+v", o)
	}

	// The history view lists the decisions.
	tm.Keys("H")
	tm.WaitFor(15*time.Second, "Sign-in history")
	tm.Keys("Escape")
	tm.WaitGone(15*time.Second, "Sign-in history")
	tm.Keys("q")
	tm.WaitExit(10 * time.Second)
}
