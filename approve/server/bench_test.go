package server

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/approve/sesame"
)

// TestMain doubles as the benchmark's server process: with
// SESAME_BENCH_SERVER=1 the test binary serves the approval server (bbolt
// store in a temp folder) on loopback, prints its URL and runs until stdin closes.
func TestMain(m *testing.M) {
	if os.Getenv("SESAME_BENCH_SERVER") == "1" {
		benchServer()
		return
	}
	os.Exit(runEveryStore(m))
}

func benchServer() {
	dir, _ := os.MkdirTemp("", "sesame-bench-")
	defer os.RemoveAll(dir)
	st, err := OpenBolt(filepath.Join(dir, "server.db"))
	if err != nil {
		panic(err)
	}
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(err)
	}
	h, err := New(Config{Key: key, Store: st, APIKey: []byte(testAPIKey), URL: "http://" + ln.Addr().String(),
		SignInEvery: time.Nanosecond, SignInBurst: 1 << 30, PairingEvery: time.Nanosecond, PairingBurst: 1 << 30,
		DeviceEvery: time.Nanosecond, DeviceBurst: 1 << 30})
	if err != nil {
		panic(err)
	}
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go srv.Serve(h.Listener(ln))
	fmt.Println("http://" + ln.Addr().String())
	// Each line on stdin asks for the Go memory in use after a collection:
	// live heap, stacks and goroutines, and with SESAME_BENCH_HEAP a heap
	// profile in that file.
	in := bufio.NewScanner(os.Stdin)
	for in.Scan() {
		runtime.GC()
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		if f := os.Getenv("SESAME_BENCH_HEAP"); f != "" {
			if out, err := os.Create(f); err == nil {
				pprof.WriteHeapProfile(out)
				out.Close()
			}
		}
		fmt.Println(ms.HeapAlloc, ms.StackInuse, runtime.NumGoroutine(), h.waitingNow())
	}
	h.Close()
	srv.Close()
}

// goMem is the bench server's Go memory after a collection.
type goMem struct{ heap, stack, goroutines, waiting float64 }

func askMem(b *testing.B, stdin io.Writer, stdout *bufio.Reader) goMem {
	fmt.Fprintln(stdin, "mem")
	line, err := stdout.ReadString('\n')
	if err != nil {
		b.Fatal(err)
	}
	var m goMem
	if _, err := fmt.Sscan(line, &m.heap, &m.stack, &m.goroutines, &m.waiting); err != nil {
		b.Fatalf("bench server said %q: %v", line, err)
	}
	return m
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

// BenchmarkSignInToDevice measures the latency from "sign-in started" (the
// relying party's POST) to "request received" by the device it was for, with
// n devices (one per user) long-polling a server in another process, and the
// server's resident memory per waiting device. Run:
//
//	go test -run '^$' -bench SignInToDevice -benchtime 200x ./approve/server
func BenchmarkSignInToDevice(b *testing.B) {
	for _, n := range []int{1, 100, 10000} {
		b.Run(fmt.Sprintf("devices=%d", n), func(b *testing.B) { benchSignIn(b, n) })
	}
}

func benchSignIn(b *testing.B, n int) {
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), "SESAME_BENCH_SERVER=1")
	stdin, _ := cmd.StdinPipe()
	stdout, _ := cmd.StdoutPipe()
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	defer func() { stdin.Close(); cmd.Wait() }()
	out := bufio.NewReader(stdout)
	line, err := out.ReadString('\n')
	if err != nil {
		b.Fatal(err)
	}
	base := strings.TrimSpace(line)
	tr := &http.Transport{MaxIdleConns: n + 100, MaxIdleConnsPerHost: n + 100, IdleConnTimeout: time.Minute}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr}
	rp := func(path string, in, out any) {
		body, _ := json.Marshal(in)
		req, _ := http.NewRequest("POST", base+path, bytes.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+testAPIKey)
		resp, err := hc.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		defer resp.Body.Close()
		if resp.StatusCode != http.StatusCreated {
			b.Fatalf("%s: HTTP %d", path, resp.StatusCode)
		}
		json.NewDecoder(resp.Body).Decode(out)
	}

	// Pair n devices, 8 at a time.
	clients := make([]*sesame.Client, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i := range n {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			var pr PairingResponse
			rp("/v1/rp/pairings", map[string]string{"user": "user" + strconv.Itoa(i)}, &pr)
			p, err := sesame.Pair(context.Background(), pr.URI, sesame.ClientOptions{HTTPClient: hc})
			if err != nil {
				b.Error(err)
				return
			}
			clients[i], _ = sesame.NewClient(p, sesame.ClientOptions{HTTPClient: hc})
		}()
	}
	wg.Wait()
	if b.Failed() {
		return
	}
	before, goBefore := rssKiB(cmd.Process.Pid), askMem(b, stdin, out)

	type got struct {
		dev int
		id  string
		at  time.Time
	}
	recv := make(chan got, 1024)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var parked, pollErrors atomic.Int64
	for i, c := range clients {
		go func() {
			first := true
			for ctx.Err() == nil {
				reqs, err := c.Poll(ctx)
				if first {
					first = false
					parked.Add(1)
				}
				if err != nil {
					pollErrors.Add(1)
					select { // back off like the Watcher does
					case <-time.After(time.Second):
					case <-ctx.Done():
					}
					continue
				}
				for _, r := range reqs {
					select {
					case recv <- got{i, r.ID, time.Now()}:
					case <-ctx.Done():
					}
				}
			}
		}()
	}
	deadline := time.Now().Add(2 * time.Minute)
	for parked.Load() < int64(n) {
		if time.Now().After(deadline) {
			b.Fatalf("only %d of %d devices parked their long-poll within 2 minutes", parked.Load(), n)
		}
		time.Sleep(10 * time.Millisecond) // polling the count, not synchronising
	}
	// Let the second (waiting) polls reach the server.
	time.Sleep(time.Second + time.Duration(n/10)*time.Millisecond)
	after, goAfter := rssKiB(cmd.Process.Pid), askMem(b, stdin, out)
	if goAfter.waiting < float64(n) {
		b.Fatalf("%v of %d devices wait on the server", goAfter.waiting, n)
	}

	lat := make([]time.Duration, 0, b.N)
	order := make([]int, n)
	for i := range order {
		order[i] = i
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		dev := order[(i*7919)%n]
		var st SignInStarted
		t0 := time.Now()
		rp("/v1/rp/signins", SignInRequest{User: "user" + strconv.Itoa(dev), Application: "bench"}, &st)
		for {
			g := <-recv
			if g.dev == dev && g.id == st.ID {
				lat = append(lat, g.at.Sub(t0))
				break
			}
		}
	}
	b.StopTimer()
	slices.Sort(lat)
	pct := func(p float64) float64 {
		return float64(lat[min(len(lat)-1, int(float64(len(lat))*p))]) / float64(time.Millisecond)
	}
	b.ReportMetric(pct(0.50), "p50-ms")
	b.ReportMetric(pct(0.99), "p99-ms")
	b.ReportMetric(float64(after-before)/float64(n), "server-KiB/waiting-device")
	b.ReportMetric((goAfter.heap-goBefore.heap)/1024/float64(n), "live-heap-KiB/waiting-device")
	b.ReportMetric((goAfter.stack-goBefore.stack)/1024/float64(n), "stack-KiB/waiting-device")
	b.ReportMetric((goAfter.goroutines-goBefore.goroutines)/float64(n), "goroutines/waiting-device")
	b.ReportMetric(float64(pollErrors.Load()), "poll-errors")
	b.ReportMetric(0, "ns/op")
}
