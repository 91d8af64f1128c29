//go:build darwin && !lean

package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	"github.com/sesame-auth/sesame/approve/agent"
	"github.com/sesame-auth/sesame/vault"
)

// serviceFile is where the launchd agent goes.
func serviceFile() (string, error) {
	home, err := os.UserHomeDir()
	if err != nil {
		return "", err
	}
	return filepath.Join(home, "Library", "LaunchAgents", agent.LaunchdLabel+".plist"), nil
}

func launchdDomain() string { return "gui/" + strconv.Itoa(os.Getuid()) }

func (a *app) installService(s agent.Service, noStart bool) error {
	path, err := serviceFile()
	if err != nil {
		return err
	}
	home, _ := os.UserHomeDir()
	logPath := filepath.Join(home, "Library", "Logs", "sesame-agent.log")
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	if err := vault.WriteFile(path, []byte(agent.LaunchdPlist(s, logPath))); err != nil {
		return fmt.Errorf("write the launchd agent: %w", err)
	}
	fmt.Fprintf(a.stdout, "wrote %s\n", path)
	if noStart {
		fmt.Fprintf(a.stdout, "start it with: launchctl bootstrap %s %s\n", launchdDomain(), path)
		return nil
	}
	a.runTool("launchctl", "bootout", launchdDomain()+"/"+agent.LaunchdLabel) // an older one, if loaded
	if err := a.runTool("launchctl", "bootstrap", launchdDomain(), path); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "loaded %s (logs: %s)\n", agent.LaunchdLabel, logPath)
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
	if err := a.runTool("launchctl", "bootout", launchdDomain()+"/"+agent.LaunchdLabel); err != nil {
		fmt.Fprintf(a.stderr, "sesame: %v; removing the agent file anyway\n", err)
	}
	if err := os.Remove(path); err != nil {
		return err
	}
	fmt.Fprintf(a.stdout, "removed %s\n", path)
	return nil
}
