//go:build unix

package gate

import (
	"context"
	"os"
	"testing"
	"time"
)

func TestWatchHangupNoticesTheReaderGoing(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	hung := make(chan struct{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go WatchHangup(ctx, func() { close(hung) }, int(w.Fd()))
	select {
	case <-hung:
		t.Fatal("hang-up reported while the reader is there")
	case <-time.After(300 * time.Millisecond): // longer than one poll round: nothing may happen
	}
	r.Close()
	select {
	case <-hung:
	case <-time.After(10 * time.Second):
		t.Fatal("the reader closed its end, but no hang-up was reported within 10s")
	}
}

func TestWatchHangupReturnsWhenCancelled(t *testing.T) {
	r, w, _ := os.Pipe()
	defer r.Close()
	defer w.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { WatchHangup(ctx, func() { t.Error("hang-up reported") }, int(w.Fd())); close(done) }()
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("WatchHangup still running 10s after its context ended")
	}
}
