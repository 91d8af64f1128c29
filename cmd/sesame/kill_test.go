//go:build !lean

package main

import (
	"encoding/base32"
	"errors"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/vault"
	"github.com/sesame-auth/sesame/vault/vaulttest"
)

var killRounds = flag.Int("killtest.rounds", 15, "random kills of TestKillCommands (scripts/killtest sets it)")

// cliChildEnv makes the test binary run as the sesame command (see
// TestMain): the whole process, signals and all, with a cheap scrypt work
// factor for the vaults it creates, which no build of the real command has.
const cliChildEnv = "SESAME_TEST_RUN_AS_CLI"

// runAsCLI runs the command line of the test binary's process as sesame.
func runAsCLI() int {
	return runProcess(&app{
		stdin: os.Stdin, stdout: os.Stdout, stderr: os.Stderr,
		getenv: os.Getenv, now: time.Now, scryptWork: 10,
	}, os.Args[1:])
}

// killState is what a kill test knows of the vault: its passphrase and its
// accounts as "issuer/name" labels, sorted.
type killState struct {
	passphrase string
	accounts   []string
}

// killOp is one command a round starts and kills, with the state it leaves
// when it completes.
type killOp struct {
	name string
	args []string
	env  []string
	want killState
}

// TestKillCommands starts add, rm, rename, import and passwd (at random)
// as the real command in a process of its own and kills it (SIGKILL) at a
// random moment, measured against how long the command takes: after every
// kill the vault must open with exactly the old or the new passphrase and
// hold exactly the old or the new accounts, and no kill may leave the new
// vault beside a backup that the old passphrase opens. scripts/killtest N
// runs N rounds; the suite runs a few.
func TestKillCommands(t *testing.T) {
	t.Parallel() // mostly waiting on its children; its vault is its own
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	home := filepath.Join(t.TempDir(), "sesame")
	rng := rand.New(rand.NewPCG(7, uint64(time.Now().UnixNano())))
	state := killState{passphrase: "passphrase 0"}
	importFile := filepath.Join(t.TempDir(), "import.txt")

	run := func(op killOp) *exec.Cmd {
		cmd := exec.Command(exe, op.args...)
		cmd.Env = append(os.Environ(), cliChildEnv+"=1", "SESAME_HOME="+home, "SESAME_PASSPHRASE="+state.passphrase)
		cmd.Env = append(cmd.Env, op.env...)
		return cmd
	}
	// The first vault, with a few accounts, made by the command itself.
	for i := range 4 {
		op := addOp(state, i)
		if i == 0 {
			op.args = append(op.args, "--store", "passphrase")
		}
		cmd := run(op)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("sesame %s: %v\n%s", strings.Join(op.args, " "), err, out)
		}
		state = op.want
	}
	// How long each kind of command takes here, to spread the kills over it.
	took := map[string]time.Duration{}
	serial := 4
	next := func() killOp {
		serial++
		switch n := rng.IntN(5); {
		case n == 0:
			return addOp(state, serial)
		case n == 1 && len(state.accounts) > 2:
			return rmOp(state, rng)
		case n == 2:
			return renameOp(state, rng, serial)
		case n == 3:
			return importOp(state, importFile, serial)
		default:
			return passwdOp(state, serial)
		}
	}
	kills, completed := 0, 0
	for round := range *killRounds {
		op := next()
		if op.name == "import" {
			writeImport(t, importFile, op, state)
		}
		cmd := run(op)
		var out strings.Builder
		cmd.Stdout, cmd.Stderr = &out, &out
		d, measured := took[op.name]
		start := time.Now()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		if measured {
			// A moment in the command's life, or a little after it.
			time.Sleep(time.Duration(rng.Int64N(int64(d + d/5))))
			_ = cmd.Process.Kill()
		}
		err := cmd.Wait()
		if !measured {
			if err != nil {
				t.Fatalf("round %d: sesame %s: %v\n%s", round, strings.Join(op.args, " "), err, out.String())
			}
			took[op.name] = time.Since(start)
		}
		var ee *exec.ExitError
		switch {
		case err == nil:
			completed++
		case errors.As(err, &ee) && !ee.Exited():
			kills++
		default:
			t.Fatalf("round %d: sesame %s failed on its own: %v\n%s", round, strings.Join(op.args, " "), err, out.String())
		}
		got := checkAfterKill(t, home, state, op.want)
		if err == nil && !slices.Equal(got.accounts, op.want.accounts) || err == nil && got.passphrase != op.want.passphrase {
			t.Fatalf("round %d: sesame %s completed, but the vault holds the old state", round, op.name)
		}
		state = got
	}
	t.Logf("%d rounds: %d killed mid-way or before the end, %d completed first", *killRounds, kills, completed)
	// A command after all those kills leaves no temporary file behind.
	op := addOp(state, serial+1)
	cmd := run(op)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("add after the kills: %v\n%s", err, out)
	}
	entries, _ := os.ReadDir(home)
	for _, e := range entries {
		switch e.Name() {
		case vault.FileName, vault.BackupName, "vault.lock":
		default:
			t.Errorf("%s is left in the vault folder after a completed command", e.Name())
		}
	}
}

// checkAfterKill opens the vault with the old and the new passphrase: it
// must open with one of them, hold exactly the old or the new accounts, and
// if it is the new vault of a passphrase change, the backup must not open
// with the old passphrase. It returns the state found.
func checkAfterKill(t *testing.T, home string, old, next killState) killState {
	t.Helper()
	open := func(path, passphrase string) ([]string, error) {
		dir := t.TempDir()
		b, err := os.ReadFile(path)
		if err != nil {
			return nil, err
		}
		if err := os.WriteFile(filepath.Join(dir, vault.FileName), b, 0o600); err != nil {
			t.Fatal(err)
		}
		v, err := vault.Open(vault.Options{Dir: dir, Passphrase: []byte(passphrase), Keyring: vaulttest.NewKeyring()})
		if err != nil {
			return nil, err
		}
		return labels(v.Data()), nil
	}
	path := filepath.Join(home, vault.FileName)
	found := killState{passphrase: old.passphrase}
	accounts, err := open(path, old.passphrase)
	if errors.Is(err, vault.ErrWrongPassphrase) && next.passphrase != old.passphrase {
		found.passphrase = next.passphrase
		accounts, err = open(path, next.passphrase)
	}
	if err != nil {
		t.Fatalf("the vault does not open with the old or the new passphrase after a kill: %v", err)
	}
	found.accounts = accounts
	if !slices.Equal(accounts, old.accounts) && !slices.Equal(accounts, next.accounts) {
		t.Fatalf("after a kill the vault holds %v: neither the old %v nor the new %v", accounts, old.accounts, next.accounts)
	}
	if found.passphrase != old.passphrase {
		if _, err := open(filepath.Join(home, vault.BackupName), old.passphrase); !errors.Is(err, vault.ErrWrongPassphrase) {
			t.Fatalf("the vault has the new passphrase, but its backup opens with the old one (or fails otherwise: %v)", err)
		}
	}
	return found
}

func labels(d vault.Data) []string {
	var out []string
	for _, a := range d.Accounts {
		out = append(out, a.Issuer+"/"+a.Name)
	}
	slices.Sort(out)
	return out
}

func with(accounts []string, more ...string) []string {
	out := append(slices.Clone(accounts), more...)
	slices.Sort(out)
	return out
}

func killSecret(i int) string {
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(fmt.Appendf(nil, "kill-test-secret-%04d", i))
}

func addOp(s killState, i int) killOp {
	name := fmt.Sprintf("a%d", i)
	return killOp{name: "add", args: []string{"add", fmt.Sprintf("otpauth://totp/Kill:%s?secret=%s", name, killSecret(i))},
		want: killState{s.passphrase, with(s.accounts, "Kill/"+name)}}
}

func rmOp(s killState, rng *rand.Rand) killOp {
	victim := s.accounts[rng.IntN(len(s.accounts))]
	_, name, _ := strings.Cut(victim, "/")
	rest := slices.DeleteFunc(slices.Clone(s.accounts), func(a string) bool { return a == victim })
	return killOp{name: "rm", args: []string{"rm", name, "--yes"}, want: killState{s.passphrase, rest}}
}

func renameOp(s killState, rng *rand.Rand, i int) killOp {
	victim := s.accounts[rng.IntN(len(s.accounts))]
	issuer, name, _ := strings.Cut(victim, "/")
	to := fmt.Sprintf("r%d", i)
	rest := slices.DeleteFunc(slices.Clone(s.accounts), func(a string) bool { return a == victim })
	return killOp{name: "rename", args: []string{"rename", name, "--name", to}, want: killState{s.passphrase, with(rest, issuer+"/"+to)}}
}

// importOp imports three new accounts from a file of URIs.
func importOp(s killState, file string, i int) killOp {
	names := []string{fmt.Sprintf("i%d-1", i), fmt.Sprintf("i%d-2", i), fmt.Sprintf("i%d-3", i)}
	var added []string
	for _, n := range names {
		added = append(added, "Import/"+n)
	}
	return killOp{name: "import", args: []string{"import", file}, want: killState{s.passphrase, with(s.accounts, added...)}}
}

func writeImport(t *testing.T, file string, op killOp, s killState) {
	t.Helper()
	var b strings.Builder
	for _, a := range op.want.accounts {
		if issuer, name, _ := strings.Cut(a, "/"); issuer == "Import" && !slices.Contains(s.accounts, a) {
			fmt.Fprintf(&b, "otpauth://totp/Import:%s?secret=%s\n", name, killSecret(len(name)))
		}
	}
	if err := os.WriteFile(file, []byte(b.String()), 0o600); err != nil {
		t.Fatal(err)
	}
}

func passwdOp(s killState, i int) killOp {
	p := fmt.Sprintf("passphrase %d", i)
	return killOp{name: "passwd", args: []string{"passwd"}, env: []string{"SESAME_NEW_PASSPHRASE=" + p}, want: killState{p, s.accounts}}
}
