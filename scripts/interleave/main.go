//go:build unix

// Command interleave times whole processes the way hyperfine does (spawn,
// wait, wall time; standard output to /dev/null), but takes the commands in
// turn: one run of each, then the next round. A ratio of two medians is then
// taken over the same minutes, which matters on a machine whose speed
// drifts from one minute to the next (a shared virtual machine): hyperfine
// times one command's runs, then the next command's.
//
//	go run ./scripts/interleave -runs 200 'oathtool --totp 3132…' 'sesame code NAME'
//
// With -lead N, each timed run follows N untimed runs of the same command,
// as each run does in hyperfine. It matters for 'sesame code': when it
// exits, dbus-daemon and gnome-keyring clean up after it (the client, its
// session) while the next program starts, and that next program pays for
// it. Timed right after 'sesame code', 'oathtool' took 0.9–1.0 ms against
// 0.7 ms after itself (BENCHMARKS.md), which flatters the ratio; with
// -lead 1 each command pays for its own clean-up only.
//
// Each command is split into words at spaces (no shell, no quoting) and
// inherits the environment; leading NAME=value words are added to that
// command's environment, as a shell does. It prints one Markdown table row a command:
// name, median, quartiles, min–max, median ÷ the first command's median, and
// mean user+system CPU.
package main

import (
	"flag"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"time"
)

func main() {
	runs := flag.Int("runs", 100, "timed rounds")
	warmup := flag.Int("warmup", 3, "untimed rounds first")
	lead := flag.Int("lead", 0, "untimed runs of a command right before each timed run of it")
	flag.Parse()
	cmds := flag.Args()
	if len(cmds) == 0 {
		fmt.Fprintln(os.Stderr, "usage: interleave [-runs N] [-warmup N] [-lead N] 'command args' ...")
		os.Exit(2)
	}
	null, err := os.OpenFile(os.DevNull, os.O_WRONLY, 0)
	if err != nil {
		fail(err)
	}
	argvs := make([][]string, len(cmds))
	envs := make([][]string, len(cmds))
	for i, c := range cmds {
		argv := strings.Fields(c)
		envs[i] = os.Environ()
		for len(argv) > 1 && strings.Contains(argv[0], "=") {
			envs[i] = append(envs[i], argv[0])
			argv = argv[1:]
		}
		path, err := exec.LookPath(argv[0])
		if err != nil {
			fail(err)
		}
		argvs[i] = append([]string{path}, argv[1:]...)
	}
	wall := make([][]time.Duration, len(cmds))
	cpu := make([]time.Duration, len(cmds))
	for round := -*warmup; round < *runs; round++ {
		for i, c := range cmds {
			var d, used time.Duration
			var err error
			for range *lead + 1 {
				if d, used, err = run(argvs[i], envs[i], null); err != nil {
					fail(fmt.Errorf("%s: %w", c, err))
				}
			}
			if round >= 0 {
				wall[i] = append(wall[i], d)
				cpu[i] += used
			}
		}
	}
	ms := func(d time.Duration) string { return fmt.Sprintf("%.1f ms", float64(d)/1e6) }
	var base time.Duration
	for i, c := range cmds {
		w := wall[i]
		slices.Sort(w)
		med := w[len(w)/2]
		if i == 0 {
			base = med
		}
		fmt.Printf("| `%s` | %s | %s – %s | %s – %s | %.1f× | %s |\n", c, ms(med), ms(w[len(w)/4]), ms(w[3*len(w)/4]),
			ms(w[0]), ms(w[len(w)-1]), float64(med)/float64(base), ms(cpu[i]/time.Duration(len(w))))
	}
}

// run starts argv (argv[0] a path) with env, waits for it and returns its
// wall and CPU time. A command that fails is an error: its timing would mean
// nothing.
func run(argv, env []string, stdout *os.File) (wall, cpu time.Duration, err error) {
	start := time.Now()
	p, err := os.StartProcess(argv[0], argv, &os.ProcAttr{Env: env, Files: []*os.File{nil, stdout, os.Stderr}})
	if err != nil {
		return 0, 0, err
	}
	st, err := p.Wait()
	wall = time.Since(start)
	if err != nil {
		return 0, 0, err
	}
	if !st.Success() {
		return 0, 0, fmt.Errorf("exited with %v", st)
	}
	if ru, ok := st.SysUsage().(*syscall.Rusage); ok {
		cpu = time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	}
	return wall, cpu, nil
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "interleave:", err)
	os.Exit(1)
}
