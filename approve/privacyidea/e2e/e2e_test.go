// Package e2e runs the real sesame binary in tmux against the fake privacyIDEA
// server (a real HTTP server on loopback): pairing from a QR image, the
// devices list, and answering plain and presence challenges with
// 'sesame approve --watch'.
package e2e

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"rsc.io/qr"

	"github.com/sesame-auth/sesame/approve/privacyidea/pitest"
	"github.com/sesame-auth/sesame/tui/tuitest"
	"github.com/sesame-auth/sesame/vault/vaulttest"
)

func TestMain(m *testing.M) { tuitest.Main(m) }

// wait is how long the terminal may take to show what a step waits for.
const wait = time.Minute

func TestPairAndApproveInTmux(t *testing.T) {
	srv := pitest.New(t, pitest.Config{Label: "alice@realm1", Issuer: "ACME privacyIDEA", Capabilities: true})
	home := t.TempDir()
	// A vault made here at a cheap scrypt cost: the binary opens it at the
	// cost written in its file, so no command pays the production one.
	vaulttest.NewPassphraseIn(t, home, "correct horse battery staple e2e")
	qrPNG := filepath.Join(t.TempDir(), "enrol.png")
	code, err := qr.Encode(srv.EnrollURI(), qr.M)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(qrPNG, code.PNG(), 0o600); err != nil {
		t.Fatal(err)
	}
	bin := tuitest.Sesame(t)
	tm := tuitest.Start(t, tuitest.TermOptions{Width: 180, Height: 50, Scrollback: 200, Env: []string{
		"SESAME_HOME=" + home,
		"SESAME_PASSPHRASE=correct horse battery staple e2e",
		"NO_COLOR=1",
		"PS1=$ ",
	}}, "sh")

	// Pair from the QR image: the RSA-4096 key is made by the binary.
	tm.Line(bin + " --store passphrase pair --qr " + qrPNG)
	tm.WaitFor(2*time.Minute, "paired ACME privacyIDEA "+srv.Serial()+" as alice@realm1 with "+srv.URL)
	if ok, _, form := srv.Enrolled(); !ok || form.Get("fbtoken") != "no_firebase_token" {
		t.Fatalf("the server was not enrolled: %v", form)
	}

	// The devices list names the serial and the server.
	tm.Line(bin + " devices")
	tm.WaitMatch(wait, 1, `(?m)^\S+\s+ACME privacyIDEA `+regexp.QuoteMeta(srv.Serial())+`\s+alice@realm1\s+`+regexp.QuoteMeta(srv.URL)+`\s+privacyidea\s+active`)

	// Watch and answer.
	tm.Line(bin + " approve --watch")
	tm.WaitFor(wait, "waiting for sign-in requests on 1 pairing")
	if !srv.WaitPolls(1, time.Minute) {
		t.Fatal("the watcher never polled")
	}

	plain := srv.Trigger(pitest.ChallengeOptions{Question: "Log in to VPN?", Title: "ACME"})
	tm.WaitFor(wait, "Approve? y = yes, n = deny, x = this wasn't me:")
	tm.Line("y")
	if o, ok := srv.WaitOutcome(plain, time.Minute); !ok || o.State != "accepted" {
		t.Fatalf("plain challenge: %+v", o)
	}
	tm.WaitFor(wait, "Approved: the sign-in goes ahead.")

	// code_to_phone: the server answers the approval with a code the user
	// types on the sign-in screen.
	toPhone := srv.Trigger(pitest.ChallengeOptions{Question: "Log in to the wiki?", DisplayCode: "4711"})
	tm.WaitCount(wait, 2, "Approve? y = yes, n = deny, x = this wasn't me:")
	tm.Line("y")
	if o, ok := srv.WaitOutcome(toPhone, time.Minute); !ok || o.State != "accepted" {
		t.Fatalf("code_to_phone challenge: %+v", o)
	}
	tm.WaitFor(wait, "Now type 4711 on the sign-in screen.")

	presence := srv.Trigger(pitest.ChallengeOptions{Presence: []string{"K", "Q", "Z"}, Correct: "Q"})
	tm.WaitFor(wait, "Your choice, K, Q or Z (n = deny, x = this wasn't me):")
	tm.Line("Q")
	if o, ok := srv.WaitOutcome(presence, time.Minute); !ok || o.State != "accepted" || o.PresenceAnswer != "Q" {
		t.Fatalf("presence challenge: %+v", o)
	}
	tm.WaitCount(wait, 3, "Approved: the sign-in goes ahead.")

	notMe := srv.Trigger(pitest.ChallengeOptions{Question: "Log in to mail?"})
	tm.WaitCount(wait, 3, "Approve? y = yes, n = deny, x = this wasn't me:")
	tm.Line("x")
	if o, ok := srv.WaitOutcome(notMe, time.Minute); !ok || o.State != "declined" || o.DeclineReason != "unknown_trigger" {
		t.Fatalf("not-me challenge: %+v", o)
	}

	// A forged challenge never reaches the prompt; a real one after it does.
	srv.Trigger(pitest.ChallengeOptions{BadSignature: true})
	last := srv.Trigger(pitest.ChallengeOptions{})
	tm.WaitCount(wait, 4, "Approve? y = yes, n = deny, x = this wasn't me:")
	tm.Line("n")
	if o, ok := srv.WaitOutcome(last, time.Minute); !ok || o.State != "cancelled" {
		t.Fatalf("cancelled challenge: %+v", o)
	}
	tm.WaitFor(wait, "Denied.")
	if s := tm.Screen(); strings.Count(s, "Are you trying to sign in?") != 5 {
		t.Fatalf("expected exactly 5 prompts (the forged challenge must not be shown), screen:\n%s", s)
	}
	t.Logf("screen:\n%s", tm.Screen())
	tm.Keys("C-c")
	if _, refused := srv.Polls(); len(refused) != 0 {
		t.Fatalf("the server refused polls: %v", refused)
	}
	if s := tm.Screen(); strings.Contains(s, "BEGIN") {
		t.Fatal("a key was printed")
	}
}
