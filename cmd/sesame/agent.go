//go:build !lean

package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/sesame-auth/sesame/approve"
	"github.com/sesame-auth/sesame/approve/agent"
	"github.com/sesame-auth/sesame/approve/notify"
	"github.com/sesame-auth/sesame/vault"
)

func (a *app) agentCmd() *cobra.Command {
	var terminal string
	cmd := &cobra.Command{
		Use:   "agent",
		Short: "Watch for sign-in requests in the background and show desktop notifications",
		Long: `Watch every active pairing of the vault and show a desktop notification for
each new sign-in request: the application, the user, where it comes from and
when it expires, never the number to match. The notification goes away when
the request is answered elsewhere or expires; its "Answer" button opens a
terminal running 'sesame approve ID'. The agent never answers on its own.

'sesame agent' runs in the foreground until stopped and logs to stderr: it is
what 'sesame agent install' starts at login. One agent runs per vault; the
terminal UI and 'sesame approve --watch' work alongside it.

The agent runs unattended, so it opens only a vault whose key is in the OS
keyring (it never asks for a passphrase).

The terminal is --terminal (a command the sesame command line is appended
to, e.g. "kitty --"), else "$TERMINAL -e", else "x-terminal-emulator -e".`,
		RunE: func(cmd *cobra.Command, _ []string) error { return a.runAgent(cmd.Context(), terminal) },
	}
	cmd.Flags().StringVar(&terminal, "terminal", "", "command that opens a terminal running the command appended to it")
	cmd.AddCommand(a.agentInstallCmd(), a.agentUninstallCmd(), a.agentStatusCmd())
	return cmd
}

// errAgentPassphrase refuses a passphrase vault.
var errAgentPassphrase = errors.New("this vault is protected by a passphrase and the agent runs unattended, so it opens only a vault whose key is in the OS keyring: answer sign-ins with 'sesame approve --watch' or the terminal UI instead")

// openAgentVault opens the vault with the OS keyring only, never asking.
func (a *app) openAgentVault() (*vault.Vault, error) {
	o, err := a.vaultOptions()
	if err != nil {
		return nil, err
	}
	o.Passphrase = nil
	v, err := vault.Open(o)
	switch {
	case errors.Is(err, vault.ErrPassphraseRequired):
		return nil, errAgentPassphrase
	case errors.Is(err, vault.ErrKeyringUnavailable):
		return nil, fmt.Errorf("%w; the agent needs it to open the vault", err)
	case err != nil:
		return nil, err
	}
	return v, nil
}

func (a *app) runAgent(ctx context.Context, terminal string) error {
	term, err := a.terminalCommand(terminal)
	if err != nil {
		return err
	}
	v, err := a.openAgentVault()
	if err != nil {
		return err
	}
	unlock, err := agent.Lock(v.Dir())
	if err != nil {
		return err
	}
	defer unlock()
	d := v.Data()
	active := 0
	for _, p := range d.Pairings {
		if !p.Paused {
			active++
		}
	}
	if active == 0 {
		fmt.Fprintln(a.stderr, "sesame: no active pairing yet: the agent picks up pairings made with 'sesame pair'")
	}
	fmt.Fprintf(a.stderr, "sesame: agent watching %s of the vault in %s\n", plural(active, "pairing"), v.Dir())
	w := approve.NewWatcher(d.Pairings, approve.Options{Kinds: providers, Now: a.now})
	ag := agent.New(agent.Options{
		Notifier: notify.Desktop(),
		Log:      a.stderr,
		Now:      a.now,
		Reload: func() ([]vault.Pairing, bool, error) {
			d, changed, err := v.Reload()
			return d.Pairings, changed, err
		},
		Answer: func(r approve.Request) error { return a.openTerminal(term, r.ID) },
		State:  func(st agent.State) error { return agent.WriteState(v.Dir(), st) },
	})
	return ag.Run(ctx, w)
}

// terminalCommand is the command line that opens a terminal running the
// words appended to it.
func (a *app) terminalCommand(flag string) ([]string, error) {
	if flag != "" {
		words := strings.Fields(flag)
		if _, err := exec.LookPath(words[0]); err != nil {
			return nil, usagef("--terminal: %v", err)
		}
		return words, nil
	}
	if t := a.getenv("TERMINAL"); t != "" {
		return append(strings.Fields(t), "-e"), nil
	}
	return []string{"x-terminal-emulator", "-e"}, nil
}

// openTerminal starts a terminal running 'sesame approve ID'.
func (a *app) openTerminal(term []string, id string) error {
	exe, err := os.Executable()
	if err != nil {
		return err
	}
	argv := append(append([]string{}, term...), exe, "approve", id)
	c := exec.Command(argv[0], argv[1:]...)
	detach(c)
	if err := c.Start(); err != nil {
		return err
	}
	go c.Wait()
	return nil
}

// agentService is the command line and environment the installed service runs.
func (a *app) agentService(terminal string) (agent.Service, error) {
	exe, err := os.Executable()
	if err != nil {
		return agent.Service{}, err
	}
	if exe, err = filepath.EvalSymlinks(exe); err != nil {
		return agent.Service{}, err
	}
	s := agent.Service{Args: []string{exe, "agent"}}
	if terminal != "" {
		s.Args = append(s.Args, "--terminal", terminal)
	}
	if h := a.getenv("SESAME_HOME"); h != "" {
		if h, err = filepath.Abs(h); err != nil {
			return s, err
		}
		s.Env = append(s.Env, "SESAME_HOME="+h)
	}
	return s, nil
}

func (a *app) agentInstallCmd() *cobra.Command {
	var terminal string
	var noStart bool
	cmd := &cobra.Command{
		Use:   "install",
		Short: "Start the agent at login (systemd user unit, launchd agent, or a scheduled task on Windows)",
		Long: `Start 'sesame agent' at every login for this vault. On Linux it writes the
systemd user unit ~/.config/systemd/user/sesame-agent.service and runs
'systemctl --user enable --now sesame-agent.service'; on macOS it writes
~/Library/LaunchAgents/` + agent.LaunchdLabel + `.plist and loads it with
'launchctl bootstrap'; on Windows it prints the schtasks command to run.
With --no-start the file is only written.`,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if _, err := a.terminalCommand(terminal); err != nil {
				return err
			}
			if _, err := a.openAgentVault(); err != nil {
				return err
			}
			s, err := a.agentService(terminal)
			if err != nil {
				return err
			}
			return a.installService(s, noStart)
		},
	}
	cmd.Flags().StringVar(&terminal, "terminal", "", "command that opens a terminal running the command appended to it")
	cmd.Flags().BoolVar(&noStart, "no-start", false, "only write the service file; do not enable or start it")
	return cmd
}

func (a *app) agentUninstallCmd() *cobra.Command {
	return &cobra.Command{
		Use:   "uninstall",
		Short: "Stop the agent and no longer start it at login",
		RunE:  func(cmd *cobra.Command, _ []string) error { return a.uninstallService() },
	}
}

// agentStatusJSON is the stable --json shape of 'sesame agent status'.
type agentStatusJSON struct {
	Running   bool         `json:"running"`
	Installed string       `json:"installed,omitempty"` // the service file, when there is one
	State     *agent.State `json:"state,omitempty"`     // what the agent last wrote
}

func (a *app) agentStatusCmd() *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Say whether the agent runs and when it last reached each server (exit 1 when it does not run)",
		RunE: func(cmd *cobra.Command, _ []string) error {
			dir := a.getenv("SESAME_HOME")
			if dir == "" {
				var err error
				if dir, err = vault.DefaultDir(); err != nil {
					return err
				}
			}
			var out agentStatusJSON
			running, err := agent.Running(dir)
			if err != nil {
				return err
			}
			out.Running = running
			if p, err := serviceFile(); err == nil && p != "" {
				if _, err := os.Stat(p); err == nil {
					out.Installed = p
				}
			}
			if st, err := agent.ReadState(dir); err == nil {
				out.State = &st
			} else if !errors.Is(err, fs.ErrNotExist) {
				fmt.Fprintf(a.stderr, "sesame: %v\n", err)
			}
			if asJSON {
				if err := writeJSON(a.stdout, out); err != nil {
					return err
				}
			} else {
				a.printAgentStatus(out)
			}
			if !running {
				return errQuiet
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print the status as JSON")
	return cmd
}

func (a *app) printAgentStatus(s agentStatusJSON) {
	w := a.stdout
	now := a.now()
	ago := func(t time.Time) string { return now.Sub(t).Round(time.Second).String() + " ago" }
	switch {
	case s.Running && s.State != nil:
		fmt.Fprintf(w, "agent: running (pid %d, since %s)\n", s.State.PID, s.State.Started.Local().Format(time.DateTime))
	case s.Running:
		fmt.Fprintln(w, "agent: running")
	default:
		fmt.Fprintln(w, "agent: not running (start it with 'sesame agent', or 'sesame agent install' to start it at login)")
	}
	if s.Installed != "" {
		fmt.Fprintf(w, "service: installed (%s)\n", s.Installed)
	} else if p, _ := serviceFile(); p != "" {
		fmt.Fprintln(w, "service: not installed")
	}
	if s.State == nil {
		return
	}
	if !s.Running {
		fmt.Fprintf(w, "last run: updated %s\n", ago(s.State.Updated))
	}
	if s.State.Desktop != "ok" && s.State.Desktop != "" {
		fmt.Fprintf(w, "desktop notifications: not working (%s)\n", s.State.Desktop)
	} else {
		fmt.Fprintln(w, "desktop notifications: ok")
	}
	if len(s.State.Pairings) == 0 {
		fmt.Fprintln(w, "no pairings watched")
	}
	for _, p := range s.State.Pairings {
		reached := "never reached"
		if !p.LastReached.IsZero() {
			reached = "last reached " + ago(p.LastReached)
		}
		fmt.Fprintf(w, "%s; %s\n", p.Status, reached)
	}
}
