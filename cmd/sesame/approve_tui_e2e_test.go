package main

import (
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/tui/tuitest"
)

// TestApprovalsInTUI runs the real server and the built sesame's terminal
// UI in tmux: a sign-in started through the API opens the prompt over the
// code list; the right number approves it, a wrong number denies it, "it
// wasn't me" reports it, and an unanswered request closes when it expires.
func TestApprovalsInTUI(t *testing.T) {
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
	tm.WaitFor(15*time.Second, "approved: sign-in to Wiki")
	if o := srv.outcome(s1.ID); o.Status != "approved" {
		t.Fatalf("right number: %+v", o)
	}

	// 2. A wrong number denies, with no second try.
	s2 := srv.start(0)
	tm.WaitFor(15*time.Second, "Are you trying to sign in?")
	wrong := "10"
	if s2.Number == wrong {
		wrong = "11"
	}
	tm.Type(wrong)
	tm.Keys("Enter")
	tm.WaitFor(15*time.Second, "did not match")
	if o := srv.outcome(s2.ID); o.Status != "denied" || o.Reason != "wrong_number" {
		t.Fatalf("wrong number: %+v", o)
	}

	// 3. Deny, then "No, it wasn't me" (the default answer to "Was this you?").
	s3 := srv.start(0)
	tm.WaitFor(15*time.Second, "Are you trying to sign in?")
	tm.Keys("Escape")
	tm.WaitFor(15*time.Second, "Was this you?")
	tm.Keys("Enter")
	tm.WaitFor(15*time.Second, "not_me: sign-in to Wiki")
	if o := srv.outcome(s3.ID); o.Status != "not_me" {
		t.Fatalf("not me: %+v", o)
	}
	if code := srv.rp("POST", "/v1/rp/users/alice/unblock", nil, nil); code/100 != 2 {
		t.Fatalf("unblock through the API: HTTP %d", code)
	}

	// 4. An unanswered request closes when it expires, and nothing is sent.
	sent := srv.answersSent()
	s4 := srv.start(10) // the shortest lifetime the server allows
	tm.WaitFor(15*time.Second, "Are you trying to sign in?")
	tm.WaitFor(30*time.Second, "expired")
	if o := srv.outcome(s4.ID); o.Status != "expired" {
		t.Fatalf("expiry: %+v", o)
	}
	if n := srv.answersSent(); n != sent {
		t.Fatalf("%d answers were sent for an unanswered request", n-sent)
	}

	// The history view lists the decisions.
	tm.Keys("H")
	tm.WaitFor(15*time.Second, "Sign-in history")
	tm.Keys("Escape")
	tm.WaitGone(15*time.Second, "Sign-in history")
	tm.Keys("q")
	tm.WaitExit(10 * time.Second)
}
