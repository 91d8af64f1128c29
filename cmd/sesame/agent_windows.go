//go:build windows && !lean

package main

import (
	"fmt"

	"github.com/sesame-auth/sesame/approve/agent"
)

// serviceFile is empty: a scheduled task has no file of ours.
func serviceFile() (string, error) { return "", nil }

func (a *app) installService(s agent.Service, _ bool) error {
	fmt.Fprintln(a.stdout, "To start the agent at every logon, run in a command prompt:")
	fmt.Fprint(a.stdout, agent.WindowsTask(s))
	return nil
}

func (a *app) uninstallService() error {
	fmt.Fprintln(a.stdout, "To stop starting the agent at logon, run in a command prompt:")
	fmt.Fprintln(a.stdout, agent.WindowsTaskDelete())
	return nil
}
