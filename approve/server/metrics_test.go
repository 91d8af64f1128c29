package server

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"runtime"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"

	"github.com/sesame-auth/sesame/approve"
)

// scrape gets url's /metrics and parses it with Prometheus' own text parser.
func scrape(url string) (map[string]*dto.MetricFamily, error) {
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != http.StatusOK || ct != "text/plain; version=0.0.4; charset=utf-8" {
		return nil, fmt.Errorf("/metrics: HTTP %d, Content-Type %q", resp.StatusCode, ct)
	}
	p := expfmt.NewTextParser(model.LegacyValidation)
	return p.TextToMetricFamilies(resp.Body)
}

// value is the value of family name's sample whose labels are labels
// (name, value, …); NaN when there is none.
func value(fams map[string]*dto.MetricFamily, name string, labels ...string) float64 {
	for _, m := range fams[name].GetMetric() {
		if len(m.GetLabel())*2 != len(labels) {
			continue
		}
		match := true
		for i, l := range m.GetLabel() {
			match = match && l.GetName() == labels[2*i] && l.GetValue() == labels[2*i+1]
		}
		if !match {
			continue
		}
		switch {
		case m.Counter != nil:
			return m.Counter.GetValue()
		case m.Gauge != nil:
			return m.Gauge.GetValue()
		case m.Untyped != nil:
			return m.Untyped.GetValue()
		}
	}
	return math.NaN()
}

// histogramOf gives histogram name's cumulative bucket counts by upper
// bound, its sum and its count.
func histogramOf(fams map[string]*dto.MetricFamily, name string) (map[float64]uint64, float64, uint64) {
	ms := fams[name].GetMetric()
	if len(ms) != 1 || ms[0].Histogram == nil {
		return nil, math.NaN(), 0
	}
	h := ms[0].Histogram
	out := map[float64]uint64{}
	for _, b := range h.GetBucket() {
		out[b.GetUpperBound()] = b.GetCumulativeCount()
	}
	return out, h.GetSampleSum(), h.GetSampleCount()
}

func TestMetricsAfterRealActions(t *testing.T) {
	e := newEnv(t, nil)
	other := newEnv(t, nil) // a second handler in the process keeps its own metrics
	ctx := context.Background()

	// alice approves a sign-in her device saw 30 ms after it started, and
	// sends her answer again (a retry: not a second answer).
	_, alice := e.pair("alice")
	started, _ := e.start(SignInRequest{User: "alice"})
	e.clock.Add(30 * time.Millisecond)
	r := pollOne(t, alice)
	answer := approve.Answer{Approve: true, Number: started.Number}
	for range 2 {
		if err := alice.Respond(ctx, r, answer); err != nil {
			t.Fatal(err)
		}
	}

	// bob's device waits, gets his sign-in at once, and he denies it.
	_, bob := e.pair("bob")
	if _, err := bob.Poll(ctx); err != nil {
		t.Fatal(err)
	}
	got := make(chan []approve.Request, 1)
	go func() {
		reqs, err := bob.Poll(ctx)
		if err != nil {
			t.Error(err)
		}
		got <- reqs
	}()
	var fams map[string]*dto.MetricFamily
	waitFor(t, "bob's device to show as waiting in /metrics", func() bool {
		var err error
		fams, err = scrape(e.ts.URL)
		if err != nil {
			t.Fatal(err)
		}
		return value(fams, "sesame_waiting_devices") == 1
	})
	e.start(SignInRequest{User: "bob"})
	reqs := <-got
	if len(reqs) != 1 {
		t.Fatalf("bob's waiting poll returned %v", reqs)
	}
	if err := bob.Respond(ctx, reqs[0], approve.Answer{}); err != nil {
		t.Fatal(err)
	}

	// carol's device sees her sign-in 3 s after it started: not her.
	_, carol := e.pair("carol")
	e.start(SignInRequest{User: "carol"})
	e.clock.Add(3 * time.Second)
	if err := carol.Respond(ctx, pollOne(t, carol), approve.Answer{Reason: approve.NotMe}); err != nil {
		t.Fatal(err)
	}

	// The waiting gauge is back to 0 once bob's poll has left the books.
	waitFor(t, "the waiting gauge to be back to 0", func() bool { return e.h.waitingNow() == 0 })
	fams, err := scrape(e.ts.URL)
	if err != nil {
		t.Fatal(err)
	}

	types := map[string]dto.MetricType{
		"sesame_signins_started_total":    dto.MetricType_COUNTER,
		"sesame_signins_answered_total":   dto.MetricType_COUNTER,
		"sesame_waiting_devices":          dto.MetricType_GAUGE,
		"sesame_delivery_latency_seconds": dto.MetricType_HISTOGRAM,
		"go_info":                         dto.MetricType_GAUGE,
	}
	for _, g := range goMetrics() {
		types[g.name] = map[string]dto.MetricType{"counter": dto.MetricType_COUNTER, "gauge": dto.MetricType_GAUGE}[g.typ]
	}
	if runtime.GOOS == "linux" {
		types["process_cpu_seconds_total"] = dto.MetricType_COUNTER
		for _, n := range []string{"process_resident_memory_bytes", "process_virtual_memory_bytes", "process_open_fds", "process_max_fds", "process_start_time_seconds"} {
			types[n] = dto.MetricType_GAUGE
		}
	}
	for name, typ := range types {
		if f := fams[name]; f == nil || f.GetType() != typ || f.GetHelp() == "" || len(f.GetMetric()) == 0 {
			t.Errorf("family %s = %v, want a %v with help and samples", name, f, typ)
		}
	}
	if len(fams) != len(types) {
		t.Errorf("/metrics has %d families, want %d", len(fams), len(types))
	}
	for _, c := range []struct {
		name   string
		labels []string
		want   float64
	}{
		{"sesame_signins_started_total", nil, 3},
		{"sesame_signins_answered_total", []string{"outcome", "approved"}, 1},
		{"sesame_signins_answered_total", []string{"outcome", "denied"}, 1},
		{"sesame_signins_answered_total", []string{"outcome", "not_me"}, 1},
		{"sesame_waiting_devices", nil, 0},
		{"go_info", []string{"version", runtime.Version()}, 1},
	} {
		if got := value(fams, c.name, c.labels...); got != c.want {
			t.Errorf("%s%v = %v, want %v", c.name, c.labels, got, c.want)
		}
	}
	// Delivered after 30 ms (alice), at once (bob) and after 3 s (carol).
	bs, sum, count := histogramOf(fams, "sesame_delivery_latency_seconds")
	want := map[float64]uint64{.001: 1, .0025: 1, .005: 1, .01: 1, .025: 1, .05: 2, .1: 2, .25: 2, .5: 2, 1: 2, 2.5: 2, 5: 3, math.Inf(1): 3}
	if fmt.Sprint(bs) != fmt.Sprint(want) || math.Abs(sum-3.03) > 1e-9 || count != 3 {
		t.Errorf("delivery latency: buckets %v, sum %v, count %d; want %v, 3.03, 3", bs, sum, count, want)
	}

	// The Go and process metrics are the process's.
	heap, sys := value(fams, "go_memstats_heap_inuse_bytes"), value(fams, "go_memstats_sys_bytes")
	if !(value(fams, "go_goroutines") > 0 && value(fams, "go_threads") > 0 && heap > 0 && sys > heap) {
		t.Errorf("Go metrics: %v goroutines, %v threads, heap in use %v, sys %v", value(fams, "go_goroutines"), value(fams, "go_threads"), heap, sys)
	}
	if runtime.GOOS == "linux" {
		now := float64(time.Now().Unix())
		start, rss, fds := value(fams, "process_start_time_seconds"), value(fams, "process_resident_memory_bytes"), value(fams, "process_open_fds")
		if !(start > now-3600 && start <= now+1 && rss > 1<<20 && value(fams, "process_virtual_memory_bytes") > rss &&
			fds >= 3 && fds <= value(fams, "process_max_fds") && value(fams, "process_cpu_seconds_total") > 0) {
			t.Errorf("process metrics: start %v (now %v), RSS %v, fds %v of %v, CPU %v s", start, now, rss, fds,
				value(fams, "process_max_fds"), value(fams, "process_cpu_seconds_total"))
		}
	}

	// The other handler counted nothing of this.
	fams, err = scrape(other.ts.URL)
	if err != nil {
		t.Fatal(err)
	}
	if n, a := value(fams, "sesame_signins_started_total"), value(fams, "sesame_signins_answered_total", "outcome", "approved"); n != 0 || a != 0 {
		t.Errorf("another handler shows %v sign-ins started, %v approved", n, a)
	}
}

// TestMetricsUnderConcurrentUpdates updates every metric from many
// goroutines while /metrics is scraped: every scrape is consistent and the
// final values are exact.
func TestMetricsUnderConcurrentUpdates(t *testing.T) {
	e := newEnv(t, nil)
	const workers, each = 8, 2000
	// Exact in binary, so that the sum is exact in any order: the first
	// bucket, a middle one, a bucket's bound itself (le is inclusive), +Inf.
	values := []float64{1.0 / 1024, 1.0 / 16, 0.5, 8}
	// The workers stop half-way until a scrape has seen them at work, so
	// that at least one scrape runs amid the updates.
	resume := make(chan struct{})
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			m := e.h.metrics
			for i := range each {
				if i == each/2 {
					<-resume
				}
				m.waiting.Add(1)
				m.started.Add(1)
				m.answer(outcomes[(w+i)%len(outcomes)])
				m.delivery.observe(values[i%len(values)])
				m.waiting.Add(-1)
			}
		})
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	var last float64
	resumed := false
	for scrapes := 0; ; scrapes++ {
		finished := false
		select {
		case <-done:
			finished = true
		default:
		}
		fams, err := scrape(e.ts.URL)
		if err != nil {
			t.Fatal(err)
		}
		started, waiting := value(fams, "sesame_signins_started_total"), value(fams, "sesame_waiting_devices")
		bs, _, count := histogramOf(fams, "sesame_delivery_latency_seconds")
		prev := uint64(0)
		for _, le := range append(deliveryBuckets[:], math.Inf(1)) {
			if bs[le] < prev {
				t.Fatalf("scrape %d: bucket le=%v = %d below the one before (%d): not cumulative", scrapes, le, bs[le], prev)
			}
			prev = bs[le]
		}
		if started < last || waiting < 0 || waiting > workers || bs[math.Inf(1)] != count {
			t.Fatalf("scrape %d: started %v (was %v), waiting %v, +Inf %d, count %d", scrapes, started, last, waiting, bs[math.Inf(1)], count)
		}
		last = started
		if started > 0 && !resumed {
			close(resume)
			resumed = true
		}
		if !finished {
			continue
		}
		const n = workers * each
		var answered float64
		for _, o := range outcomes {
			answered += value(fams, "sesame_signins_answered_total", "outcome", o)
		}
		bs, sum, count := histogramOf(fams, "sesame_delivery_latency_seconds")
		if started != n || answered != n || waiting != 0 || count != n || bs[.001] != n/4 || bs[.1] != n/2 || bs[.5] != 3*n/4 ||
			bs[5] != 3*n/4 || sum != n/4*(values[0]+values[1]+values[2]+values[3]) {
			t.Fatalf("after %d updates: started %v, answered %v, waiting %v, buckets %v, sum %v, count %d", n, started, answered, waiting, bs, sum, count)
		}
		return
	}
}
