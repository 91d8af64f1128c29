//go:build linux

package tuitest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/vault/qrcode"
)

// Sway starts a real Wayland compositor, sway, headless (no GPU, no input
// devices), whose one output shows the PNG file background in its middle on
// white, and waits until grim's capture of it shows a QR code holding want.
// It returns the environment of a client of that compositor
// (WAYLAND_DISPLAY and XDG_RUNTIME_DIR). sway refuses to run as root: as
// root it runs as the user nobody. It is stopped when the test ends.
func Sway(t testing.TB, background, want string) []string {
	t.Helper()
	bin := Need(t, "sway")
	Need(t, "grim")
	// Not under t.TempDir, whose folders nobody cannot enter.
	run, err := os.MkdirTemp("", "sesame-sway-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(run) })
	bg := filepath.Join(run, "background.png")
	data, err := os.ReadFile(background)
	if err != nil {
		t.Fatal(err)
	}
	config := filepath.Join(run, "config")
	for name, content := range map[string]string{
		bg:     string(data),
		config: fmt.Sprintf("xwayland disable\noutput * resolution 1920x1080 bg %s center #ffffff\n", bg),
	} {
		if err := os.WriteFile(name, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	cmd := exec.Command(bin, "--config", config)
	cmd.Env = []string{"PATH=" + os.Getenv("PATH"), "HOME=" + run, "XDG_RUNTIME_DIR=" + run,
		"WLR_BACKENDS=headless", "WLR_RENDERER=pixman", "WLR_LIBINPUT_NO_DEVICES=1"}
	if os.Geteuid() == 0 {
		const nobody = 65534
		if err := os.Chown(run, nobody, nobody); err != nil {
			t.Fatal(err)
		}
		runAs(cmd, nobody)
	}
	if err := os.Chmod(run, 0o700); err != nil {
		t.Fatal(err)
	}
	var log strings.Builder
	cmd.Stdout, cmd.Stderr = &log, &log
	if err := cmd.Start(); err != nil {
		t.Fatalf("start sway: %v", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})

	env := []string{"XDG_RUNTIME_DIR=" + run}
	deadline := time.Now().Add(15 * time.Second)
	for {
		if sock, _ := filepath.Glob(filepath.Join(run, "wayland-[0-9]")); len(sock) == 1 {
			env = append(env, "WAYLAND_DISPLAY="+filepath.Base(sock[0]))
			break
		}
		select {
		case <-exited:
			t.Fatalf("sway exited before it listened:\n%s", log.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("sway did not listen within 15s:\n%s", log.String())
		}
		time.Sleep(20 * time.Millisecond) // polling interval
	}
	// The background is drawn by swaybg, a client sway starts: wait until
	// a capture shows it.
	var texts []string
	for time.Now().Before(deadline) {
		texts, err = scanWith(env)
		if slices.Contains(texts, want) {
			return env
		}
		time.Sleep(50 * time.Millisecond) // polling interval
	}
	t.Fatalf("sway's screen did not show the QR code within 15s: %d codes, %v\n%s", len(texts), err, log.String())
	return nil
}

// scanWith captures the screen with grim in the environment env and
// decodes the QR codes on it.
func scanWith(env []string) ([]string, error) {
	cmd := exec.Command("grim", "-t", "png", "-")
	cmd.Env = append(os.Environ(), env...)
	out, err := cmd.Output()
	if err != nil {
		return nil, fmt.Errorf("grim: %w", err)
	}
	return qrcode.Decode(bytes.NewReader(out))
}
