package transfer

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"unicode/utf16"
)

// This file reads the one Java object stream Sesame meets: a
// java.util.HashMap of Strings written with ObjectOutputStream, as FreeOTP 2
// writes its backups. It is not a general Java deserializer: it reads the
// stream's grammar for exactly that object (class descriptor, primitive
// fields, the map's block data, TC_STRING, TC_LONGSTRING and TC_REFERENCE to
// an earlier string) and refuses anything else. Every length is checked
// against what is left of the input before it is used.

// Java object stream constants (Java Object Serialization Specification, 6.4).
const (
	javaMagic           = 0xaced
	javaVersion         = 5
	javaTCNull          = 0x70
	javaTCReference     = 0x71
	javaTCClassDesc     = 0x72
	javaTCObject        = 0x73
	javaTCString        = 0x74
	javaTCBlockData     = 0x77
	javaTCEndBlockData  = 0x78
	javaTCBlockDataLong = 0x7a
	javaTCLongString    = 0x7c
	javaBaseHandle      = 0x7e0000
	javaSCWriteMethod   = 0x01
	javaSCSerializable  = 0x02

	javaHashMapClass = "java.util.HashMap"
	javaHashMapUID   = 362498820763181265
	maxJavaMapSize   = 4 * MaxAccounts // a FreeOTP backup has 2 entries an account, and one more
	maxJavaFields    = 16
)

// javaPair is one entry of a serialized map, in the order of the stream.
type javaPair struct{ Key, Value string }

// errJavaStream is the cause of every refusal of readJavaStringMap.
var errJavaStream = errors.New("not a serialized Java map of strings")

// javaReader reads a Java object stream from a byte slice.
type javaReader struct {
	data    []byte
	off     int
	handles []any // objects in the order the stream numbers them; strings are string
}

func (r *javaReader) fail(format string, args ...any) error {
	return fmt.Errorf("%w: %s (at byte %d)", errJavaStream, fmt.Sprintf(format, args...), r.off)
}

func (r *javaReader) take(n int) ([]byte, error) {
	if n < 0 || n > len(r.data)-r.off {
		return nil, fmt.Errorf("%w: the data ends early (at byte %d)", ErrCorrupt, r.off)
	}
	b := r.data[r.off : r.off+n]
	r.off += n
	return b, nil
}

// expect reads one type code and refuses the stream, saying what, unless
// it is tc.
func (r *javaReader) expect(tc byte, what string, args ...any) error {
	got, err := r.byte()
	if err != nil {
		return err
	}
	if got != tc {
		return r.fail(what, args...)
	}
	return nil
}

func (r *javaReader) byte() (byte, error) {
	b, err := r.take(1)
	if err != nil {
		return 0, err
	}
	return b[0], nil
}

func (r *javaReader) uint16() (int, error) {
	b, err := r.take(2)
	if err != nil {
		return 0, err
	}
	return int(binary.BigEndian.Uint16(b)), nil
}

func (r *javaReader) int32() (int32, error) {
	b, err := r.take(4)
	if err != nil {
		return 0, err
	}
	return int32(binary.BigEndian.Uint32(b)), nil
}

// utf reads a 2-byte length and that many bytes of modified UTF-8.
func (r *javaReader) utf() (string, error) {
	n, err := r.uint16()
	if err != nil {
		return "", err
	}
	return r.modifiedUTF8(n)
}

func (r *javaReader) modifiedUTF8(n int) (string, error) {
	b, err := r.take(n)
	if err != nil {
		return "", err
	}
	s, ok := decodeModifiedUTF8(b)
	if !ok {
		return "", r.fail("a string is not valid modified UTF-8")
	}
	return s, nil
}

// readJavaStringMap reads a serialized java.util.HashMap<String, String>
// and returns its entries in the order of the stream. Anything else is
// refused with an error that matches ErrCorrupt.
func readJavaStringMap(data []byte) ([]javaPair, error) {
	r := &javaReader{data: data}
	pairs, err := r.stringMap()
	if err != nil {
		if errors.Is(err, errJavaStream) {
			return nil, fmt.Errorf("%w: %w", ErrCorrupt, err)
		}
		return nil, err
	}
	return pairs, nil
}

func (r *javaReader) stringMap() ([]javaPair, error) {
	magic, err := r.uint16()
	if err != nil {
		return nil, err
	}
	version, err := r.uint16()
	if err != nil {
		return nil, err
	}
	if magic != javaMagic || version != javaVersion {
		return nil, r.fail("no Java object stream header")
	}
	if err := r.expect(javaTCObject, "the stream holds no object"); err != nil {
		return nil, err
	}
	fields, err := r.hashMapClassDesc()
	if err != nil {
		return nil, err
	}
	r.handles = append(r.handles, nil) // the map itself
	// Field values, in the order of the descriptor: loadFactor and threshold.
	for _, size := range fields {
		if _, err := r.take(size); err != nil {
			return nil, err
		}
	}
	// HashMap.writeObject: the capacity and the size as block data, then
	// key and value objects, then the end of the block data.
	size, err := r.mapSize()
	if err != nil {
		return nil, err
	}
	pairs := make([]javaPair, 0, min(size, 64))
	seen := make(map[string]bool, min(size, 64))
	for range size {
		k, err := r.string()
		if err != nil {
			return nil, err
		}
		v, err := r.string()
		if err != nil {
			return nil, err
		}
		if seen[k] {
			return nil, r.fail("the map has a key twice")
		}
		seen[k] = true
		pairs = append(pairs, javaPair{k, v})
	}
	if err := r.expect(javaTCEndBlockData, "the map has more entries than its size says"); err != nil {
		return nil, err
	}
	if r.off != len(r.data) {
		return nil, r.fail("%d bytes follow the map", len(r.data)-r.off)
	}
	return pairs, nil
}

// hashMapClassDesc reads the class descriptor of java.util.HashMap and
// returns the sizes of its primitive fields.
func (r *javaReader) hashMapClassDesc() ([]int, error) {
	if err := r.expect(javaTCClassDesc, "the object has no class descriptor"); err != nil {
		return nil, err
	}
	name, err := r.utf()
	if err != nil {
		return nil, err
	}
	if name != javaHashMapClass {
		return nil, r.fail("the object is a %q, not a %s", name, javaHashMapClass)
	}
	uid, err := r.take(8)
	if err != nil {
		return nil, err
	}
	if binary.BigEndian.Uint64(uid) != javaHashMapUID {
		return nil, r.fail("the %s has an unknown serialVersionUID", javaHashMapClass)
	}
	r.handles = append(r.handles, nil) // the class descriptor
	flags, err := r.byte()
	if err != nil {
		return nil, err
	}
	if flags != javaSCSerializable|javaSCWriteMethod {
		return nil, r.fail("the %s has class flags %#x", javaHashMapClass, flags)
	}
	n, err := r.uint16()
	if err != nil {
		return nil, err
	}
	if n > maxJavaFields {
		return nil, r.fail("the %s has %d fields", javaHashMapClass, n)
	}
	sizes := map[byte]int{'B': 1, 'Z': 1, 'C': 2, 'S': 2, 'F': 4, 'I': 4, 'D': 8, 'J': 8}
	fields := make([]int, 0, n)
	for range n {
		code, err := r.byte()
		if err != nil {
			return nil, err
		}
		size, ok := sizes[code]
		if !ok {
			return nil, r.fail("the %s has a field of type %q; only primitive fields are read", javaHashMapClass, code)
		}
		if _, err := r.utf(); err != nil {
			return nil, err
		}
		fields = append(fields, size)
	}
	// No class annotation, and no serializable superclass.
	if err := r.expect(javaTCEndBlockData, "the %s class descriptor has annotations", javaHashMapClass); err != nil {
		return nil, err
	}
	if err := r.expect(javaTCNull, "the %s has a serializable superclass", javaHashMapClass); err != nil {
		return nil, err
	}
	return fields, nil
}

// mapSize reads the block data HashMap.writeObject writes before its
// entries: the number of buckets and the number of entries.
func (r *javaReader) mapSize() (int, error) {
	tc, err := r.byte()
	if err != nil {
		return 0, err
	}
	var n int
	switch tc {
	case javaTCBlockData:
		b, err := r.byte()
		if err != nil {
			return 0, err
		}
		n = int(b)
	case javaTCBlockDataLong:
		l, err := r.int32()
		if err != nil {
			return 0, err
		}
		n = int(l)
	default:
		return 0, r.fail("the map has no block data")
	}
	if n != 8 {
		return 0, r.fail("the map's block data is %d bytes, not 8", n)
	}
	if _, err := r.int32(); err != nil { // capacity
		return 0, err
	}
	size, err := r.int32()
	if err != nil {
		return 0, err
	}
	if size < 0 {
		return 0, r.fail("the map has %d entries", size)
	}
	if size > maxJavaMapSize {
		return 0, fmt.Errorf("%w: the map has %d entries (Sesame reads at most %d)", ErrTooLarge, size, maxJavaMapSize)
	}
	// Each entry takes at least 6 bytes (two empty strings or references).
	if int64(size)*6 > int64(len(r.data)-r.off) {
		return 0, fmt.Errorf("%w: the map says it has %d entries, but the data ends before them", ErrCorrupt, size)
	}
	return int(size), nil
}

// string reads a String object: a new one or a reference to an earlier one.
func (r *javaReader) string() (string, error) {
	tc, err := r.byte()
	if err != nil {
		return "", err
	}
	switch tc {
	case javaTCString:
		s, err := r.utf()
		if err != nil {
			return "", err
		}
		r.handles = append(r.handles, s)
		return s, nil
	case javaTCLongString:
		b, err := r.take(8)
		if err != nil {
			return "", err
		}
		n := binary.BigEndian.Uint64(b)
		if n > uint64(len(r.data)-r.off) || n > math.MaxInt32 {
			return "", fmt.Errorf("%w: a string is longer than the data left (at byte %d)", ErrCorrupt, r.off)
		}
		s, err := r.modifiedUTF8(int(n))
		if err != nil {
			return "", err
		}
		r.handles = append(r.handles, s)
		return s, nil
	case javaTCReference:
		h, err := r.int32()
		if err != nil {
			return "", err
		}
		i := int64(h) - javaBaseHandle
		if i < 0 || i >= int64(len(r.handles)) {
			return "", r.fail("a reference to object %#x, which the stream has not had", h)
		}
		s, ok := r.handles[i].(string)
		if !ok {
			return "", r.fail("a reference to an object that is not a string")
		}
		return s, nil
	case javaTCNull:
		return "", r.fail("the map holds null")
	}
	return "", r.fail("the map holds an object of kind %#x where a string belongs", tc)
}

// decodeModifiedUTF8 decodes Java's modified UTF-8: UTF-16 code units of
// one to three bytes each, NUL as two bytes, supplementary characters as
// surrogate pairs.
func decodeModifiedUTF8(b []byte) (string, bool) {
	units := make([]uint16, 0, len(b))
	for i := 0; i < len(b); {
		c := b[i]
		switch {
		case c < 0x80:
			units = append(units, uint16(c))
			i++
		case c&0xe0 == 0xc0:
			if i+1 >= len(b) || b[i+1]&0xc0 != 0x80 {
				return "", false
			}
			units = append(units, uint16(c&0x1f)<<6|uint16(b[i+1]&0x3f))
			i += 2
		case c&0xf0 == 0xe0:
			if i+2 >= len(b) || b[i+1]&0xc0 != 0x80 || b[i+2]&0xc0 != 0x80 {
				return "", false
			}
			units = append(units, uint16(c&0x0f)<<12|uint16(b[i+1]&0x3f)<<6|uint16(b[i+2]&0x3f))
			i += 3
		default:
			return "", false
		}
	}
	return string(utf16.Decode(units)), true
}
