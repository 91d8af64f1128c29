//go:build !lean

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/tui/tuitest"
	"github.com/sesame-auth/sesame/vault"
	"github.com/sesame-auth/sesame/vault/vaulttest"
)

// lockedBuffer collects a process's output for a test to read while it runs.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// eventually waits until cond holds, failing the test at the deadline.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, within)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// startProcess runs argv in the background with its output in out; it is
// interrupted (then killed) when the test ends. done is closed when it exits.
func startProcess(t *testing.T, env []string, out *lockedBuffer, argv ...string) (c *exec.Cmd, done chan struct{}) {
	t.Helper()
	c = exec.Command(argv[0], argv[1:]...)
	c.Env = append(os.Environ(), env...)
	c.Stdout, c.Stderr = out, out
	if err := c.Start(); err != nil {
		t.Fatalf("start %s: %v", argv[0], err)
	}
	done = make(chan struct{})
	go func() { c.Wait(); close(done) }()
	t.Cleanup(func() {
		c.Process.Signal(os.Interrupt)
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			c.Process.Kill()
			<-done
		}
	})
	return c, done
}

// notifyCalls returns the string arguments of each Notify call dbus-monitor
// saw (a string with newlines spans several lines of its output).
func notifyCalls(monitor string) [][]string {
	var calls [][]string
	var cur []string
	in, open := false, false
	for _, line := range strings.Split(monitor, "\n") {
		switch {
		case open:
			cur[len(cur)-1] += "\n" + strings.TrimSuffix(line, "\"")
			open = !strings.HasSuffix(line, "\"")
		case strings.HasPrefix(line, "method call ") || strings.HasPrefix(line, "signal ") || strings.HasPrefix(line, "method return "):
			if in {
				calls = append(calls, cur)
			}
			in, cur = strings.HasSuffix(line, "member=Notify"), nil
		case in && strings.HasPrefix(strings.TrimSpace(line), "string \""):
			v := strings.TrimPrefix(strings.TrimSpace(line), "string \"")
			open = !strings.HasSuffix(v, "\"") || v == ""
			cur = append(cur, strings.TrimSuffix(v, "\""))
		}
	}
	if in {
		calls = append(calls, cur)
	}
	return calls
}

// TestAgentDesktopNotifications runs the built 'sesame agent' against
// 'sesame server' on loopback, in a D-Bus session with a real Secret Service
// (the keyring vault) and, after a first request without one, a real
// notification server (dunst under Xvfb), watched with dbus-monitor:
//   - without a notification server the agent logs it once and keeps
//     watching; 'sesame approve' answers that request from stdin;
//   - with dunst a sign-in makes exactly one Notify call, holding the
//     application and user and not the number;
//   - invoking the notification's action starts the configured terminal
//     command, which runs 'sesame approve ID' (answered from stdin here);
//   - the notification is closed once the request is answered;
//   - 'agent status' reports it, a second agent is refused, and with the
//     vault key gone from the keyring the agent exits 1 at once.
func TestAgentDesktopNotifications(t *testing.T) {
	for _, tool := range []string{"dunst", "dunstctl", "dbus-monitor", "dbus-send", "dbus-update-activation-environment", "secret-tool"} {
		tuitest.Need(t, tool)
	}
	t.Parallel()
	if !inSecretService(t) {
		return
	}
	display := tuitest.Xvfb(t)
	srv := startApprovalServerStore(t, "keyring")
	dir := t.TempDir()
	env := append(tuitest.Environ(srv.env...), "SESAME_NO_NOTIFY=")

	// dbus activation would start dunst; give it a display it cannot open,
	// so that there is no notification server until the test starts one.
	if out, err := exec.Command("dbus-update-activation-environment", "DISPLAY=:65000", "WAYLAND_DISPLAY=").CombinedOutput(); err != nil {
		t.Fatalf("dbus-update-activation-environment: %v %s", err, out)
	}
	var monitor lockedBuffer
	startProcess(t, nil, &monitor, "dbus-monitor", "--session", "type='method_call',interface='org.freedesktop.Notifications'",
		"type='signal',interface='org.freedesktop.Notifications'")
	eventually(t, 10*time.Second, "dbus-monitor ready", func() bool { return strings.Contains(monitor.String(), "member=NameLost") })

	// The "terminal" records its arguments and runs them, answering from a file.
	answer := filepath.Join(dir, "answer")
	argsFile := filepath.Join(dir, "args")
	stub := filepath.Join(dir, "term")
	script := "#!/bin/sh\nprintf '%s\\n' \"$@\" > " + argsFile + ".tmp && mv " + argsFile + ".tmp " + argsFile + "\nexec \"$@\" < " + answer + " > " + filepath.Join(dir, "term.out") + " 2>&1\n"
	if err := os.WriteFile(stub, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}

	var agentLog, dunstLog lockedBuffer
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("the agent's log:\n%s\ndunst's log:\n%s\ndbus-monitor:\n%s", agentLog.String(), dunstLog.String(), monitor.String())
		}
	})
	agentCmd, agentDone := startProcess(t, env, &agentLog, srv.bin, "agent", "--terminal", stub)
	eventually(t, 30*time.Second, "the agent reaches the server", func() bool { return strings.Contains(agentLog.String(), ": ok") })

	// 1. No notification server: one log line, the request is still logged,
	// and 'sesame approve' answers it from stdin.
	s1 := srv.start(0)
	eventually(t, 30*time.Second, "the agent logs the first request", func() bool {
		return strings.Contains(agentLog.String(), "sign-in request to Wiki for alice from 192.0.2.7, Lyon, FR (id "+s1.ID+")")
	})
	eventually(t, 30*time.Second, "the agent says notifications do not work", func() bool {
		return strings.Contains(agentLog.String(), "desktop notifications do not work")
	})
	out, errOut, code := runBinary(t, env, s1.Number+"\n", "approve")
	if code != 0 || !strings.Contains(out, "Approved") {
		t.Fatalf("sesame approve: exit %d\n%s\n%s", code, out, errOut)
	}
	if o := srv.outcome(s1.ID); o.Status != "approved" {
		t.Fatalf("first sign-in: %+v", o)
	}
	eventually(t, 30*time.Second, "the agent sees the first request answered", func() bool {
		return strings.Contains(agentLog.String(), "request "+s1.ID+" was answered elsewhere")
	})

	// 2. With dunst.
	startProcess(t, []string{"DISPLAY=" + display}, &dunstLog, "dunst", "-verbosity", "debug")
	eventually(t, 15*time.Second, "dunst owns org.freedesktop.Notifications", func() bool {
		out, _ := exec.Command("dbus-send", "--session", "--print-reply", "--dest=org.freedesktop.DBus", "/org/freedesktop/DBus",
			"org.freedesktop.DBus.NameHasOwner", "string:org.freedesktop.Notifications").Output()
		return strings.Contains(string(out), "boolean true")
	})
	s2 := srv.start(0)
	eventually(t, 30*time.Second, "a Notify call", func() bool { return len(notifyCalls(monitor.String())) > 0 })
	eventually(t, 10*time.Second, "dunst shows it", func() bool {
		out, _ := exec.Command("dunstctl", "count", "displayed").Output()
		return strings.TrimSpace(string(out)) == "1"
	})
	args := notifyCalls(monitor.String())[0]
	text := strings.Join(args, "\n")
	for _, want := range []string{"Sesame", "Sign-in to Wiki?", "user: alice", "from: 192.0.2.7, Lyon, FR", "expires ", "Answer"} {
		if !strings.Contains(text, want) {
			t.Errorf("the Notify call lacks %q:\n%s", want, text)
		}
	}
	for _, line := range strings.Split(text, "\n") {
		// The expiry's clock time may hold the same two digits by chance.
		if !strings.HasPrefix(line, "expires ") && regexp.MustCompile(`\b`+s2.Number+`\b`).MatchString(line) {
			t.Errorf("the Notify call holds the number %s: %q", s2.Number, line)
		}
	}
	if !strings.Contains(monitor.String(), "byte 2") {
		t.Errorf("the Notify call does not ask for urgency critical (byte 2):\n%s", monitor.String())
	}

	// 3. The action opens the "terminal" on 'sesame approve ID', which answers.
	if err := os.WriteFile(answer, []byte(s2.Number+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("dunstctl", "action", "0").CombinedOutput(); err != nil {
		t.Fatalf("dunstctl action: %v %s", err, out)
	}
	eventually(t, 15*time.Second, "the terminal command starts", func() bool { _, err := os.Stat(argsFile); return err == nil })
	got, _ := os.ReadFile(argsFile)
	if want := srv.bin + "\napprove\n" + s2.ID + "\n"; string(got) != want {
		t.Fatalf("the terminal ran %q, want %q", got, want)
	}
	eventually(t, 30*time.Second, "the second sign-in approved", func() bool { return srv.outcome(s2.ID).Status == "approved" })

	// 4. Answered: the notification is closed, and there was one Notify in all.
	eventually(t, 30*time.Second, "CloseNotification", func() bool { return strings.Contains(monitor.String(), "member=CloseNotification") })
	eventually(t, 10*time.Second, "dunst shows nothing", func() bool {
		out, _ := exec.Command("dunstctl", "count", "displayed").Output()
		return strings.TrimSpace(string(out)) == "0"
	})
	if n := len(notifyCalls(monitor.String())); n != 1 {
		t.Fatalf("%d Notify calls, want 1:\n%s", n, monitor.String())
	}
	if n := srv.answersSent(); n != 2 {
		t.Fatalf("%d answers reached the server, want 2 (one per 'sesame approve'; the agent never answers)", n)
	}
	if strings.Contains(agentLog.String(), s2.Number+" ") {
		// Log lines never hold the number (ids and times aside).
		for _, line := range strings.Split(agentLog.String(), "\n") {
			if regexp.MustCompile(`(^|[ (])` + s2.Number + `($|[ )])`).MatchString(line) {
				t.Errorf("the agent logged the number: %q", line)
			}
		}
	}

	// 5. Status; one agent per vault.
	out, errOut, code = runBinary(t, env, "", "agent", "status")
	if code != 0 || !strings.Contains(out, "agent: running") || !strings.Contains(out, "desktop notifications: ok") || !strings.Contains(out, "last reached") {
		t.Fatalf("agent status: exit %d\n%s%s", code, out, errOut)
	}
	_, errOut, code = runBinary(t, env, "", "agent")
	if code != 1 || !strings.Contains(errOut, "already watching this vault") {
		t.Fatalf("a second agent: exit %d, %s", code, errOut)
	}
	agentCmd.Process.Signal(os.Interrupt)
	select {
	case <-agentDone:
	case <-time.After(10 * time.Second):
		t.Fatal("the agent did not stop within 10 s of SIGINT")
	}
	out, _, code = runBinary(t, env, "", "agent", "status")
	if code != 1 || !strings.Contains(out, "agent: not running") {
		t.Fatalf("agent status after it stopped: exit %d\n%s", code, out)
	}

	// 6. The vault key gone from the keyring: a clear message and exit 1, at once.
	var envl struct {
		KeyringID string `json:"keyring_id"`
	}
	home := strings.TrimPrefix(srv.env[0], "SESAME_HOME=")
	b, _ := os.ReadFile(filepath.Join(home, vault.FileName))
	json.Unmarshal(b, &envl)
	if out, err := exec.Command("secret-tool", "clear", "service", vault.KeyringService, "username", envl.KeyringID).CombinedOutput(); err != nil {
		t.Fatalf("secret-tool clear: %v %s", err, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	c := exec.CommandContext(ctx, srv.bin, "agent")
	c.Env = append(os.Environ(), env...)
	outb, err := c.CombinedOutput()
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 1 || !strings.Contains(string(outb), "missing from the OS keyring") {
		t.Fatalf("agent without its key: %v\n%s", err, outb)
	}
}

// TestAgentInstallSystemd runs 'sesame agent install' and 'uninstall' on a
// keyring vault with a stand-in systemctl that records its arguments: the
// unit it writes passes 'systemd-analyze verify'.
func TestAgentInstallSystemd(t *testing.T) {
	analyze := tuitest.Need(t, "systemd-analyze")
	t.Parallel()
	if !inSecretService(t) {
		return
	}
	bin := tuitest.Sesame(t)
	dir := t.TempDir()
	home := filepath.Join(dir, "my vault")
	bindir := filepath.Join(dir, "bin")
	os.Mkdir(bindir, 0o700)
	calls := filepath.Join(dir, "systemctl.calls")
	stub := "#!/bin/sh\necho \"$*\" >> " + calls + "\n"
	if err := os.WriteFile(filepath.Join(bindir, "systemctl"), []byte(stub), 0o755); err != nil {
		t.Fatal(err)
	}
	env := tuitest.Environ("SESAME_HOME="+home, "SESAME_PASSPHRASE=", "XDG_CONFIG_HOME="+filepath.Join(dir, "config"),
		"PATH="+bindir+string(os.PathListSeparator)+os.Getenv("PATH"))
	if _, errOut, code := runBinary(t, env, "", "add", "otpauth://totp/Bank:alice?secret=JBSWY3DPEHPK3PXP"); code != 0 || !strings.Contains(errOut, "OS keyring") {
		t.Fatalf("add: %d %s", code, errOut)
	}
	out, errOut, code := runBinary(t, env, "", "agent", "install", "--terminal", "sh -c")
	if code != 0 || !strings.Contains(out, "enabled and started sesame-agent.service") {
		t.Fatalf("agent install: exit %d\n%s%s", code, out, errOut)
	}
	unit := filepath.Join(dir, "config", "systemd", "user", "sesame-agent.service")
	b, err := os.ReadFile(unit)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"ExecStart=" + bin + ` agent --terminal "sh -c"`, `Environment="SESAME_HOME=` + home + `"`, "WantedBy=default.target"} {
		if !strings.Contains(string(b), want) {
			t.Errorf("the unit lacks %q:\n%s", want, b)
		}
	}
	vout, err := exec.Command(analyze, "verify", unit).CombinedOutput()
	if err != nil || len(bytes.TrimSpace(vout)) != 0 {
		t.Fatalf("systemd-analyze verify: %v\n%s\n%s", err, vout, b)
	}
	if got, _ := os.ReadFile(calls); string(got) != "--user daemon-reload\n--user enable --now sesame-agent.service\n" {
		t.Fatalf("systemctl calls:\n%s", got)
	}
	out, _, code = runBinary(t, env, "", "agent", "status")
	if code != 1 || !strings.Contains(out, "service: installed ("+unit+")") {
		t.Fatalf("agent status (installed, not running): exit %d\n%s", code, out)
	}
	os.Remove(calls)
	if out, errOut, code := runBinary(t, env, "", "agent", "uninstall"); code != 0 || !strings.Contains(out, "removed "+unit) {
		t.Fatalf("agent uninstall: exit %d\n%s%s", code, out, errOut)
	}
	if _, err := os.Stat(unit); !os.IsNotExist(err) {
		t.Fatalf("the unit is still there: %v", err)
	}
	if got, _ := os.ReadFile(calls); string(got) != "--user disable --now sesame-agent.service\n--user daemon-reload\n" {
		t.Fatalf("systemctl calls on uninstall:\n%s", got)
	}
	if _, errOut, code := runBinary(t, env, "", "agent", "uninstall"); code != 1 || !strings.Contains(errOut, "no agent service is installed") {
		t.Fatalf("second uninstall: exit %d %s", code, errOut)
	}
}

// TestAgentRefusesPassphraseVault: the agent, which runs unattended, says
// why it will not open a passphrase vault, even with the passphrase given.
func TestAgentRefusesPassphraseVault(t *testing.T) {
	home := filepath.Join(t.TempDir(), "vault")
	env := tuitest.Environ("SESAME_HOME="+home, "SESAME_PASSPHRASE=a long test passphrase")
	vaulttest.NewPassphraseIn(t, home, "a long test passphrase", vaulttest.Account("Bank", "alice"))
	for _, args := range [][]string{{"agent"}, {"agent", "install", "--no-start"}} {
		_, errOut, code := runBinary(t, env, "", args...)
		if code != 1 || !strings.Contains(errOut, "protected by a passphrase and the agent runs unattended") {
			t.Errorf("%v: exit %d, %s", args, code, errOut)
		}
	}
}
