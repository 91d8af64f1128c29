//go:build !lean

package main

// signalChildEnv is for the signal tests, which need Unix signals.
const signalChildEnv = "SESAME_TEST_SIGNAL_CHILD"

func signalChild(string) int { return 3 }
