package server

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"syscall"
)

// writeProcessMetrics writes the process metrics client_golang's process
// collector serves on Linux, under its names, read from /proc now. A family
// that cannot be read is left out.
func writeProcessMetrics(e *exposition) {
	// /proc/[pid]/stat's fields 14, 15 (user and system CPU time), 22
	// (start time, in clock ticks after boot), 23 (virtual memory, bytes)
	// and 24 (resident set, pages), counted after the command's closing
	// parenthesis, which ends field 2.
	const ticks = 100 // USER_HZ, 100 on every Linux architecture Go supports
	stat, err := os.ReadFile("/proc/self/stat")
	if f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:])); err == nil && len(f) >= 24-2 {
		field := func(n int) float64 {
			v, _ := strconv.ParseFloat(f[n-3], 64)
			return v
		}
		e.family("process_cpu_seconds_total", "counter", "Total user and system CPU time spent in seconds.")
		e.sample("process_cpu_seconds_total", "", (field(14)+field(15))/ticks)
		e.family("process_virtual_memory_bytes", "gauge", "Virtual memory size in bytes.")
		e.sample("process_virtual_memory_bytes", "", field(23))
		e.family("process_resident_memory_bytes", "gauge", "Resident memory size in bytes.")
		e.sample("process_resident_memory_bytes", "", field(24)*float64(os.Getpagesize()))
		if boot, ok := bootTime(); ok {
			e.family("process_start_time_seconds", "gauge", "Start time of the process since unix epoch in seconds.")
			e.sample("process_start_time_seconds", "", boot+field(22)/ticks)
		}
	}
	if d, err := os.Open("/proc/self/fd"); err == nil {
		names, err := d.Readdirnames(-1)
		d.Close()
		if err == nil {
			e.family("process_open_fds", "gauge", "Number of open file descriptors.")
			e.sample("process_open_fds", "", float64(len(names)))
		}
	}
	var lim syscall.Rlimit
	if syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim) == nil {
		e.family("process_max_fds", "gauge", "Maximum number of open file descriptors.")
		e.sample("process_max_fds", "", float64(lim.Cur))
	}
}

// bootTime is when the machine booted, in seconds since the epoch: /proc/stat's btime.
func bootTime() (float64, bool) {
	stat, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, false
	}
	for l := range strings.Lines(string(stat)) {
		if v, ok := strings.CutPrefix(l, "btime "); ok {
			t, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			return t, err == nil
		}
	}
	return 0, false
}
