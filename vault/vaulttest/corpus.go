package vaulttest

import (
	"bytes"
	"crypto/sha256"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var writeCorpus = flag.Bool("write-corpus", false, "rewrite the committed seed corpora under testdata/fuzz")

// SeedCorpus keeps the committed seed corpus of the fuzz target in
// testdata/fuzz/<target> of the package under test, which `go test` runs as
// seeds and `go test -fuzz` starts from. With -write-corpus it rewrites the
// folder from seeds (each one the target's arguments, in order): every seed
// as it is, and each of its []byte and string arguments truncated to a half and to all
// but its last byte, and with one bit flipped at a third, a half and two
// thirds of its length. Without the flag it checks that the folder holds
// entries in Go's corpus format for the target's argument types, so a
// target cannot lose its corpus unnoticed.
func SeedCorpus(t *testing.T, target string, seeds ...[]any) {
	t.Helper()
	if len(seeds) == 0 {
		t.Fatal("SeedCorpus: no seeds")
	}
	dir := filepath.Join("testdata", "fuzz", target)
	if !*writeCorpus {
		checkCorpus(t, dir, seeds[0])
		return
	}
	if err := os.RemoveAll(dir); err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, seed := range seeds {
		for _, entry := range variants(seed) {
			b, err := marshalEntry(entry)
			if err != nil {
				t.Fatal(err)
			}
			sum := sha256.Sum256(b)
			name := fmt.Sprintf("%x", sum[:8])
			if seen[name] {
				continue
			}
			seen[name] = true
			if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	t.Logf("wrote %d corpus entries to %s", len(seen), dir)
}

// variants is seed, then the truncated and bit-flipped copies of each of
// its []byte and string arguments.
func variants(seed []any) [][]any {
	out := [][]any{seed}
	for i, arg := range seed {
		var b []byte
		switch v := arg.(type) {
		case []byte:
			b = v
		case string:
			b = []byte(v)
		}
		if len(b) < 2 {
			continue
		}
		_, isString := arg.(string)
		with := func(v []byte) {
			e := append([]any(nil), seed...)
			e[i] = v
			if isString {
				e[i] = string(v)
			}
			out = append(out, e)
		}
		with(bytes.Clone(b[:len(b)/2]))
		with(bytes.Clone(b[:len(b)-1]))
		for k, at := range []int{len(b) / 3, len(b) / 2, 2 * len(b) / 3} {
			v := bytes.Clone(b)
			v[at] ^= 1 << (k * 3 % 8)
			with(v)
		}
	}
	return out
}

// marshalEntry writes one entry in the format of Go's fuzzing corpus files.
func marshalEntry(args []any) ([]byte, error) {
	var b bytes.Buffer
	b.WriteString("go test fuzz v1\n")
	for _, a := range args {
		switch v := a.(type) {
		case []byte:
			fmt.Fprintf(&b, "[]byte(%q)\n", v)
		case string:
			fmt.Fprintf(&b, "string(%q)\n", v)
		case uint8:
			fmt.Fprintf(&b, "byte(%q)\n", v)
		case bool:
			fmt.Fprintf(&b, "bool(%v)\n", v)
		case int:
			fmt.Fprintf(&b, "int(%d)\n", v)
		default:
			return nil, fmt.Errorf("SeedCorpus: no corpus encoding for %T", a)
		}
	}
	return b.Bytes(), nil
}

// checkCorpus fails unless dir holds corpus entries whose argument types
// are those of like.
func checkCorpus(t *testing.T, dir string, like []any) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil || len(entries) == 0 {
		t.Fatalf("no seed corpus in %s (%v): write it with go test -run %s -write-corpus", dir, err, t.Name())
	}
	var want []string
	for _, a := range like {
		b, err := marshalEntry([]any{a})
		if err != nil {
			t.Fatal(err)
		}
		typ, _, _ := strings.Cut(strings.Split(string(b), "\n")[1], "(")
		want = append(want, typ)
	}
	for _, e := range entries {
		b, err := os.ReadFile(filepath.Join(dir, e.Name()))
		if err != nil {
			t.Fatal(err)
		}
		lines := strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
		if len(lines) != len(want)+1 || lines[0] != "go test fuzz v1" {
			t.Fatalf("%s/%s is no corpus entry of %d arguments", dir, e.Name(), len(want))
		}
		for i, typ := range want {
			if !strings.HasPrefix(lines[i+1], typ+"(") {
				t.Fatalf("%s/%s: argument %d is %q, want a %s", dir, e.Name(), i+1, lines[i+1], typ)
			}
		}
	}
}
