// Command keyringprobe writes an item to the OS keyring, reads it back and
// deletes it, as Sesame does before it makes a keyring vault
// (vault.ProbeKeyring): the writes go through go-keyring, the read through
// Sesame's direct read. scripts/keyring-stress runs it many times with
// WRITES=1.
package main

import (
	"fmt"
	"os"

	"github.com/sesame-auth/sesame/vault"
)

func main() {
	if err := vault.ProbeKeyring(vault.SystemKeyring{}); err != nil {
		fmt.Fprintln(os.Stderr, "keyringprobe:", err)
		os.Exit(1)
	}
}
