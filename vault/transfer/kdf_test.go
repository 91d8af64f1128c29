package transfer

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"
)

// withAegisSlots rewrites the header slots of an Aegis file: edit gets the
// file's one password slot and returns the slots to write instead.
func withAegisSlots(t *testing.T, data []byte, edit func(slot map[string]any) []any) []byte {
	t.Helper()
	var f map[string]any
	if err := json.Unmarshal(data, &f); err != nil {
		t.Fatal(err)
	}
	header := f["header"].(map[string]any)
	slot := header["slots"].([]any)[0].(map[string]any)
	header["slots"] = edit(slot)
	out, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// slotWith copies a slot and sets scrypt parameters on the copy.
func slotWith(slot map[string]any, n, r, p int) map[string]any {
	c := map[string]any{}
	for k, v := range slot {
		c[k] = v
	}
	c["n"], c["r"], c["p"] = n, r, p
	return c
}

// TestAegisSlotWork checks that the key-derivation work of an Aegis file is
// capped per slot and per file before any of it is done: the password is
// not even asked for.
func TestAegisSlotWork(t *testing.T) {
	data, err := exportAegis(sample()[:1], []byte("pw"), 1<<10)
	if err != nil {
		t.Fatal(err)
	}
	biometric := map[string]any{"type": aegisSlotBiometric, "uuid": "b", "key": "00", "key_params": map[string]any{"nonce": "", "tag": ""}}
	refused := map[string][]byte{
		"30 slots at n=2^20": withAegisSlots(t, data, func(s map[string]any) []any {
			var out []any
			for range 30 {
				out = append(out, slotWith(s, 1<<20, 8, 1))
			}
			return out
		}),
		"5 cheap slots": withAegisSlots(t, data, func(s map[string]any) []any {
			return []any{s, s, s, s, s}
		}),
		"n=2^19":  withAegisSlots(t, data, func(s map[string]any) []any { return []any{slotWith(s, 1<<19, 8, 1)} }),
		"512 MiB": withAegisSlots(t, data, func(s map[string]any) []any { return []any{slotWith(s, 1<<18, 16, 1)} }),
		"p=2^20":  withAegisSlots(t, data, func(s map[string]any) []any { return []any{slotWith(s, 1<<15, 8, 1<<20)} }),
		"three slots at 2^18 p=2": withAegisSlots(t, data, func(s map[string]any) []any {
			return []any{slotWith(s, 1<<18, 8, 2), slotWith(s, 1<<18, 8, 2), slotWith(s, 1<<18, 8, 2)}
		}),
	}
	asked := false
	opts := ImportOptions{Password: func(string, Format) ([]byte, error) {
		asked = true
		return []byte("pw"), nil
	}}
	for name, file := range refused {
		asked = false
		res, err := Import(opts, Input{Name: "a.json", Data: file})
		if !errors.Is(err, ErrTooMuchWork) || res != nil || asked {
			t.Errorf("%s: %v, %v (password asked: %v); want ErrTooMuchWork before any work", name, res, err, asked)
		}
		if err != nil && !strings.Contains(err.Error(), "more key-derivation work than any real export") {
			t.Errorf("%s: message %q", name, err)
		}
	}

	// Four password slots and biometric ones are within the caps: a wrong
	// slot first, then the right one.
	ok := withAegisSlots(t, data, func(s map[string]any) []any {
		wrong := slotWith(s, 1<<10, 8, 1)
		wrong["salt"] = strings.Repeat("ab", 32)
		return []any{biometric, wrong, wrong, wrong, s, biometric}
	})
	res, err := Import(ImportOptions{Password: password("pw")}, Input{Data: ok})
	if err != nil {
		t.Fatal(err)
	}
	assertAccounts(t, res, wants(sample()[:1]))
}

// TestAegisInvalidScrypt checks that impossible scrypt parameters are
// reported as a damaged file, not as too large or a wrong password.
func TestAegisInvalidScrypt(t *testing.T) {
	data, err := exportAegis(sample()[:1], []byte("pw"), 1<<10)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range [][3]int{{3, 8, 1}, {0, 8, 1}, {-1, 8, 1}, {1024, 0, 1}, {1024, 8, -1}} {
		file := withAegisSlots(t, data, func(s map[string]any) []any { return []any{slotWith(s, p[0], p[1], p[2])} })
		_, err := Import(ImportOptions{Password: password("pw")}, Input{Data: file})
		if !errors.Is(err, ErrCorrupt) || errors.Is(err, ErrTooMuchWork) || !strings.Contains(err.Error(), "invalid scrypt parameters") {
			t.Errorf("n=%d r=%d p=%d: %v; want invalid parameters", p[0], p[1], p[2], err)
		}
	}
}
