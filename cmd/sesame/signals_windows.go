package main

import "os"

// endBy ends the process with the status a shell gives one that s ended.
func endBy(s os.Signal) { os.Exit(exitStatus(s)) }
