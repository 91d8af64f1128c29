package transfer

import (
	"bytes"
	"encoding/binary"
	"errors"
	"strings"
	"testing"
)

// javaMapHeader is the start of the stream ObjectOutputStream writes for a
// java.util.HashMap: its class descriptor (loadFactor, threshold), their
// values, and the block data with capacity and size.
func javaMapHeader(size int) []byte {
	var b bytes.Buffer
	b.Write([]byte{0xac, 0xed, 0x00, 0x05, javaTCObject, javaTCClassDesc})
	writeJavaUTF(&b, javaHashMapClass)
	binary.Write(&b, binary.BigEndian, uint64(javaHashMapUID))
	b.Write([]byte{javaSCSerializable | javaSCWriteMethod, 0, 2, 'F'})
	writeJavaUTF(&b, "loadFactor")
	b.WriteByte('I')
	writeJavaUTF(&b, "threshold")
	b.Write([]byte{javaTCEndBlockData, javaTCNull})
	b.Write([]byte{0x3f, 0x40, 0, 0, 0, 0, 0, 12}) // 0.75, 12
	b.Write([]byte{javaTCBlockData, 8, 0, 0, 0, 16})
	binary.Write(&b, binary.BigEndian, int32(size))
	return b.Bytes()
}

func writeJavaUTF(b *bytes.Buffer, s string) {
	binary.Write(b, binary.BigEndian, uint16(len(s)))
	b.WriteString(s)
}

// javaStringMap serializes pairs as ObjectOutputStream does, each string
// new (TC_STRING).
func javaStringMap(pairs ...javaPair) []byte {
	b := bytes.NewBuffer(javaMapHeader(len(pairs)))
	for _, p := range pairs {
		for _, s := range []string{p.Key, p.Value} {
			b.WriteByte(javaTCString)
			writeJavaUTF(b, s)
		}
	}
	b.WriteByte(javaTCEndBlockData)
	return b.Bytes()
}

// TestJavaStringMap reads streams with every kind of string the reader
// knows: new ones, long ones, references to earlier ones, modified UTF-8.
func TestJavaStringMap(t *testing.T) {
	pairs := []javaPair{{"a", "1"}, {"masterKey", `{"x":"y"}`}}
	got, err := readJavaStringMap(javaStringMap(pairs...))
	if err != nil || len(got) != 2 || got[0] != pairs[0] || got[1] != pairs[1] {
		t.Fatalf("readJavaStringMap = %v, %v; want %v", got, err, pairs)
	}

	// A long string, a reference to the first string (handle 2: the class
	// descriptor and the map come first), NUL and a supplementary character
	// in modified UTF-8.
	b := bytes.NewBuffer(javaMapHeader(2))
	b.WriteByte(javaTCLongString)
	binary.Write(b, binary.BigEndian, uint64(3))
	b.WriteString("key")
	b.Write([]byte{javaTCString, 0, 10, 'n', 0xc0, 0x80, 0xed, 0xa0, 0xbd, 0xed, 0xb8, 0x80, 'z'})
	b.Write([]byte{javaTCString, 0, 2, 'k', '2'})
	b.Write([]byte{javaTCReference, 0, 0x7e, 0, 2})
	b.WriteByte(javaTCEndBlockData)
	got, err = readJavaStringMap(b.Bytes())
	want := []javaPair{{"key", "n\x00😀z"}, {"k2", "key"}}
	if err != nil || len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Fatalf("readJavaStringMap = %q, %v; want %q", got, err, want)
	}
}

// TestJavaStringMapRefuses checks that anything but a HashMap of strings,
// and every truncation of one, is refused with ErrCorrupt or ErrTooLarge.
func TestJavaStringMapRefuses(t *testing.T) {
	good := javaStringMap(javaPair{"a", "1"}, javaPair{"b", "2"})
	edit := func(old, new string) []byte {
		if !bytes.Contains(good, []byte(old)) {
			t.Fatalf("no %q in the stream", old)
		}
		return bytes.Replace(good, []byte(old), []byte(new), 1)
	}
	header := javaMapHeader(2)
	cases := map[string]struct {
		data []byte
		want string
	}{
		"other class":         {edit("java.util.HashMap", "java.util.HashSet"), `"java.util.HashSet", not a java.util.HashMap`},
		"other version UID":   {edit("\x05\x07\xda\xc1\xc3\x16\x60\xd1", "\x05\x07\xda\xc1\xc3\x16\x60\xd2"), "unknown serialVersionUID"},
		"object field":        {edit("I\x00\x09threshold", "L\x00\x09threshold"), `field of type 'L'`},
		"class annotation":    {edit("thresholdxp", "thresholdtp"), "annotations"},
		"superclass":          {edit("thresholdxp", "thresholdxr"), "serializable superclass"},
		"class flags":         {edit("\x03\x00\x02F", "\x02\x00\x02F"), "class flags 0x2"},
		"not an object":       {edit("\xac\xed\x00\x05s", "\xac\xed\x00\x05t"), "holds no object"},
		"other magic":         {edit("\xac\xed", "\xac\xee"), "no Java object stream header"},
		"block data of 12":    {edit("w\x08", "w\x0c"), "block data is 12 bytes"},
		"size says 3":         {append(javaMapHeader(3), good[len(header):]...), "the data ends before them"},
		"size says 1":         {append(javaMapHeader(1), good[len(header):]...), "more entries than its size says"},
		"negative size":       {append(javaMapHeader(-1), good[len(header):]...), "-1 entries"},
		"huge size":           {append(javaMapHeader(1<<30), good[len(header):]...), "Sesame reads at most"},
		"trailing data":       {append(bytes.Clone(good), 'x'), "1 bytes follow the map"},
		"null value":          {edit("t\x00\x012", "p\x00\x012"), "holds null"},
		"an object value":     {edit("t\x00\x012", "s\x00\x012"), "object of kind 0x73"},
		"reference to itself": {edit("t\x00\x012", "q\x00\x7e\x00\x01"), "not a string"},
		"reference ahead":     {edit("t\x00\x012", "q\x00\x7e\x00\x09"), "has not had"},
		"bad UTF-8":           {edit("t\x00\x012", "t\x00\x01\xff"), "not valid modified UTF-8"},
		"long string too big": {edit("t\x00\x012", "|\x7f\x00\x00\x00\x00\x00\x00\x01"), "longer than the data left"},
		"duplicate key":       {edit("t\x00\x01b", "t\x00\x01a"), "a key twice"},
	}
	for name, tc := range cases {
		got, err := readJavaStringMap(tc.data)
		if got != nil || !(errors.Is(err, ErrCorrupt) || errors.Is(err, ErrTooLarge)) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, %v; want an error saying %q", name, got, err, tc.want)
		}
	}
	for n := range len(good) {
		if got, err := readJavaStringMap(good[:n]); got != nil || !errors.Is(err, ErrCorrupt) {
			t.Errorf("cut to %d bytes: %v, %v; want ErrCorrupt", n, got, err)
		}
	}
}

// FuzzJavaStringMap reads arbitrary bytes as a serialized map of strings:
// it must never panic, and what it reads must serialize back to the same
// entries.
func FuzzJavaStringMap(f *testing.F) {
	for _, seed := range javaMapSeeds() {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		pairs, err := readJavaStringMap(data)
		if err != nil {
			if pairs != nil || !(errors.Is(err, ErrCorrupt) || errors.Is(err, ErrTooLarge)) {
				t.Fatalf("%v, %v: want no entries and ErrCorrupt or ErrTooLarge", pairs, err)
			}
			return
		}
		// Strings that fit TC_STRING and hold no NUL or supplementary
		// characters encode as they decode.
		for _, p := range pairs {
			for _, s := range []string{p.Key, p.Value} {
				if len(s) > 0xffff || strings.ContainsRune(s, 0) || strings.ContainsFunc(s, func(r rune) bool { return r > 0xffff }) {
					return
				}
			}
		}
		again, err := readJavaStringMap(javaStringMap(pairs...))
		if err != nil || len(again) != len(pairs) {
			t.Fatalf("round trip: %v, %v; want %v", again, err, pairs)
		}
		for i := range pairs {
			if again[i] != pairs[i] {
				t.Fatalf("round trip changed entry %d: %q -> %q", i, pairs[i], again[i])
			}
		}
	})
}

func javaMapSeeds() [][]byte {
	return [][]byte{
		javaStringMap(),
		javaStringMap(javaPair{"a", "1"}, javaPair{"masterKey", `{"x":"y"}`}),
		append(javaMapHeader(1), javaTCString, 0, 1, 'k', javaTCReference, 0, 0x7e, 0, 2, javaTCEndBlockData),
	}
}
