// Command approvebench measures the approval server as it is deployed: whole
// `sesame server` processes (rate limits on, as shipped), on bbolt (one
// replica) or on one PostgreSQL shared by two replicas, with thousands of
// devices long-polling over loopback. It reports the latency from "sign-in
// started" (the relying party's POST, on a random replica) to "the device has
// it", and the servers' resident memory per waiting device.
//
//	go build -o /tmp/sesame ./cmd/sesame
//	go run ./scripts/approvebench -sesame /tmp/sesame -store postgres -devices 10000 -rate 60 -for 60s -connect same-second
//	go run ./scripts/approvebench -sesame /tmp/sesame -kill -devices 2000 -pending 50
//
// Results go to stdout, one block per run (BENCHMARKS.md has the figures).
// Devices pair from many loopback source addresses (127.1.x.y), since the
// server limits pairings per client address.
package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sesame-auth/sesame/approve"
	"github.com/sesame-auth/sesame/approve/server/pgtest"
	"github.com/sesame-auth/sesame/approve/sesame"
)

const apiKey = "bench-api-key-0123456789abcdef"

var (
	sesameBin = flag.String("sesame", "", "the sesame binary to run (go build -o /tmp/sesame ./cmd/sesame)")
	storeKind = flag.String("store", "bbolt", "bbolt (one replica) or postgres (two replicas)")
	nDevices  = flag.Int("devices", 10000, "devices, one user each")
	rate      = flag.Float64("rate", 60, "sign-ins started per second")
	duration  = flag.Duration("for", 60*time.Second, "how long sign-ins are started")
	connect   = flag.String("connect", "same-second", "same-second: every device connects at once; spread: over one poll wait")
	killRun   = flag.Bool("kill", false, "the failover run: two replicas on PostgreSQL, kill -9 one")
	nPending  = flag.Int("pending", 50, "pending sign-ins at the kill")
)

func main() {
	flag.Parse()
	if *sesameBin == "" {
		fmt.Fprintln(os.Stderr, "approvebench: give -sesame (go build -o /tmp/sesame ./cmd/sesame)")
		os.Exit(2)
	}
	var err error
	if *killRun {
		err = runKill()
	} else {
		err = runLatency()
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "approvebench:", err)
		os.Exit(1)
	}
}

// replica is one `sesame server` process.
type replica struct {
	url, dir, database string
	extra              []string
	cmd                *exec.Cmd
}

func startReplica(dir, database, listen string, extra ...string) (*replica, error) {
	// Connection caps above the devices: docs/deploy.md says to raise them.
	args := append([]string{"server", "--listen", listen, "--data", dir, "--max-conns", "15000"}, extra...)
	if database != "" {
		args = append(args, "--database", database)
	}
	cmd := exec.Command(*sesameBin, args...)
	cmd.Env = append(os.Environ(), "SESAME_API_KEY="+apiKey)
	out, _ := cmd.StdoutPipe()
	logf, _ := os.Create(filepath.Join(dir, "server.log"))
	cmd.Stderr = logf
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		cmd.Process.Kill()
		b, _ := os.ReadFile(filepath.Join(dir, "server.log"))
		return nil, fmt.Errorf("the server did not start: %s", b)
	}
	return &replica{url: strings.TrimSpace(line), dir: dir, database: database, extra: extra, cmd: cmd}, nil
}

func (r *replica) stop() { r.cmd.Process.Signal(os.Interrupt); r.cmd.Wait() }

// restart stops the replica and starts it again on the same address, so
// that its memory is measured without what pairing left behind.
func (r *replica) restart() error {
	r.stop()
	n, err := startReplica(r.dir, r.database, strings.TrimPrefix(r.url, "http://"), r.extra...)
	if err != nil {
		return err
	}
	*r = *n
	return nil
}

func rssKiB(pid int) int64 {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			n, _ := strconv.ParseInt(f[1], 10, 64)
			return n
		}
	}
	return 0
}

func loadavg() string {
	b, _ := os.ReadFile("/proc/loadavg")
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "?"
	}
	return strings.Join(f[:3], " ")
}

// deployment starts the replicas (and PostgreSQL) of a run, with extra
// server flags.
func deployment(kind string, extra ...string) (reps []*replica, stop func(), err error) {
	root, err := os.MkdirTemp("", "approvebench-")
	if err != nil {
		return nil, nil, err
	}
	var pg *pgtest.Server
	stop = func() {
		for _, r := range reps {
			r.stop()
		}
		if pg != nil {
			pg.Stop()
		}
		os.RemoveAll(root)
	}
	n, database := 1, ""
	if kind == "postgres" {
		n = 2
		// Durable as in production: undo the test tuning.
		if pg, err = pgtest.Start("fsync=on", "synchronous_commit=on", "full_page_writes=on"); err != nil {
			stop()
			return nil, nil, err
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		database, err = pg.NewDatabase(ctx)
		cancel()
		if err != nil {
			stop()
			return nil, nil, err
		}
	}
	for i := range n {
		dir := filepath.Join(root, "replica"+strconv.Itoa(i))
		os.MkdirAll(dir, 0o700)
		if i > 0 { // one key for the deployment
			k, _ := os.ReadFile(filepath.Join(root, "replica0", "server.key"))
			os.WriteFile(filepath.Join(dir, "server.key"), k, 0o600)
		}
		r, err := startReplica(dir, database, "127.0.0.1:0", extra...)
		if err != nil {
			stop()
			return nil, nil, err
		}
		reps = append(reps, r)
	}
	return reps, stop, nil
}

// httpFrom is an HTTP client whose connections come from source address src.
func httpFrom(src string, conns int) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(src)}, Timeout: 5 * time.Second}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: conns, MaxIdleConns: conns, IdleConnTimeout: 2 * time.Minute}}
}

// rpClient is the relying party: at most 32 connections to a replica, below
// the server's default cap of 64 per client address (a request waiting for
// a connection counts in its sign-in's latency).
var rpClient = &http.Client{Transport: &http.Transport{MaxConnsPerHost: 32, MaxIdleConnsPerHost: 32}}

func rpCall(method, url string, in, out any) (int, error) {
	var body io.Reader
	if in != nil {
		b, _ := json.Marshal(in)
		body = bytes.NewReader(b)
	}
	req, _ := http.NewRequest(method, url, body)
	req.Header.Set("Authorization", "Bearer "+apiKey)
	resp, err := rpClient.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if out != nil {
		json.Unmarshal(b, out)
	}
	return resp.StatusCode, nil
}

type device struct {
	user   string
	client *sesame.Client
}

// pairDevices pairs n devices, 20 per source address, pairing on replica
// i%len; they talk to that replica, or to via when given (a load balancer).
func pairDevices(reps []*replica, n int, via string) ([]device, error) {
	devs := make([]device, n)
	var wg sync.WaitGroup
	var firstErr atomic.Value
	sem := make(chan struct{}, 8)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			src := fmt.Sprintf("127.1.%d.%d", i/20/250, i/20%250+1)
			hc := httpFrom(src, 32)
			user := "user" + strconv.Itoa(i)
			var pr struct{ URI string }
			rep := reps[i%len(reps)]
			if st, err := rpCall("POST", rep.url+"/v1/rp/pairings", map[string]string{"user": user}, &pr); err != nil || st != http.StatusCreated {
				firstErr.CompareAndSwap(nil, fmt.Errorf("pairing %s: HTTP %d %v", user, st, err))
				return
			}
			p, err := sesame.Pair(context.Background(), pr.URI, sesame.ClientOptions{HTTPClient: hc})
			if err != nil {
				firstErr.CompareAndSwap(nil, fmt.Errorf("pairing %s: %w", user, err))
				return
			}
			if via != "" {
				p.Server = via
			}
			c, err := sesame.NewClient(p, sesame.ClientOptions{HTTPClient: hc})
			if err != nil {
				firstErr.CompareAndSwap(nil, err)
				return
			}
			devs[i] = device{user: user, client: c}
		}()
	}
	wg.Wait()
	if err, ok := firstErr.Load().(error); ok {
		return nil, err
	}
	return devs, nil
}

// metric sums a metric (without labels) over the replicas that answer.
func metric(reps []*replica, name string) float64 {
	total := 0.0
	for _, r := range reps {
		resp, err := http.Get(r.url + "/metrics")
		if err != nil {
			continue
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, l := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, name+" "); ok {
				f, _ := strconv.ParseFloat(v, 64)
				total += f
			}
		}
	}
	return total
}

// waiting sums sesame_waiting_devices over the replicas that answer.
// memory is a replica's resident set and Go memory in use (heap spans,
// live objects and garbage not yet collected; stacks), in KiB.
type memory struct{ rss, heap, stack float64 }

func memoryOf(r *replica) memory {
	one := []*replica{r}
	return memory{float64(rssKiB(r.cmd.Process.Pid)), metric(one, "go_memstats_heap_inuse_bytes") / 1024, metric(one, "go_memstats_stack_inuse_bytes") / 1024}
}

// reportMemory prints each replica's memory per waiting device: its growth
// since before divided by the devices waiting on it now.
func reportMemory(reps []*replica, before []memory, when string) {
	for i, r := range reps {
		m, n := memoryOf(r), float64(waiting([]*replica{r}))
		fmt.Printf("replica %d, %s: RSS %.0f KiB restarted before the devices connected, %.0f KiB with %.0f waiting: %.1f KiB per waiting device (Go heap %.1f, stacks %.1f)\n",
			i, when, before[i].rss, m.rss, n, (m.rss-before[i].rss)/n, (m.heap-before[i].heap)/n, (m.stack-before[i].stack)/n)
	}
}

func waiting(reps []*replica) int { return int(metric(reps, "sesame_waiting_devices")) }

func waitUntil(what string, limit time.Duration, cond func() bool) error {
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			return fmt.Errorf("timed out after %v waiting for %s", limit, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
	return nil
}

type receipt struct {
	req approve.Request
	at  time.Time
}

// pollLoop long-polls like the device watcher: on an error it backs off with
// the watcher's jittered backoff. Each new request is reported to got.
func pollLoop(ctx context.Context, c *sesame.Client, got func(receipt), ok func()) {
	attempt := 0
	seen := ""
	for ctx.Err() == nil {
		reqs, err := c.Poll(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			t := time.NewTimer(approve.Backoff(attempt, time.Second, time.Minute, nil))
			attempt++
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
			}
			continue
		}
		attempt = 0
		if ok != nil {
			ok()
		}
		at := time.Now()
		for _, r := range reqs {
			if r.ID != seen {
				seen = r.ID
				got(receipt{r, at})
			}
		}
	}
}

func pct(lat []time.Duration, p float64) string {
	if len(lat) == 0 {
		return "-"
	}
	d := lat[min(len(lat)-1, int(float64(len(lat))*p))]
	return fmt.Sprintf("%.1f ms", float64(d)/float64(time.Millisecond))
}

func runLatency() error {
	fmt.Printf("== %s, %d devices, connect %s, %.0f sign-ins/s for %v (load before: %s)\n", *storeKind, *nDevices, *connect, *rate, *duration, loadavg())
	reps, stop, err := deployment(*storeKind)
	if err != nil {
		return err
	}
	defer stop()
	t0 := time.Now()
	devs, err := pairDevices(reps, *nDevices, "")
	if err != nil {
		return err
	}
	fmt.Printf("paired %d devices in %v\n", len(devs), time.Since(t0).Round(time.Millisecond))
	for _, r := range reps {
		if err := r.restart(); err != nil {
			return err
		}
	}
	time.Sleep(time.Second)
	before := make([]memory, len(reps))
	for i, r := range reps {
		before[i] = memoryOf(r)
	}

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	got := map[string]time.Time{} // request ID -> first receipt
	start := time.Now()
	for _, d := range devs {
		var delay time.Duration
		if *connect == "spread" {
			delay = time.Duration(rand.Int64N(int64(sesame.PollWait)))
		}
		go func() {
			if delay > 0 {
				select {
				case <-time.After(delay):
				case <-ctx.Done():
					return
				}
			}
			pollLoop(ctx, d.client, func(r receipt) {
				mu.Lock()
				if _, ok := got[r.req.ID]; !ok {
					got[r.req.ID] = r.at
				}
				mu.Unlock()
			}, nil)
		}()
	}
	if err := waitUntil("every device to wait", 3*time.Minute, func() bool { return waiting(reps) >= len(devs) }); err != nil {
		return err
	}
	fmt.Printf("all %d devices waiting %v after they started connecting\n", len(devs), time.Since(start).Round(time.Millisecond))
	reportMemory(reps, before, "just connected")

	// Sign-ins at a steady rate, each on a random replica for a random user
	// that has none yet (a second one would replace the first before its
	// device saw it, and the first would count as lost).
	order := rand.Perm(len(devs))
	type started struct {
		id string
		at time.Time
	}
	var sent []started
	var limited, failed int
	failures := map[string]int{} // why, for the failed ones
	tick := time.NewTicker(time.Duration(float64(time.Second) / *rate))
	defer tick.Stop()
	start = time.Now()
	end := start.Add(*duration)
	var smu sync.Mutex
	var swg sync.WaitGroup
	for time.Now().Before(end) {
		<-tick.C
		if len(order) == 0 {
			return fmt.Errorf("more sign-ins than devices: lower -rate or -for")
		}
		d := devs[order[0]]
		order = order[1:]
		rep := reps[rand.IntN(len(reps))]
		swg.Add(1)
		go func() {
			defer swg.Done()
			var out struct{ ID string }
			at := time.Now()
			st, err := rpCall("POST", rep.url+"/v1/rp/signins", map[string]string{"user": d.user, "application": "bench"}, &out)
			smu.Lock()
			defer smu.Unlock()
			switch {
			case err == nil && st == http.StatusCreated:
				sent = append(sent, started{out.ID, at})
			case st == http.StatusTooManyRequests:
				limited++
			default:
				failed++
				why := fmt.Sprintf("HTTP %d", st)
				if err != nil {
					why = err.Error()
				}
				failures[why]++
			}
		}()
	}
	swg.Wait()
	time.Sleep(2 * time.Second) // the last deliveries
	reportMemory(reps, before, "after the run")
	cancel()
	fmt.Printf("load at the end: %s\n", loadavg())

	mu.Lock()
	defer mu.Unlock()
	var lat []time.Duration
	lost := 0
	const window = 5 * time.Second
	slowest := make([]time.Duration, int(*duration/window)+1) // per window of the run
	for _, s := range sent {
		at, ok := got[s.id]
		if !ok {
			lost++
			continue
		}
		d := at.Sub(s.at)
		lat = append(lat, d)
		w := min(len(slowest)-1, int(s.at.Sub(start)/window))
		slowest[w] = max(slowest[w], d)
	}
	fmt.Print("slowest delivery per 5 s of the run:")
	for _, d := range slowest {
		fmt.Printf(" %d", d.Milliseconds())
	}
	fmt.Println(" ms")
	slices.Sort(lat)
	maxLat := "-"
	if len(lat) > 0 {
		maxLat = fmt.Sprintf("%.1f ms", float64(lat[len(lat)-1])/float64(time.Millisecond))
	}
	fmt.Printf("samples %d (sign-ins started %d, rate-limited %d, failed %d, never delivered %d)\n", len(lat), len(sent), limited, failed, lost)
	if failed > 0 {
		fmt.Printf("failed sign-ins: %v\n", failures)
	}
	fmt.Printf("sign-in -> device: p50 %s, p99 %s, max %s\n", pct(lat, 0.50), pct(lat, 0.99), maxLat)
	return nil
}
