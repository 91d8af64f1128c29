package agent

import (
	"fmt"
	"html"
	"strings"
)

// Service is how the agent is started at login: the command line and the
// environment it needs (SESAME_HOME, when the vault is not in the default place).
type Service struct {
	Args []string // the executable first
	Env  []string // KEY=value
}

// Names of the installed service.
const (
	SystemdUnitName = "sesame-agent.service"
	LaunchdLabel    = "io.github.sesame-auth.agent"
	WindowsTaskName = "Sesame agent"
)

// systemdQuote quotes one word of a systemd command line or assignment.
func systemdQuote(s string) string {
	s = strings.ReplaceAll(s, "%", "%%")
	if s != "" && !strings.ContainsAny(s, " \t\"'\\;$") {
		return s
	}
	r := strings.NewReplacer(`\`, `\\`, `"`, `\"`, "$", "$$")
	return `"` + r.Replace(s) + `"`
}

// SystemdUnit is the systemd user unit (~/.config/systemd/user/sesame-agent.service).
// It restarts the agent after a failure, but only every 30 s: a locked
// keyring is not retried in a busy loop.
func SystemdUnit(s Service) string {
	var b strings.Builder
	b.WriteString(`[Unit]
Description=Sesame: desktop notifications for sign-in requests
Documentation=https://github.com/sesame-auth/sesame#never-miss-a-sign-in-the-agent-and-notifications
After=graphical-session.target

[Service]
Type=simple
`)
	words := make([]string, len(s.Args))
	for i, a := range s.Args {
		words[i] = systemdQuote(a)
	}
	fmt.Fprintf(&b, "ExecStart=%s\n", strings.Join(words, " "))
	for _, e := range s.Env {
		fmt.Fprintf(&b, "Environment=%s\n", systemdQuote(e))
	}
	b.WriteString(`Restart=on-failure
RestartSec=30

[Install]
WantedBy=default.target
`)
	return b.String()
}

// LaunchdPlist is the launchd agent (~/Library/LaunchAgents/io.github.sesame-auth.agent.plist).
func LaunchdPlist(s Service, logPath string) string {
	var b strings.Builder
	b.WriteString(`<?xml version="1.0" encoding="UTF-8"?>
<!DOCTYPE plist PUBLIC "-//Apple//DTD PLIST 1.0//EN" "http://www.apple.com/DTDs/PropertyList-1.0.dtd">
<plist version="1.0">
<dict>
  <key>Label</key><string>` + LaunchdLabel + `</string>
  <key>ProgramArguments</key>
  <array>
`)
	for _, a := range s.Args {
		fmt.Fprintf(&b, "    <string>%s</string>\n", html.EscapeString(a))
	}
	b.WriteString("  </array>\n")
	if len(s.Env) > 0 {
		b.WriteString("  <key>EnvironmentVariables</key>\n  <dict>\n")
		for _, e := range s.Env {
			k, v, _ := strings.Cut(e, "=")
			fmt.Fprintf(&b, "    <key>%s</key><string>%s</string>\n", html.EscapeString(k), html.EscapeString(v))
		}
		b.WriteString("  </dict>\n")
	}
	fmt.Fprintf(&b, `  <key>RunAtLoad</key><true/>
  <key>KeepAlive</key><dict><key>SuccessfulExit</key><false/></dict>
  <key>ThrottleInterval</key><integer>30</integer>
  <key>StandardErrorPath</key><string>%s</string>
</dict>
</plist>
`, html.EscapeString(logPath))
	return b.String()
}

// WindowsTask is the commands that make a scheduled task starting the agent
// at logon, for the user to run: setx for the environment, then schtasks.
func WindowsTask(s Service) string {
	words := make([]string, len(s.Args))
	for i, a := range s.Args {
		words[i] = a
		if strings.ContainsAny(a, " \t") {
			words[i] = `\"` + a + `\"`
		}
	}
	var b strings.Builder
	for _, e := range s.Env {
		k, v, _ := strings.Cut(e, "=")
		fmt.Fprintf(&b, "setx %s \"%s\"\n", k, v)
	}
	fmt.Fprintf(&b, `schtasks /Create /TN "%s" /SC ONLOGON /RL LIMITED /F /TR "%s"`+"\n", WindowsTaskName, strings.Join(words, " "))
	return b.String()
}

// WindowsTaskDelete is the command that removes the scheduled task.
func WindowsTaskDelete() string {
	return fmt.Sprintf(`schtasks /Delete /TN "%s" /F`, WindowsTaskName)
}
