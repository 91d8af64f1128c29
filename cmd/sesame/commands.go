//go:build !lean

package main

import "github.com/spf13/cobra"

// addCommands gives root every command and flag: this build is the whole
// program (see lean.go for the other one).
func (a *app) addCommands(root *cobra.Command) {
	root.RunE = func(cmd *cobra.Command, _ []string) error { return a.runTUI(cmd) }
	a.addTUIFlags(root)
	root.AddCommand(
		a.addCmd(),
		a.listCmd(),
		a.codeCmd(),
		a.rmCmd(),
		a.renameCmd(),
		a.passwdCmd(),
		a.recoverCmd(),
		a.unlockCmd(),
		a.lockCmd(),
		a.importCmd(),
		a.exportCmd(),
		a.clearClipboardCmd(),
		a.manCmd(),
	)
	root.AddCommand(a.approveCmds()...)
	root.AddCommand(a.agentCmd())
	usageErrors(root.Commands())
	a.addCompletions(root)
}
