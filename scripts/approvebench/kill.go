package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sesame-auth/sesame/approve"
	"github.com/sesame-auth/sesame/approve/sesame"
)

// balancer is a TCP load balancer in front of the replicas, as nginx or
// Caddy would be: round robin, and the next backend when one refuses.
type balancer struct {
	ln       net.Listener
	backends []string // host:port
	next     atomic.Uint64
}

func newBalancer(reps []*replica) (*balancer, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	b := &balancer{ln: ln}
	for _, r := range reps {
		b.backends = append(b.backends, r.url[len("http://"):])
	}
	go b.serve()
	return b, nil
}

func (b *balancer) url() string { return "http://" + b.ln.Addr().String() }

func (b *balancer) serve() {
	for {
		c, err := b.ln.Accept()
		if err != nil {
			return
		}
		go b.proxy(c)
	}
}

func (b *balancer) proxy(c net.Conn) {
	defer c.Close()
	n := b.next.Add(1)
	for i := range b.backends {
		be, err := net.DialTimeout("tcp", b.backends[(int(n)+i)%len(b.backends)], time.Second)
		if err != nil {
			continue
		}
		defer be.Close()
		done := make(chan struct{}, 2)
		go func() { io.Copy(be, c); done <- struct{}{} }()
		go func() { io.Copy(c, be); done <- struct{}{} }()
		<-done
		return
	}
}

// runKill: two replicas on PostgreSQL behind the balancer, devices waiting,
// sign-ins pending; kill -9 one replica and check that every device is back
// on the other within 10 s and that every pending sign-in is answered once.
func runKill() error {
	fmt.Printf("== kill -9 one of two replicas: %d devices, %d pending sign-ins (load before: %s)\n", *nDevices, *nPending, loadavg())
	// Every device comes through the balancer's one address, which adds no
	// X-Forwarded-For (a TCP balancer): lift the per-address connection cap.
	reps, stop, err := deployment("postgres", "--max-conns-per-client", "15000")
	if err != nil {
		return err
	}
	defer stop()
	lb, err := newBalancer(reps)
	if err != nil {
		return err
	}
	defer lb.ln.Close()
	devs, err := pairDevices(reps, *nDevices, lb.url())
	if err != nil {
		return err
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	got := map[string]approve.Request{}
	for _, d := range devs {
		go pollLoop(ctx, d.client, func(r receipt) {
			mu.Lock()
			got[r.req.ID] = r.req
			mu.Unlock()
		}, nil)
	}
	if err := waitUntil("every device to wait", 2*time.Minute, func() bool { return waiting(reps) >= len(devs) }); err != nil {
		return err
	}
	for i, r := range reps {
		fmt.Printf("replica %d: %d devices waiting\n", i, waiting([]*replica{r}))
	}

	// The pending sign-ins, started on either replica.
	type pending struct {
		dev    int
		id     string
		number string
	}
	var pend []pending
	for i := range *nPending {
		var out struct{ ID, Number string }
		if st, err := rpCall("POST", reps[i%2].url+"/v1/rp/signins", map[string]string{"user": devs[i].user, "application": "bench"}, &out); err != nil || st != http.StatusCreated {
			return fmt.Errorf("sign-in %d: HTTP %d %v", i, st, err)
		}
		pend = append(pend, pending{i, out.ID, out.Number})
	}
	err = waitUntil("the pending sign-ins to reach their devices", 30*time.Second, func() bool {
		mu.Lock()
		defer mu.Unlock()
		for _, p := range pend {
			if _, ok := got[p.id]; !ok {
				return false
			}
		}
		return true
	})
	if err != nil {
		return err
	}

	killed, alive := reps[0], reps[1]
	t0 := time.Now()
	killed.cmd.Process.Kill()
	killed.cmd.Wait()
	reps = reps[1:] // stop() must not wait for it
	err = waitUntil("every device to wait on the surviving replica", 60*time.Second, func() bool {
		return waiting([]*replica{alive}) >= len(devs)
	})
	back := time.Since(t0)
	if err != nil {
		return fmt.Errorf("%w (%d of %d back)", err, waiting([]*replica{alive}), len(devs))
	}
	fmt.Printf("all %d devices waiting on the surviving replica %v after the kill (target: 10 s)\n", len(devs), back.Round(time.Millisecond))

	// Every pending sign-in answered once, through the balancer; a second
	// answer is refused.
	var answered, twice, lost int
	for _, p := range pend {
		mu.Lock()
		req := got[p.id]
		mu.Unlock()
		c := devs[p.dev].client
		if err := c.Respond(context.Background(), req, approve.Answer{Approve: true, Number: p.number}); err != nil {
			fmt.Printf("answer to %s: %v\n", p.id, err)
			continue
		}
		answered++
		if err := c.Respond(context.Background(), req, approve.Answer{Approve: false}); !errors.Is(err, approve.ErrAnswered) {
			twice++
			fmt.Printf("a second answer to %s: %v, want already answered\n", p.id, err)
		}
		var st struct{ Status string }
		if code, err := rpCall("GET", alive.url+"/v1/rp/signins/"+p.id, nil, &st); err != nil || code != http.StatusOK || st.Status != sesame.StatusApproved {
			lost++
			fmt.Printf("sign-in %s after its answer: HTTP %d %q %v\n", p.id, code, st.Status, err)
		}
	}
	fmt.Printf("pending sign-ins: %d, answered %d, outcome approved on the survivor %d, lost %d, a second answer accepted %d\n",
		len(pend), answered, answered-lost, lost, twice)
	fmt.Printf("load at the end: %s\n", loadavg())
	if back > 10*time.Second || answered != len(pend) || lost > 0 || twice > 0 {
		return errors.New("the failover run missed its targets")
	}
	return nil
}
