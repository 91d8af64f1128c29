package main

import "golang.org/x/sys/unix"

// harden keeps the decrypted vault and passphrases out of core dumps by
// setting the core size limit to zero (macOS has no PR_SET_DUMPABLE).
func harden() {
	_ = unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{})
}
