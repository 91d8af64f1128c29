package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/sesame-auth/sesame/approve"
)

// Postgres is a Store in a PostgreSQL database that several server
// processes (replicas) share. Besides the server's records it carries what
// the replicas must agree on: wake-ups through LISTEN/NOTIFY, so that a
// device waiting on one replica learns at once of a sign-in started on
// another, and the nonces of device requests, so that a replay is refused
// whichever replica sees it. Create it with OpenPostgres.
//
// Updates are serialised across every replica by one advisory lock held for
// the transaction, as Store promises; views read committed data without a
// transaction.
type Postgres struct {
	pool    *pgxpool.Pool
	listen  *pgx.ConnConfig
	replica string // tags this process's notifications, to skip its own
	ctx     context.Context
	cancel  context.CancelFunc
	done    chan struct{}

	mu        sync.Mutex
	wake      func(user string)
	wakeAll   func()
	listening bool
}

// ErrUnavailable wraps a store failure that is not the request's fault (the
// database is unreachable or failing): the server answers 503 unavailable.
var ErrUnavailable = errors.New("the server's database is unavailable")

// ErrSchemaTooNew is returned by OpenPostgres for a database migrated by a
// newer version of Sesame.
var ErrSchemaTooNew = errors.New("the database's schema is newer than this server knows")

const (
	pgChannel     = "sesame_wake"
	pgLockMigrate = int64(0x5e5a_4e01) // advisory lock keys, fixed for every replica
	pgLockUpdate  = int64(0x5e5a_4e02)
	pgOpTimeout   = 10 * time.Second
	pgNonceKeep   = 10 * time.Minute // well over 2*MaxClockSkew, in the database's clock
)

// pgMigrations are the schema versions in order: pgMigrations[i] takes a
// database from version i to i+1. Only ever append.
var pgMigrations = []string{
	`CREATE TABLE sesame_kv (
		bucket text NOT NULL,
		key bytea NOT NULL,
		value bytea NOT NULL,
		PRIMARY KEY (bucket, key)
	);
	CREATE UNLOGGED TABLE sesame_nonces (
		key text PRIMARY KEY,
		at timestamptz NOT NULL
	);
	CREATE INDEX sesame_nonces_at ON sesame_nonces (at);`,
}

// PostgresSchemaVersion is the schema version this server migrates to.
var PostgresSchemaVersion = len(pgMigrations)

// OpenPostgres connects to the database at url (postgres://user@host/db?...),
// creates or migrates its tables, and starts listening for other replicas'
// wake-ups. Close stops it.
func OpenPostgres(ctx context.Context, url string) (*Postgres, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("the database URL: %w", err)
	}
	if !strings.Contains(url, "pool_max_conns") {
		// pgx's default (the larger of 4 and the CPUs) queues long-polls
		// behind each other when thousands of devices reconnect at once.
		cfg.MaxConns = 16
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = 5 * time.Second
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("the database URL: %w", err)
	}
	where := fmt.Sprintf("%s:%d/%s", cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database)
	pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	if err := pool.Ping(pctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("cannot reach the database at %s: %w: check --database and that PostgreSQL is running", where, err)
	}
	if err := pgMigrate(pctx, pool); err != nil {
		pool.Close()
		return nil, err
	}
	var id [8]byte
	rand.Read(id[:])
	p := &Postgres{pool: pool, listen: cfg.ConnConfig.Copy(), replica: hex.EncodeToString(id[:]), done: make(chan struct{})}
	p.ctx, p.cancel = context.WithCancel(context.Background())
	go p.listenLoop()
	go p.sweepNonces()
	return p, nil
}

// pgMigrate brings the schema to PostgresSchemaVersion under an advisory
// lock, so that replicas starting together migrate once.
func pgMigrate(ctx context.Context, pool *pgxpool.Pool) error {
	conn, err := pool.Acquire(ctx)
	if err != nil {
		return fmt.Errorf("migrating the database: %w", err)
	}
	defer conn.Release()
	if _, err := conn.Exec(ctx, "SELECT pg_advisory_lock($1)", pgLockMigrate); err != nil {
		return fmt.Errorf("migrating the database: %w", err)
	}
	defer func() {
		ctx, cancel := cleanupContext()
		defer cancel()
		conn.Exec(ctx, "SELECT pg_advisory_unlock($1)", pgLockMigrate)
	}()
	if _, err := conn.Exec(ctx, "CREATE TABLE IF NOT EXISTS sesame_schema (version integer NOT NULL)"); err != nil {
		return fmt.Errorf("migrating the database: %w", err)
	}
	var version int
	err = conn.QueryRow(ctx, "SELECT version FROM sesame_schema").Scan(&version)
	if errors.Is(err, pgx.ErrNoRows) {
		_, err = conn.Exec(ctx, "INSERT INTO sesame_schema (version) VALUES (0)")
	}
	if err != nil {
		return fmt.Errorf("migrating the database: %w", err)
	}
	if version > len(pgMigrations) {
		return fmt.Errorf("%w: the database is at schema version %d, this server knows versions up to %d: upgrade this server (or restore a backup of the database)",
			ErrSchemaTooNew, version, len(pgMigrations))
	}
	for v := version; v < len(pgMigrations); v++ {
		err := pgx.BeginFunc(ctx, conn, func(tx pgx.Tx) error {
			if _, err := tx.Exec(ctx, pgMigrations[v]); err != nil {
				return err
			}
			_, err := tx.Exec(ctx, "UPDATE sesame_schema SET version = $1", v+1)
			return err
		})
		if err != nil {
			return fmt.Errorf("migrating the database to schema version %d: %w", v+1, err)
		}
	}
	return nil
}

// Close stops listening and closes the connections.
func (p *Postgres) Close() error {
	p.cancel()
	<-p.done
	p.pool.Close()
	return nil
}

// cleanupContext bounds a rollback, unlock or close, which must not hang on
// a database that stopped answering.
func cleanupContext() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), 5*time.Second)
}

func closeConn(c *pgx.Conn) {
	ctx, cancel := cleanupContext()
	defer cancel()
	c.Close(ctx)
}

// pgQuerier is what a transaction and the pool have in common.
type pgQuerier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

type pgTx struct {
	ctx      context.Context
	q        pgQuerier
	writable bool
	err      error // the first database error: the whole View or Update fails with it
}

func unavailable(err error) error {
	if err == nil || errors.Is(err, ErrUnavailable) {
		return err
	}
	return fmt.Errorf("%w: %w", ErrUnavailable, err)
}

// Update runs fn in a transaction that holds the update lock.
func (p *Postgres) Update(fn func(Tx) error) error {
	ctx, cancel := context.WithTimeout(p.ctx, pgOpTimeout)
	defer cancel()
	tx, err := p.pool.Begin(ctx)
	if err != nil {
		return unavailable(err)
	}
	defer func() { // a no-op after Commit
		ctx, cancel := cleanupContext()
		defer cancel()
		tx.Rollback(ctx)
	}()
	if _, err := tx.Exec(ctx, "SELECT pg_advisory_xact_lock($1)", pgLockUpdate); err != nil {
		return unavailable(err)
	}
	t := &pgTx{ctx: ctx, q: tx, writable: true}
	ferr := fn(t)
	if t.err != nil {
		return unavailable(t.err)
	}
	if ferr != nil {
		return ferr
	}
	return unavailable(tx.Commit(ctx))
}

// View runs fn on committed data.
func (p *Postgres) View(fn func(Tx) error) error {
	ctx, cancel := context.WithTimeout(p.ctx, pgOpTimeout)
	defer cancel()
	t := &pgTx{ctx: ctx, q: p.pool}
	ferr := fn(t)
	if t.err != nil {
		return unavailable(t.err)
	}
	return ferr
}

func (t *pgTx) fail(err error) error {
	if t.err == nil {
		t.err = err
	}
	return t.err
}

func (t *pgTx) Get(b, k string) []byte {
	if t.err != nil {
		return nil
	}
	var v []byte
	err := t.q.QueryRow(t.ctx, "SELECT value FROM sesame_kv WHERE bucket = $1 AND key = $2", b, []byte(k)).Scan(&v)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil
	}
	if err != nil {
		t.fail(err)
		return nil
	}
	if v == nil {
		v = []byte{}
	}
	return v
}

func (t *pgTx) Put(b, k string, v []byte) error {
	if !t.writable {
		return ErrReadOnly
	}
	if t.err != nil {
		return t.err
	}
	if v == nil {
		v = []byte{}
	}
	_, err := t.q.Exec(t.ctx, `INSERT INTO sesame_kv (bucket, key, value) VALUES ($1, $2, $3)
		ON CONFLICT (bucket, key) DO UPDATE SET value = excluded.value`, b, []byte(k), v)
	if err != nil {
		return t.fail(err)
	}
	return nil
}

func (t *pgTx) Delete(b, k string) error {
	if !t.writable {
		return ErrReadOnly
	}
	if t.err != nil {
		return t.err
	}
	if _, err := t.q.Exec(t.ctx, "DELETE FROM sesame_kv WHERE bucket = $1 AND key = $2", b, []byte(k)); err != nil {
		return t.fail(err)
	}
	return nil
}

// prefixEnd is the smallest key above every key that starts with prefix, or
// nil when there is none.
func prefixEnd(prefix []byte) []byte {
	end := []byte(string(prefix))
	for i := len(end) - 1; i >= 0; i-- {
		if end[i] < 0xff {
			end[i]++
			return end[:i+1]
		}
	}
	return nil
}

func (t *pgTx) Scan(b, prefix string, fn func(string, []byte) error) error {
	if t.err != nil {
		return t.err
	}
	// Read everything first: fn may query again on the same connection.
	rows, err := t.q.Query(t.ctx, `SELECT key, value FROM sesame_kv
		WHERE bucket = $1 AND key >= $2 AND ($3::bytea IS NULL OR key < $3) ORDER BY key`,
		b, []byte(prefix), prefixEnd([]byte(prefix)))
	if err != nil {
		return t.fail(err)
	}
	type kv struct {
		k string
		v []byte
	}
	var all []kv
	for rows.Next() {
		var k, v []byte
		if err := rows.Scan(&k, &v); err != nil {
			rows.Close()
			return t.fail(err)
		}
		all = append(all, kv{string(k), v})
	}
	if err := rows.Err(); err != nil {
		return t.fail(err)
	}
	for _, e := range all {
		if err := fn(e.k, e.v); err != nil {
			return err
		}
	}
	return nil
}

// --- what the replicas share besides records (the sharedStore interface) ---

func (p *Postgres) subscribe(wake func(user string), wakeAll func()) {
	p.mu.Lock()
	p.wake, p.wakeAll = wake, wakeAll
	p.mu.Unlock()
}

func (p *Postgres) publish(user string) error {
	ctx, cancel := context.WithTimeout(p.ctx, pgOpTimeout)
	defer cancel()
	_, err := p.pool.Exec(ctx, "SELECT pg_notify($1, $2)", pgChannel, p.replica+":"+user)
	return unavailable(err)
}

func (p *Postgres) addNonce(key string, now time.Time, life time.Duration) (bool, error) {
	ctx, cancel := context.WithTimeout(p.ctx, pgOpTimeout)
	defer cancel()
	// A nonce older than life is as good as new: take it over.
	tag, err := p.pool.Exec(ctx, `INSERT INTO sesame_nonces (key, at) VALUES ($1, $2)
		ON CONFLICT (key) DO UPDATE SET at = excluded.at WHERE sesame_nonces.at <= $3`, key, now, now.Add(-life))
	if err != nil {
		return false, unavailable(err)
	}
	return tag.RowsAffected() == 1, nil
}

// ready reports whether the database answers and wake-ups are being received.
func (p *Postgres) ready(ctx context.Context) error {
	if err := p.pool.Ping(ctx); err != nil {
		return unavailable(err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if !p.listening {
		return fmt.Errorf("%w: not listening for other replicas' wake-ups", ErrUnavailable)
	}
	return nil
}

func (p *Postgres) setListening(on bool) {
	p.mu.Lock()
	p.listening = on
	wakeAll := p.wakeAll
	p.mu.Unlock()
	if on && wakeAll != nil {
		// Anything published while no one listened is lost: let every
		// waiter look again.
		wakeAll()
	}
}

// listenLoop holds one connection that LISTENs for wake-ups, reconnecting
// with backoff when it is lost.
func (p *Postgres) listenLoop() {
	defer close(p.done)
	for attempt := 0; p.ctx.Err() == nil; attempt++ {
		if p.listenOnce() {
			attempt = 0
		}
		p.setListening(false)
		t := time.NewTimer(approve.Backoff(attempt, 100*time.Millisecond, 5*time.Second, nil))
		select {
		case <-t.C:
		case <-p.ctx.Done():
			t.Stop()
		}
	}
}

// listenOnce listens until the connection fails; it reports whether it got as
// far as listening.
func (p *Postgres) listenOnce() bool {
	ctx, cancel := context.WithTimeout(p.ctx, pgOpTimeout)
	conn, err := pgx.ConnectConfig(ctx, p.listen)
	if err == nil {
		_, err = conn.Exec(ctx, "LISTEN "+pgChannel)
	}
	cancel()
	if err != nil {
		if conn != nil {
			closeConn(conn)
		}
		return false
	}
	defer closeConn(conn)
	p.setListening(true)
	for {
		n, err := conn.WaitForNotification(p.ctx)
		if err != nil {
			return true
		}
		replica, user, ok := strings.Cut(n.Payload, ":")
		if !ok || replica == p.replica {
			continue
		}
		p.mu.Lock()
		wake := p.wake
		p.mu.Unlock()
		if wake != nil {
			wake(user)
		}
	}
}

// sweepNonces deletes nonces past any use now and then.
func (p *Postgres) sweepNonces() {
	t := time.NewTicker(time.Minute)
	defer t.Stop()
	for {
		select {
		case <-t.C:
			ctx, cancel := context.WithTimeout(p.ctx, pgOpTimeout)
			p.pool.Exec(ctx, "DELETE FROM sesame_nonces WHERE at < now() - make_interval(secs => $1)", pgNonceKeep.Seconds())
			cancel()
		case <-p.ctx.Done():
			return
		}
	}
}
