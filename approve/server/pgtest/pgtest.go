// Package pgtest starts a throw-away PostgreSQL server for tests and
// benchmarks: initdb in a temporary folder, a random loopback port, no fsync,
// run as the postgres system user when the caller is root (PostgreSQL refuses
// to run as root).
package pgtest

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
)

// Server is a throw-away PostgreSQL server.
type Server struct {
	// Bin is the postgres binary it runs.
	Bin  string
	dir  string
	port int
	cmd  *exec.Cmd
	dbs  atomic.Int64
	// exited is closed when postgres has exited.
	exited chan struct{}
}

// pgBinaries finds initdb and postgres: Debian's PostgreSQL 15 (or another
// version) first, then PATH.
func pgBinaries() (initdb, postgres string, err error) {
	dirs, _ := filepath.Glob("/usr/lib/postgresql/*/bin")
	for i := len(dirs) - 1; i >= 0; i-- {
		a, b := filepath.Join(dirs[i], "initdb"), filepath.Join(dirs[i], "postgres")
		if _, err := os.Stat(a); err == nil {
			if _, err := os.Stat(b); err == nil {
				return a, b, nil
			}
		}
	}
	if initdb, err = exec.LookPath("initdb"); err != nil {
		return "", "", errors.New("no initdb in /usr/lib/postgresql/*/bin or on PATH")
	}
	if postgres, err = exec.LookPath("postgres"); err != nil {
		return "", "", errors.New("no postgres in /usr/lib/postgresql/*/bin or on PATH")
	}
	return initdb, postgres, nil
}

// asUser runs cmd as the postgres system user when we are root (PostgreSQL
// refuses to run as root) and chowns dir to it.
func asUser(dir string, cmds ...*exec.Cmd) error {
	if os.Geteuid() != 0 {
		return nil
	}
	u, err := user.Lookup("postgres")
	if err != nil {
		return fmt.Errorf("running as root needs the postgres system user to start PostgreSQL: %w", err)
	}
	uid, _ := strconv.Atoi(u.Uid)
	gid, _ := strconv.Atoi(u.Gid)
	err = filepath.Walk(dir, func(p string, _ os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		return os.Lchown(p, uid, gid)
	})
	if err != nil {
		return err
	}
	for _, c := range cmds {
		runAs(c, uid, gid)
	}
	return nil
}

// FreePort returns a loopback TCP port that was free a moment ago.
func FreePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// Start starts a throw-away PostgreSQL on loopback. It is tuned for
// tests (no fsync): never point it at data that matters. Settings
// ("name=value") are passed on as -c options after the test tuning, so they
// can undo it (fsync=on for a benchmark).
func Start(settings ...string) (*Server, error) {
	initdb, postgres, err := pgBinaries()
	if err != nil {
		return nil, err
	}
	base := ""
	if os.Geteuid() == 0 {
		// The postgres user must reach the folder: not a root-only TMPDIR.
		base = "/tmp"
	}
	dir, err := os.MkdirTemp(base, "sesame-pg-")
	if err != nil {
		return nil, err
	}
	data := filepath.Join(dir, "data")
	init := exec.Command(initdb, "-D", data, "-U", "sesame", "--auth=trust", "-E", "UTF8", "--no-sync", "--no-instructions")
	if err := asUser(dir, init); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	if out, err := init.CombinedOutput(); err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("initdb: %w\n%s", err, out)
	}
	for attempt := 0; ; attempt++ {
		port, err := FreePort()
		if err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		pg := &Server{Bin: postgres, dir: dir, port: port}
		pg.cmd = exec.Command(postgres, "-D", data, "-p", strconv.Itoa(port), "-k", dir,
			"-c", "listen_addresses=127.0.0.1", "-c", "fsync=off", "-c", "synchronous_commit=off",
			"-c", "full_page_writes=off", "-c", "max_connections=300", "-c", "shared_buffers=32MB")
		for _, kv := range settings {
			pg.cmd.Args = append(pg.cmd.Args, "-c", kv)
		}
		logf, _ := os.Create(filepath.Join(dir, "postgres.log"))
		pg.cmd.Stdout, pg.cmd.Stderr = logf, logf
		if err := asUser(dir, pg.cmd); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		if err := pg.cmd.Start(); err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		pg.exited = make(chan struct{})
		go func() { pg.cmd.Wait(); logf.Close(); close(pg.exited) }()
		if err := pg.waitReady(pg.exited); err != nil {
			pg.cmd.Process.Kill()
			<-pg.exited
			if attempt < 3 {
				continue // most likely the port was taken meanwhile
			}
			log, _ := os.ReadFile(filepath.Join(dir, "postgres.log"))
			os.RemoveAll(dir)
			return nil, fmt.Errorf("%w\n%s", err, log)
		}
		return pg, nil
	}
}

// URL is the connection URL of database db.
func (pg *Server) URL(db string) string {
	return fmt.Sprintf("postgres://sesame@127.0.0.1:%d/%s?sslmode=disable", pg.port, db)
}

func (pg *Server) waitReady(exited <-chan struct{}) error {
	deadline := time.Now().Add(30 * time.Second)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		c, err := pgx.Connect(ctx, pg.URL("postgres"))
		cancel()
		if err == nil {
			c.Close(context.Background())
			return nil
		}
		select {
		case <-exited:
			return errors.New("postgres exited at start")
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("postgres did not accept connections within 30s: %w", err)
		}
	}
}

// NewDatabase creates an empty database and returns its URL.
func (pg *Server) NewDatabase(ctx context.Context) (string, error) {
	name := fmt.Sprintf("t%d", pg.dbs.Add(1))
	c, err := pgx.Connect(ctx, pg.URL("postgres"))
	if err != nil {
		return "", err
	}
	defer c.Close(ctx)
	if _, err := c.Exec(ctx, "CREATE DATABASE "+name); err != nil {
		return "", err
	}
	return pg.URL(name), nil
}

// Stop shuts PostgreSQL down (fast mode) and removes its folder.
func (pg *Server) Stop() {
	pg.cmd.Process.Signal(syscall.SIGINT)
	select {
	case <-pg.exited:
	case <-time.After(20 * time.Second):
		pg.cmd.Process.Kill()
		<-pg.exited
	}
	os.RemoveAll(pg.dir)
}
