package server

import (
	"bytes"
	"math"
	"net/http"
	"runtime"
	rtm "runtime/metrics"
	"strconv"
	"sync/atomic"

	"github.com/sesame-auth/sesame/approve/sesame"
)

// The handler's metrics, served at GET /metrics in Prometheus' text format
// (0.0.4). They are written here rather than with client_golang: its package
// initialisation (default registry, collectors, procfs, protobuf) cost every
// sesame command, sesame code included, about 2 ms, for metrics that only
// sesame server serves. Nothing here runs before a handler is made; the Go
// and process metrics are read when scraped.

// metrics are one handler's counters: two handlers in a process keep their
// own. They are atomics, updated without locks by the requests.
type metrics struct {
	started  atomic.Uint64
	answered [len(outcomes)]atomic.Uint64 // by outcomes' index
	waiting  atomic.Int64                 // long-polls waiting: one Add(1), then one Add(-1)
	delivery histogram
}

// outcomes are the values of sesame_signins_answered_total's outcome label:
// what an answer makes of a sign-in.
var outcomes = [...]string{sesame.StatusApproved, sesame.StatusDenied, sesame.StatusNotMe}

// deliveryBuckets are sesame_delivery_latency_seconds' upper bounds, in seconds.
var deliveryBuckets = [...]float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5}

func newMetrics() *metrics {
	return &metrics{delivery: histogram{upper: deliveryBuckets[:], counts: make([]atomic.Uint64, len(deliveryBuckets)+1)}}
}

// answer counts a sign-in answered with status, one of outcomes.
func (m *metrics) answer(status string) {
	for i, o := range outcomes {
		if o == status {
			m.answered[i].Add(1)
			return
		}
	}
}

// histogram counts observations by bucket: counts[i] those at most upper[i]
// and above upper[i-1]; the last, those above every bound. They are made
// cumulative when written.
type histogram struct {
	upper   []float64
	counts  []atomic.Uint64
	sumBits atomic.Uint64 // math.Float64bits of the observations' sum
}

func (h *histogram) observe(v float64) {
	i := 0
	for i < len(h.upper) && v > h.upper[i] {
		i++
	}
	h.counts[i].Add(1)
	for {
		old := h.sumBits.Load()
		if h.sumBits.CompareAndSwap(old, math.Float64bits(math.Float64frombits(old)+v)) {
			return
		}
	}
}

// serveMetrics writes the metrics in Prometheus' text format.
func (h *Handler) serveMetrics(w http.ResponseWriter, r *http.Request) {
	var e exposition
	h.metrics.write(&e)
	writeGoMetrics(&e)
	writeProcessMetrics(&e)
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	w.Write(e.Bytes())
}

func (m *metrics) write(e *exposition) {
	e.family("sesame_signins_started_total", "counter", "Sign-in requests started on this replica.")
	e.sample("sesame_signins_started_total", "", float64(m.started.Load()))
	e.family("sesame_signins_answered_total", "counter", "Sign-in requests answered on this replica, by outcome.")
	for i, o := range outcomes {
		e.sample("sesame_signins_answered_total", `outcome="`+o+`"`, float64(m.answered[i].Load()))
	}
	e.family("sesame_waiting_devices", "gauge", "Device long-polls waiting on this replica now.")
	e.sample("sesame_waiting_devices", "", float64(m.waiting.Load()))

	const d = "sesame_delivery_latency_seconds"
	e.family(d, "histogram", "From a sign-in started (on any replica) to a device's long-poll on this replica answering with it.")
	// The count is the buckets' total, so that +Inf and _count agree even
	// while observations come in; the sum may be a moment ahead or behind.
	var count uint64
	for i := range m.delivery.counts {
		count += m.delivery.counts[i].Load()
		le := "+Inf"
		if i < len(m.delivery.upper) {
			le = strconv.FormatFloat(m.delivery.upper[i], 'g', -1, 64)
		}
		e.sample(d+"_bucket", `le="`+le+`"`, float64(count))
	}
	e.sample(d+"_sum", "", math.Float64frombits(m.delivery.sumBits.Load()))
	e.sample(d+"_count", "", float64(count))
}

// goMetric is a Go runtime metric under client_golang's name, the sum of
// runtime/metrics values.
type goMetric struct {
	name, typ, help string
	sum             []string // runtime/metrics names
}

// goMetrics are the Go runtime metrics served, under the names
// client_golang's Go collector gives them, so that dashboards keep working.
func goMetrics() []goMetric {
	return []goMetric{
		{"go_goroutines", "gauge", "Number of goroutines that currently exist.", []string{"/sched/goroutines:goroutines"}},
		{"go_threads", "gauge", "Number of OS threads owned by the Go runtime now.", []string{"/sched/threads/total:threads"}},
		{"go_sched_gomaxprocs_threads", "gauge", "The current runtime.GOMAXPROCS setting.", []string{"/sched/gomaxprocs:threads"}},
		{"go_gc_cycles_total", "counter", "Completed GC cycles.", []string{"/gc/cycles/total:gc-cycles"}},
		{"go_gc_gogc_percent", "gauge", "Heap size target percentage (GOGC).", []string{"/gc/gogc:percent"}},
		{"go_gc_gomemlimit_bytes", "gauge", "Go runtime memory limit (GOMEMLIMIT).", []string{"/gc/gomemlimit:bytes"}},
		{"go_memstats_alloc_bytes_total", "counter", "Total number of bytes allocated in heap until now, even if released already.", []string{"/gc/heap/allocs:bytes"}},
		{"go_memstats_heap_alloc_bytes", "gauge", "Number of heap bytes allocated and currently in use.", []string{"/memory/classes/heap/objects:bytes"}},
		{"go_memstats_heap_inuse_bytes", "gauge", "Number of heap bytes that are in use.", []string{"/memory/classes/heap/objects:bytes", "/memory/classes/heap/unused:bytes"}},
		{"go_memstats_heap_idle_bytes", "gauge", "Number of heap bytes waiting to be used.", []string{"/memory/classes/heap/free:bytes", "/memory/classes/heap/released:bytes"}},
		{"go_memstats_heap_released_bytes", "gauge", "Number of heap bytes released to OS.", []string{"/memory/classes/heap/released:bytes"}},
		{"go_memstats_heap_objects", "gauge", "Number of currently allocated objects.", []string{"/gc/heap/objects:objects"}},
		{"go_memstats_next_gc_bytes", "gauge", "Number of heap bytes when next garbage collection will take place.", []string{"/gc/heap/goal:bytes"}},
		{"go_memstats_stack_inuse_bytes", "gauge", "Number of bytes in use by the stack allocator.", []string{"/memory/classes/heap/stacks:bytes"}},
		{"go_memstats_sys_bytes", "gauge", "Number of bytes obtained from system.", []string{"/memory/classes/total:bytes"}},
	}
}

// writeGoMetrics writes go_info and goMetrics, read from runtime/metrics
// (which, unlike runtime.ReadMemStats, does not stop the world).
func writeGoMetrics(e *exposition) {
	e.family("go_info", "gauge", "Information about the Go environment.")
	e.sample("go_info", `version="`+runtime.Version()+`"`, 1)
	gms := goMetrics()
	var samples []rtm.Sample
	for _, g := range gms {
		for _, n := range g.sum {
			samples = append(samples, rtm.Sample{Name: n})
		}
	}
	rtm.Read(samples)
	for _, g := range gms {
		v := 0.0
		for range g.sum {
			switch s := samples[0].Value; s.Kind() {
			case rtm.KindUint64:
				v += float64(s.Uint64())
			case rtm.KindFloat64:
				v += s.Float64()
			}
			samples = samples[1:]
		}
		e.family(g.name, g.typ, g.help)
		e.sample(g.name, "", v)
	}
}

// exposition is a body in Prometheus' text format, version 0.0.4. Help texts
// and label values are constants here, with no characters to escape.
type exposition struct{ bytes.Buffer }

// family starts a metric family: its help and its type.
func (e *exposition) family(name, typ, help string) {
	e.WriteString("# HELP " + name + " " + help + "\n# TYPE " + name + " " + typ + "\n")
}

// sample writes one value; labels is empty or `name="value",…`.
func (e *exposition) sample(name, labels string, v float64) {
	e.WriteString(name)
	if labels != "" {
		e.WriteString("{" + labels + "}")
	}
	e.WriteByte(' ')
	e.Write(strconv.AppendFloat(e.AvailableBuffer(), v, 'g', -1, 64))
	e.WriteByte('\n')
}
