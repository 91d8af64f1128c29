package approve

import (
	"testing"
	"time"

	"github.com/sesame-auth/sesame/vault"
)

func TestHistoryWritesAFewTimesAMinuteAndLosesNothing(t *testing.T) {
	var h History
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	writes, written := 0, 0
	// A flapping server: an entry every 100 ms for a minute.
	for i := range 600 {
		now = now.Add(100 * time.Millisecond)
		if b := h.Add(vault.Event{RequestID: string(rune('a' + i%26))}, now); len(b) > 0 {
			writes++
			written += len(b)
		}
	}
	if max := int(time.Minute/HistoryGap) + 1; writes > max {
		t.Fatalf("%d vault writes in a minute, want at most %d", writes, max)
	}
	written += len(h.Flush())
	if written != 600 {
		t.Fatalf("%d entries written, want 600", written)
	}
	if len(h.Due(now.Add(time.Hour))) != 0 {
		t.Fatal("entries written twice")
	}
}

func TestHistoryWorth(t *testing.T) {
	shown := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	if Worth(shown, shown.Add(100*time.Millisecond)) {
		t.Error("a request shown for 100 ms is recorded")
	}
	if !Worth(shown, shown.Add(MinShown)) {
		t.Error("a request shown for MinShown is not recorded")
	}
	if Worth(time.Time{}, shown) {
		t.Error("a request never shown is recorded")
	}
}
