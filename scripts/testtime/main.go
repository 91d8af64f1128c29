//go:build unix

// Command testtime measures how long the test suite takes, and where: it
// runs `go test -count=1 -json` on the packages (./... by default) and
// prints the wall time, the CPU time of go test and of every process it
// waited for (compiling, linking, the test binaries and the commands they
// ran; programs that tmux or a D-Bus session started on their own are not
// counted), the load average before and after, each package's wall time and
// the slowest tests. docs/testing.md has the figures.
//
//	go run ./scripts/testtime                 # go test -count=1 ./...
//	go run ./scripts/testtime -race           # go test -race -count=1 ./...
//	go run ./scripts/testtime -top 30 -race ./cmd/sesame ./tui
//	go run ./scripts/testtime -- -run TestE2E ./tui
//
// Arguments after the flags (after "--" when they start with go test's
// own flags) go to go test as they are. It exits 1 if a test failed, after
// naming it.
package main

import (
	"bufio"
	"cmp"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"time"
)

// event is the part of a `go test -json` line that testtime reads.
type event struct {
	Action  string
	Package string
	Test    string
	Elapsed float64
}

type timing struct {
	name    string
	elapsed float64
}

func main() {
	top := flag.Int("top", 15, "how many of the slowest tests to list")
	race := flag.Bool("race", false, "run the tests with -race")
	flag.Parse()
	args := []string{"test", "-count=1", "-json"}
	if *race {
		args = append(args, "-race")
	}
	if flag.NArg() == 0 {
		args = append(args, "./...")
	}
	args = append(args, flag.Args()...)

	loadBefore := loadavg()
	cmd := exec.Command("go", args...)
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		fail(err)
	}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		fail(err)
	}
	pkgs, tests, failed := read(out)
	runErr := cmd.Wait()
	wall := time.Since(start)
	ru, _ := cmd.ProcessState.SysUsage().(*syscall.Rusage)

	fmt.Printf("go %s\n", strings.Join(args, " "))
	fmt.Printf("wall %.1f s", wall.Seconds())
	if ru != nil {
		user := time.Duration(ru.Utime.Nano())
		sys := time.Duration(ru.Stime.Nano())
		fmt.Printf(", CPU %.1f s (user %.1f s, sys %.1f s)", (user + sys).Seconds(), user.Seconds(), sys.Seconds())
	}
	fmt.Printf("; load average before %s, after %s\n\n", loadBefore, loadavg())
	fmt.Println("package wall times:")
	for _, p := range sorted(pkgs, len(pkgs)) {
		fmt.Printf("%8.1f s  %s\n", p.elapsed, p.name)
	}
	fmt.Printf("\nthe %d slowest tests (subtests are inside their test's time):\n", *top)
	for _, t := range sorted(tests, *top) {
		fmt.Printf("%8.1f s  %s\n", t.elapsed, t.name)
	}
	if len(failed) > 0 {
		fmt.Printf("\nFAILED: %s\n", strings.Join(failed, ", "))
	}
	if runErr != nil || len(failed) > 0 {
		os.Exit(1)
	}
}

// read takes the package and top-level test times, and the failures, from
// go test's JSON lines.
func read(r io.Reader) (pkgs, tests []timing, failed []string) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var e event
		if json.Unmarshal(sc.Bytes(), &e) != nil || (e.Action != "pass" && e.Action != "fail") {
			continue
		}
		switch {
		case e.Test == "":
			pkgs = append(pkgs, timing{e.Package, e.Elapsed})
		case !strings.Contains(e.Test, "/"):
			tests = append(tests, timing{e.Package + " " + e.Test, e.Elapsed})
		}
		if e.Action == "fail" {
			failed = append(failed, strings.TrimSpace(e.Package+" "+e.Test))
		}
	}
	return pkgs, tests, failed
}

// sorted returns the n longest timings, longest first.
func sorted(ts []timing, n int) []timing {
	slices.SortFunc(ts, func(a, b timing) int { return cmp.Compare(b.elapsed, a.elapsed) })
	return ts[:min(n, len(ts))]
}

// loadavg is the 1-, 5- and 15-minute load average, or "?" off Linux.
func loadavg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "?"
	}
	f := strings.Fields(string(b))
	return strings.Join(f[:min(3, len(f))], " ")
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "testtime:", err)
	os.Exit(1)
}
