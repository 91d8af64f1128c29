package main

import "golang.org/x/sys/unix"

// harden keeps the decrypted vault and passphrases out of core dumps: the
// process is made non-dumpable (which also keeps other processes of the same
// user from attaching to it or reading its memory through /proc) and its
// core size limit is set to zero. Failures are ignored: neither call can
// fail for an unprivileged process that is allowed to run at all.
func harden() {
	_ = unix.Prctl(unix.PR_SET_DUMPABLE, 0, 0, 0, 0)
	_ = unix.Setrlimit(unix.RLIMIT_CORE, &unix.Rlimit{})
}
