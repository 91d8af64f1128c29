//go:build !linux && !darwin

package main

// harden does nothing here: Windows writes no core files unless the user
// set up Windows Error Reporting dumps, and other systems are untested.
func harden() {}
