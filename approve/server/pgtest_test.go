package server

import (
	"context"
	"flag"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/approve/server/pgtest"
)

// The whole suite runs once per store: TestMain runs the tests with the
// memory store, then starts a PostgreSQL server of its own (a temporary data
// folder, a random loopback port, an unprivileged user) and runs them again
// with every test's store in a fresh database there.

// testStoreKind is the store newEnv gives the tests in this pass.
var testStoreKind = "memory"

// testPG is the PostgreSQL server of the postgres pass; nil in the memory pass.
var testPG *pgtest.Server

func runEveryStore(m *testing.M) int {
	// PostgreSQL starts (initdb and all) while the memory pass runs.
	type started struct {
		pg  *pgtest.Server
		err error
	}
	starting := make(chan started, 1)
	go func() {
		pg, err := pgtest.Start()
		starting <- started{pg, err}
	}()
	code := m.Run()
	s := <-starting
	pg, err := s.pg, s.err
	if f := flag.Lookup("test.bench"); f != nil && f.Value.String() != "" {
		if err == nil {
			pg.Stop()
		}
		return code
	}
	if err != nil {
		if os.Getenv("CI") != "" {
			fmt.Fprintf(os.Stderr, "FAIL: the PostgreSQL pass of the server tests could not start: %v\n", err)
			return 1
		}
		fmt.Fprintf(os.Stderr, "SKIP: the PostgreSQL pass of the server tests (install the postgresql package to run it): %v\n", err)
		return code
	}
	defer pg.Stop()
	testPG, testStoreKind = pg, "postgres"
	fmt.Fprintf(os.Stderr, "== the server tests again, on PostgreSQL (%s)\n", pg.Bin)
	if c := m.Run(); c != 0 {
		code = c
	}
	return code
}

// testStore returns a fresh store of this pass's kind.
func testStore(t *testing.T) Store {
	t.Helper()
	if testPG == nil {
		return NewMemoryStore()
	}
	st, err := OpenPostgres(context.Background(), newDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// needPostgres skips a PostgreSQL-only test outside the postgres pass.
func needPostgres(t *testing.T) *pgtest.Server {
	t.Helper()
	if testPG == nil {
		t.Skip("runs in the PostgreSQL pass of the suite")
	}
	return testPG
}

// newDatabase creates an empty database on testPG for one test.
func newDatabase(t *testing.T) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	url, err := needPostgres(t).NewDatabase(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return url
}
