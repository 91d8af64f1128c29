//go:build !darwin && !windows && !lean

package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/sesame-auth/sesame/approve/agent"
	"github.com/sesame-auth/sesame/vault"
)

// serviceFile is where the systemd user unit goes.
func serviceFile() (string, error) {
	base, err := os.UserConfigDir()
	if err != nil {
		return "", fmt.Errorf("no folder for the systemd unit: %w (set XDG_CONFIG_HOME or HOME)", err)
	}
	return filepath.Join(base, "systemd", "user", agent.SystemdUnitName), nil
}

func (a *app) installService(s agent.Service, noStart bool) error {
	path, err := serviceFile()
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return err
	}
	if err := vault.WriteFile(path, []byte(agent.SystemdUnit(s))); err != nil {
		return fmt.Errorf("write the systemd unit: %w", err)
	}
	fmt.Fprintf(a.stdout, "wrote %s\n", path)
	if noStart {
		fmt.Fprintf(a.stdout, "start it with: systemctl --user daemon-reload && systemctl --user enable --now %s\n", agent.SystemdUnitName)
		return nil
	}
	if err := a.runTool("systemctl", "--user", "daemon-reload"); err != nil {
		return fmt.Errorf("%w: the unit is written; run 'systemctl --user enable --now %s' once the user's systemd runs, or start 'sesame agent' from your desktop's autostart", err, agent.SystemdUnitName)
	}
	if err := a.runTool("systemctl", "--user", "enable", "--now", agent.SystemdUnitName); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "enabled and started %s (logs: journalctl --user -u %s)\n", agent.SystemdUnitName, agent.SystemdUnitName)
	return nil
}

func (a *app) uninstallService() error {
	path, err := serviceFile()
	if err != nil {
		return err
	}
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("no agent service is installed (%s does not exist)", path)
	}
	if err := a.runTool("systemctl", "--user", "disable", "--now", agent.SystemdUnitName); err != nil {
		fmt.Fprintf(a.stderr, "sesame: %v; removing the unit anyway\n", err)
	}
	if err := os.Remove(path); err != nil {
		return err
	}
	a.runTool("systemctl", "--user", "daemon-reload")
	fmt.Fprintf(a.stdout, "removed %s\n", path)
	return nil
}
