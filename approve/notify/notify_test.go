package notify

import (
	"bytes"
	"strings"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/approve"
)

func TestForRequestHoldsNoNumberAndNoEscapes(t *testing.T) {
	now := time.Date(2026, 12, 1, 22, 0, 0, 0, time.UTC)
	r := approve.Request{User: "alice", Application: "Wiki\x1b]52;c;ZXZpbA==\a", IP: "192.0.2.7", Location: "Lyon,\nFR",
		Mode: approve.ModeChoose, Choices: []string{"17", "42"}, Title: "Number 42", Question: "Is it 17?", Expires: now.Add(90 * time.Second)}
	n := ForRequest(r, now)
	text := n.Title + n.Body
	if strings.ContainsAny(text, "\x1b\a") || strings.Contains(text, "ZXZpbA") {
		t.Fatalf("control characters from the server got through: %q", text)
	}
	if strings.Contains(text, "17") || strings.Contains(text, "42") {
		t.Fatalf("the notification holds a choice: %q", text)
	}
	for _, want := range []string{"Sign-in to Wiki?", "user: alice", "from: 192.0.2.7, Lyon, FR", "(in 1m30s)"} {
		if !strings.Contains(text, want) {
			t.Errorf("lacks %q: %q", want, text)
		}
	}
	if n.Action != "Answer" {
		t.Errorf("action %q", n.Action)
	}
}

func TestClean(t *testing.T) {
	for _, c := range []struct {
		in   string
		max  int
		want string
	}{
		{"plain", 80, "plain"},
		{"  two\t\tspaces \r\n", 80, "two spaces"},
		{"bidi\u202eevil", 80, "bidievil"},
		{"esc\x1b[31mred", 80, "escred"},
		{strings.Repeat("é", 10), 5, "éééé…"},
	} {
		if got := Clean(c.in, c.max); got != c.want {
			t.Errorf("Clean(%q, %d) = %q, want %q", c.in, c.max, got, c.want)
		}
	}
}

func TestTerminalSequence(t *testing.T) {
	plain := "\a\x1b]9;Sesame: Sign-in to Wiki?: user: alice\a\x1b]777;notify;Sesame: Sign-in to Wiki?;user: alice\a"
	for _, c := range []struct {
		name string
		t    Terminal
		want string
	}{
		{"plain", Terminal{}, plain},
		{"tmux", Terminal{Tmux: true}, "\a\x1bPtmux;" + strings.ReplaceAll(plain[1:], "\x1b", "\x1b\x1b") + "\x1b\\"},
		{"screen", Terminal{Screen: true}, "\a\x1bP" + plain[1:] + "\x1b\\"},
	} {
		if got := string(c.t.Sequence("Sesame: Sign-in to Wiki?", "user: alice")); got != c.want {
			t.Errorf("%s:\n got %q\nwant %q", c.name, got, c.want)
		}
	}
	// A semicolon in the title would end OSC 777's title field.
	if got := string(Terminal{}.Sequence("a;b", "c\x1b[2Jd")); !strings.Contains(got, "777;notify;a,b;cd\a") {
		t.Errorf("not cleaned: %q", got)
	}
	var b bytes.Buffer
	if err := TerminalFor(&b, func(k string) string { return map[string]string{"TMUX": "/tmp/x,1,0"}[k] }).Notify("t", "b"); err != nil || !strings.Contains(b.String(), "\x1bPtmux;") {
		t.Errorf("TerminalFor inside tmux wrote %q (%v)", b.String(), err)
	}
}
