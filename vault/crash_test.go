package vault_test

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/vault"
	"github.com/sesame-auth/sesame/vault/vaulttest"
)

// The writer child: when SESAME_CRASH_CHILD names a vault folder, the test
// binary opens that passphrase vault and adds accounts one by one forever,
// printing the number of accounts after each completed write.
func TestMain(m *testing.M) {
	if dir := os.Getenv("SESAME_CRASH_CHILD"); dir != "" {
		crashChild(dir)
		return
	}
	os.Exit(m.Run())
}

func crashChild(dir string) {
	v, err := vault.Open(vault.Options{Dir: dir, Passphrase: []byte(vaulttest.Passphrase), Keyring: vaulttest.NewKeyring()})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(3)
	}
	out := bufio.NewWriter(os.Stdout)
	for i := 0; ; i++ {
		d, err := v.Update(func(d *vault.Data) error {
			_, err := d.Add(vaulttest.Account("Crash", "account-"+strconv.Itoa(len(d.Accounts))), time.Unix(0, 0))
			return err
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(4)
		}
		fmt.Fprintln(out, len(d.Accounts))
		out.Flush()
	}
}

// TestCrashDuringWrites kills a writing process at random moments and then
// opens the vault: it must always open, holding the accounts of the last
// completed write or of the one in flight, never fewer.
func TestCrashDuringWrites(t *testing.T) {
	t.Parallel() // its vault is its own
	if testing.Short() {
		t.Skip("kills child processes many times")
	}
	v := vaulttest.NewPassphrase(t)
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	rng := rand.New(rand.NewPCG(1, uint64(time.Now().UnixNano())))
	const rounds = 40
	for round := range rounds {
		cmd := exec.Command(exe, "-test.run=^$")
		cmd.Env = append(os.Environ(), "SESAME_CRASH_CHILD="+v.Dir())
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		// Let the child complete a random number of writes, then kill it a
		// random fraction of a write later, so that kills land in every phase
		// of a write. The delay picks the moment; it synchronises nothing.
		confirmed, before := 0, len(mustOpen(t, v.Dir()).Data().Accounts)
		lines := bufio.NewScanner(stdout)
		for range 1 + rng.IntN(3) {
			if !lines.Scan() {
				t.Fatalf("round %d: the writer stopped early: %v", round, cmd.Wait())
			}
			confirmed, _ = strconv.Atoi(lines.Text())
		}
		time.Sleep(time.Duration(rng.IntN(3000)) * time.Microsecond)
		_ = cmd.Process.Kill()
		for lines.Scan() { // writes that completed before the kill landed
			confirmed, _ = strconv.Atoi(lines.Text())
		}
		_ = cmd.Wait()

		got := len(mustOpen(t, v.Dir()).Data().Accounts)
		if got != confirmed && got != confirmed+1 {
			t.Fatalf("round %d: vault holds %d accounts; the writer had confirmed %d (started from %d)", round, got, confirmed, before)
		}
	}
	// Kills during a write leave temporary files behind; a successful write
	// removes them all. (An Update that changes nothing writes nothing, so
	// this one adds an account.)
	if _, err := mustOpen(t, v.Dir()).Update(func(d *vault.Data) error {
		_, err := d.Add(vaulttest.Account("After", "the kills"), time.Unix(0, 0))
		return err
	}); err != nil {
		t.Fatal(err)
	}
	assertNoTempFiles(t, v.Dir())
}

func mustOpen(t *testing.T, dir string) *vault.Vault {
	t.Helper()
	w, err := vault.Open(vault.Options{Dir: dir, Passphrase: []byte(vaulttest.Passphrase), Keyring: vaulttest.NewKeyring()})
	if err != nil {
		t.Fatalf("the vault does not open after a crash: %v", err)
	}
	return w
}
