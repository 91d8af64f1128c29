package agent

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/gofrs/flock"

	"github.com/sesame-auth/sesame/vault"
)

// Files of the agent in the vault's folder.
const (
	LockName  = "agent.lock"
	StateName = "agent.json"
)

// maxStateSize caps what ReadState reads.
const maxStateSize = 1 << 20

// ErrRunning is returned by Lock when another agent watches the vault.
var ErrRunning = errors.New("a sesame agent is already watching this vault")

// State is what the agent writes for 'sesame agent status'. Nothing in it
// is secret: pairing IDs, labels and states.
type State struct {
	PID      int            `json:"pid"`
	Started  time.Time      `json:"started"`
	Updated  time.Time      `json:"updated"`
	Desktop  string         `json:"desktop"` // "ok", or why desktop notifications fail
	Pairings []PairingState `json:"pairings"`
}

// PairingState is one watched pairing.
type PairingState struct {
	ID          string    `json:"id"`
	Label       string    `json:"label"`
	State       string    `json:"state"`  // a approve.State
	Status      string    `json:"status"` // the status line, e.g. "alice@example.com: ok"
	LastReached time.Time `json:"last_reached,omitzero"`
}

func sortPairings(ps []PairingState) {
	slices.SortFunc(ps, func(a, b PairingState) int { return strings.Compare(a.Label+a.ID, b.Label+b.ID) })
}

// Lock takes the agent lock of the vault in dir for as long as the process
// runs, or until unlock. It fails with ErrRunning when another agent holds it.
func Lock(dir string) (unlock func(), err error) {
	fl := flock.New(filepath.Join(dir, LockName))
	ok, err := fl.TryLock()
	if err != nil {
		return nil, fmt.Errorf("take the agent lock: %w", err)
	}
	if !ok {
		return nil, runningError(dir)
	}
	return func() { _ = fl.Unlock() }, nil
}

func runningError(dir string) error {
	if st, err := ReadState(dir); err == nil && st.PID > 0 {
		return fmt.Errorf("%w (pid %d): stop it first ('sesame agent uninstall', or end that process)", ErrRunning, st.PID)
	}
	return fmt.Errorf("%w: stop it first ('sesame agent uninstall', or end that process)", ErrRunning)
}

// Running reports whether an agent holds the lock of the vault in dir.
func Running(dir string) (bool, error) {
	fl := flock.New(filepath.Join(dir, LockName))
	ok, err := fl.TryLock()
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("check the agent lock: %w", err)
	}
	if ok {
		fl.Unlock()
	}
	return !ok, nil
}

// WriteState writes st (with this process's ID) to the vault folder dir,
// atomically.
func WriteState(dir string, st State) error {
	st.PID = os.Getpid()
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return err
	}
	return vault.WriteFile(filepath.Join(dir, StateName), append(b, '\n'))
}

// ReadState reads the state the last agent of the vault in dir wrote.
func ReadState(dir string) (State, error) {
	var st State
	f, err := os.Open(filepath.Join(dir, StateName))
	if err != nil {
		return st, err
	}
	defer f.Close()
	b := make([]byte, maxStateSize+1)
	n, _ := io.ReadFull(f, b)
	if n > maxStateSize {
		return st, fmt.Errorf("%s is larger than %d bytes: delete it", StateName, maxStateSize)
	}
	if err := json.Unmarshal(b[:n], &st); err != nil {
		return st, fmt.Errorf("%s is damaged (%v): delete it; the agent writes it again", StateName, err)
	}
	return st, nil
}
