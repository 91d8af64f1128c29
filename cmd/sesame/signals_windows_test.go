//go:build !lean

package main

// signalChild needs Unix signals: the signal tests do not run here.
func signalChild(string) int { return 3 }
