package agent

import (
	"encoding/xml"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLockAndState(t *testing.T) {
	dir := t.TempDir()
	if running, err := Running(dir); err != nil || running {
		t.Fatalf("Running before any agent: %v %v", running, err)
	}
	st := State{Started: t0, Updated: t0.Add(time.Minute), Desktop: "ok",
		Pairings: []PairingState{{ID: "p1", Label: "alice@example.com", State: "ok", Status: "alice@example.com: ok", LastReached: t0}}}
	if err := WriteState(dir, st); err != nil {
		t.Fatal(err)
	}
	unlock, err := Lock(dir)
	if err != nil {
		t.Fatal(err)
	}
	if running, err := Running(dir); err != nil || !running {
		t.Fatalf("Running with the lock held: %v %v", running, err)
	}
	_, err = Lock(dir)
	if !errors.Is(err, ErrRunning) || !strings.Contains(err.Error(), "(pid ") {
		t.Fatalf("second Lock: %v", err)
	}
	unlock()
	if running, _ := Running(dir); running {
		t.Fatal("Running after unlock")
	}
	got, err := ReadState(dir)
	if err != nil || got.PID != os.Getpid() || len(got.Pairings) != 1 || !got.Pairings[0].LastReached.Equal(t0) {
		t.Fatalf("ReadState: %+v %v", got, err)
	}
	fi, _ := os.Stat(filepath.Join(dir, StateName))
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("state file mode %v", fi.Mode())
	}
	os.WriteFile(filepath.Join(dir, StateName), []byte("{not json"), 0o600)
	if _, err := ReadState(dir); err == nil || !strings.Contains(err.Error(), "delete it") {
		t.Fatalf("damaged state: %v", err)
	}
}

func TestSystemdUnitQuoting(t *testing.T) {
	u := SystemdUnit(Service{Args: []string{"/opt/my apps/sesame", "agent", "--terminal", "kitty --"}, Env: []string{"SESAME_HOME=/home/a/100% $vault"}})
	for _, want := range []string{
		`ExecStart="/opt/my apps/sesame" agent --terminal "kitty --"`,
		`Environment="SESAME_HOME=/home/a/100%% $$vault"`,
		"Restart=on-failure\nRestartSec=30",
		"WantedBy=default.target",
	} {
		if !strings.Contains(u, want) {
			t.Errorf("the unit lacks %q:\n%s", want, u)
		}
	}
}

func TestLaunchdPlistEscapes(t *testing.T) {
	p := LaunchdPlist(Service{Args: []string{"/Users/a&b/sesame", "agent"}, Env: []string{"SESAME_HOME=/Users/a<b>"}}, "/tmp/log")
	d := xml.NewDecoder(strings.NewReader(p))
	for {
		if _, err := d.Token(); err == io.EOF {
			break
		} else if err != nil {
			t.Fatalf("the plist is not well-formed XML: %v\n%s", err, p)
		}
	}
	for _, want := range []string{"<string>/Users/a&amp;b/sesame</string>", "<key>SESAME_HOME</key><string>/Users/a&lt;b&gt;</string>", "<string>" + LaunchdLabel + "</string>"} {
		if !strings.Contains(p, want) {
			t.Errorf("the plist lacks %q:\n%s", want, p)
		}
	}
}
