//go:build !lean

package main

// handOffEarly hands the command line to another program: never, this build
// is the whole program (see lean.go).
func (a *app) handOffEarly([]string) error { return nil }
