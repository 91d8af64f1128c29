//go:build unix

package tui

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"github.com/sesame-auth/sesame/vault"
)

// manyAccounts returns n distinct accounts with obviously fake secrets.
func manyAccounts(n int) []vault.Account {
	out := make([]vault.Account, n)
	for i := range out {
		secret := fmt.Sprintf("%020d", i) // 20 ASCII digits, like the RFC key
		out[i] = vault.Account{Type: vault.TOTP, Issuer: fmt.Sprintf("Service %04d", i), Name: fmt.Sprintf("user%d@example.com", i),
			Secret: vault.Secret(secret)}
		if i%10 == 9 {
			out[i].Digits, out[i].Period = 8, 60
		}
	}
	return out
}

var sizes = []int{10, 100, 1000}

// BenchmarkFirstFrame is the time from starting the UI to the first frame
// with codes: model construction, opening (decrypting) a keyring vault of n
// accounts, and drawing 80x24 (which computes the codes on screen). Passphrase vaults add
// the scrypt KDF (work factor 18, about half a second by design).
func BenchmarkFirstFrame(b *testing.B) {
	for _, n := range sizes {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			clock := newClock(t0)
			o, _, _ := testOptions(b, clock, manyAccounts(n)...)
			b.ResetTimer()
			for b.Loop() {
				m := New(o)
				next, _ := m.Update(tea.WindowSizeMsg{Width: 80, Height: 24})
				msg := openVault(o.VaultOptions)()
				next, _ = next.Update(msg)
				if v := next.(Model).frame(); len(v) == 0 {
					b.Fatal("empty frame")
				}
			}
		})
	}
}

// BenchmarkView is the cost of one frame on the code list.
func BenchmarkView(b *testing.B) {
	for _, n := range sizes {
		for _, size := range [][2]int{{80, 24}, {200, 60}} {
			b.Run(fmt.Sprintf("%d/%dx%d", n, size[0], size[1]), func(b *testing.B) {
				m, _, _ := readyModel(b, size[0], size[1], newClock(t0), manyAccounts(n)...)
				b.ResetTimer()
				for b.Loop() {
					_ = m.text()
				}
			})
		}
	}
}

// BenchmarkTick is the cost of one clock tick, its Update and the frame
// drawn after it: within a period (no code changes) and at a period
// boundary (the codes on screen recomputed).
func BenchmarkTick(b *testing.B) {
	for _, n := range sizes {
		m, _, _ := readyModel(b, 80, 24, newClock(t0), manyAccounts(n)...)
		b.Run(fmt.Sprintf("%d/within", n), func(b *testing.B) {
			for b.Loop() {
				next, _ := m.Update(tickMsg{id: m.tickID, t: t0.Add(time.Second)})
				_ = next.(Model).frame()
			}
		})
		b.Run(fmt.Sprintf("%d/boundary", n), func(b *testing.B) {
			i := 0
			for b.Loop() {
				i++
				next, _ := m.Update(tickMsg{id: m.tickID, t: t0.Add(time.Duration(i*60) * time.Second)})
				_ = next.(Model).frame()
			}
		})
	}
}

// BenchmarkIdleCPU runs the real program (real 1 Hz ticks, vault polling,
// renderer) with no input for SESAME_IDLE_SECONDS (60 by default) and
// reports the CPU it used as a percentage of one core.
func BenchmarkIdleCPU(b *testing.B) {
	secs := 60
	if s, err := strconv.Atoi(os.Getenv("SESAME_IDLE_SECONDS")); err == nil && s > 0 {
		secs = s
	}
	for _, n := range []int{100, 1000} {
		b.Run(strconv.Itoa(n), func(b *testing.B) {
			vo, _ := newVault(b, manyAccounts(n)...)
			o := Options{VaultOptions: vo, Clipboard: &fakeClipboard{}, Getenv: testEnv, Theme: "dark", Out: io.Discard}
			for b.Loop() {
				ctx, cancel := context.WithTimeout(context.Background(), time.Duration(secs)*time.Second)
				r, w := io.Pipe()
				p := tea.NewProgram(New(o), tea.WithContext(ctx), tea.WithInput(r), tea.WithOutput(io.Discard))
				go func() { p.Send(tea.WindowSizeMsg{Width: 80, Height: 24}) }()
				start, cpu0 := time.Now(), cpuTime()
				p.Run()
				cancel()
				w.Close()
				b.ReportMetric(100*float64(cpuTime()-cpu0)/float64(time.Since(start)), "cpu-%")
			}
		})
	}
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}
