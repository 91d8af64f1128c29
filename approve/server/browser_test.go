package server

import (
	"bytes"
	"context"
	"encoding/base64"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/sesame-auth/sesame/approve"
	"github.com/sesame-auth/sesame/approve/sesame"
	"github.com/sesame-auth/sesame/vault/qrcode"
)

// browser starts headless Chromium for the test. Without Chromium the test
// fails when CI is set and is skipped otherwise.
func browser(t *testing.T) context.Context {
	t.Helper()
	path, err := exec.LookPath("chromium")
	if err != nil {
		if path, err = exec.LookPath("/usr/bin/chromium"); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatal("chromium is not installed (apt-get install chromium): the demo page cannot be tested")
			}
			t.Skip("chromium is not installed")
		}
	}
	// Chromium's helper processes may still write to the profile for a moment
	// after the browser exits, so the profile is not a t.TempDir (whose
	// removal would fail the test): it is removed, retrying, at cleanup.
	profile, err := os.MkdirTemp("", "sesame-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path), chromedp.Headless, chromedp.NoSandbox, chromedp.DisableGPU, chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck, chromedp.UserDataDir(profile), chromedp.Flag("disable-crash-reporter", true),
		chromedp.Flag("disable-quic", true), chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true), chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
	}
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelB := chromedp.NewContext(actx)
	ctx, cancelT := context.WithTimeout(ctx, 90*time.Second)
	t.Cleanup(func() {
		cancelT()
		cancelB()
		cancelA() // kills the browser and waits for it
		deadline := time.Now().Add(10 * time.Second)
		for os.RemoveAll(profile) != nil && time.Now().Before(deadline) {
			time.Sleep(100 * time.Millisecond) // retrying a removal, not synchronising the test
		}
	})
	if err := chromedp.Run(ctx); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	return ctx
}

func TestDemoPagesInChromium(t *testing.T) {
	e := newEnv(t, func(c *Config) { c.Demo = true; c.SignInBurst = 100 })
	ctx := browser(t)
	_, dev := e.pair("alice")

	signIn := func(answer func(number string, r approve.Request) approve.Answer) (status, text string) {
		t.Helper()
		var number string
		err := chromedp.Run(ctx,
			chromedp.Navigate(e.ts.URL+"/demo"),
			chromedp.WaitVisible("#user", chromedp.ByID),
			chromedp.SendKeys("#user", "alice", chromedp.ByID),
			chromedp.Click("#signin", chromedp.ByID),
			chromedp.WaitVisible("#challenge", chromedp.ByID),
			chromedp.Text("#number", &number, chromedp.ByID),
		)
		if err != nil {
			t.Fatal(err)
		}
		r := pollOne(t, dev)
		if len(number) != 2 || r.Application != "Sesame demo sign-in page" || !strings.Contains(r.UserAgent, "Chrome") || r.IP != "127.0.0.1" {
			t.Fatalf("page number %q, request %+v", number, r)
		}
		// The device's own verdict is checked by the protocol tests; here the page must show it.
		dev.Respond(context.Background(), r, answer(number, r))
		err = chromedp.Run(ctx,
			chromedp.WaitNotPresent(`#status[data-status="pending"]`, chromedp.ByQuery),
			chromedp.AttributeValue("#status", "data-status", &status, nil, chromedp.ByID),
			chromedp.Text("#status", &text, chromedp.ByID),
		)
		if err != nil {
			t.Fatal(err)
		}
		return status, text
	}

	if st, text := signIn(func(n string, _ approve.Request) approve.Answer { return approve.Answer{Approve: true, Number: n} }); st != "approved" || text != "Signed in" {
		t.Fatalf("right number: %q %q", st, text)
	}
	wrong := func(n string, _ approve.Request) approve.Answer {
		w := "10"
		if n == w {
			w = "11"
		}
		return approve.Answer{Approve: true, Number: w}
	}
	if st, text := signIn(wrong); st != "denied" || !strings.Contains(text, "did not match") {
		t.Fatalf("wrong number: %q %q", st, text)
	}
	if st, text := signIn(func(string, approve.Request) approve.Answer { return approve.Answer{Reason: approve.NotMe} }); st != "not_me" || !strings.Contains(text, "blocked") {
		t.Fatalf("not me: %q %q", st, text)
	}

	// The pairing page shows a QR code that pairs a device.
	var src, uri string
	err := chromedp.Run(ctx,
		chromedp.Navigate(e.ts.URL+"/demo/pair?user=bob"),
		chromedp.WaitVisible("#qr", chromedp.ByID),
		chromedp.AttributeValue("#qr", "src", &src, nil, chromedp.ByID),
		chromedp.Text("#uri", &uri, chromedp.ByID),
	)
	if err != nil {
		t.Fatal(err)
	}
	png, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(src, "data:image/png;base64,"))
	if err != nil {
		t.Fatal(err)
	}
	texts, err := qrcode.Decode(bytes.NewReader(png))
	if err != nil || len(texts) != 1 || texts[0] != uri {
		t.Fatalf("QR holds %q (%v), page shows %q", texts, err, uri)
	}
	p, err := sesame.Pair(context.Background(), texts[0], e.opts())
	if err != nil || p.User != "bob" {
		t.Fatalf("pairing from the page's QR: %+v %v", p, err)
	}
	// The browser rendered the image: its natural width is the PNG's.
	var width int
	if err := chromedp.Run(ctx, chromedp.Evaluate(`document.getElementById("qr").naturalWidth`, &width)); err != nil || width < 200 {
		t.Fatalf("QR image not rendered: width %d %v", width, err)
	}
}
