package approve

import (
	"testing"
	"time"
)

func TestBidiAndEscapesAreRemovedBeforeDisplay(t *testing.T) {
	w := NewWatcher(nil, Options{})
	r := Request{ID: "n1", User: "alice", Application: "VPN\u202e", Location: "\u2066Lyon\u2069", UserAgent: "x\x1b[2Jy",
		Title: "ACME\u200b login", Question: "Sign in\u202e?", Choices: []string{"A\u200d", "B"}, Expires: time.Now().Add(time.Minute)}
	w.mu.Lock()
	evs := w.deliver("p", []Request{r}, time.Now())
	w.mu.Unlock()
	if len(evs) != 1 || evs[0].Request == nil {
		t.Fatalf("events = %+v", evs)
	}
	got := *evs[0].Request
	if got.Application != "VPN" || got.Location != "Lyon" || got.UserAgent != "xy" || got.Title != "ACME login" ||
		got.Question != "Sign in?" || got.Choices[0] != "A" || got.Choices[1] != "B" {
		t.Fatalf("shown request = %+v", got)
	}
	if r.Choices[0] != "A\u200d" {
		t.Fatal("cleaning changed the provider's request")
	}
}
