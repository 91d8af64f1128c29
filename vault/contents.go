package vault

// The encrypted contents of a version 2 vault file: the accounts in a compact
// binary encoding that can be walked without building them, then the
// pairings and the history as JSON (few, and needed only by approvals).
//
//	contents = uvarint(len(accounts)) record* uvarint(len(rest)) rest
//	record   = uvarint(len(body)) body
//	body     = str(ID) str(Issuer) str(Name)            labels first: all a query needs
//	           str(Type) str(Algorithm) varint(Digits) varint(Period)
//	           uvarint(Counter) flags [varint(unix s) uvarint(ns)] str(Secret)
//	str      = uvarint(len) bytes
//	flags    = bit 0 pinned, bit 1 an Added time follows
//	rest     = JSON {"pairings": [...], "history": [...]}
//
// Reading checks every record once (without allocating), so that decoding an
// account later cannot fail.

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"slices"
	"time"
	"unsafe"
)

const (
	flagPinned = 1 << iota
	flagAdded
)

// errContents is why contents do not parse; the reader reports it as a
// damaged file, never with bytes of the contents.
var errContents = errors.New("its contents do not parse")

// contents is the decrypted contents of a vault file, checked. A version 2
// file's accounts are still encoded; a version 1 file's are decoded.
type contents struct {
	plain    []byte    // version 2: the contents
	text     string    // plain as a string, which every decoded string is part of
	records  []span    // version 2: each account's body in plain, in order
	decoded  bool      // version 1: accounts holds them
	accounts []Account // version 1
	pairings []Pairing
	history  []Event
}

// span is where a part of the contents lies: plain[lo:hi].
type span struct{ lo, hi int }

// len is the number of accounts.
func (c *contents) len() int { return len(c.records) + len(c.accounts) }

// encodeContents encodes d in the version 2 contents encoding.
func encodeContents(d *Data) ([]byte, error) {
	rest, err := json.Marshal(struct {
		Pairings []Pairing `json:"pairings,omitempty"`
		History  []Event   `json:"history,omitempty"`
	}{d.Pairings, d.History})
	if err != nil {
		return nil, err
	}
	size := 16 + len(rest)
	for i := range d.Accounts {
		a := &d.Accounts[i]
		size += 64 + len(a.ID) + len(a.Issuer) + len(a.Name) + len(a.Type) + len(a.Algorithm) + len(a.Secret)
	}
	b := make([]byte, 0, size)
	b = binary.AppendUvarint(b, uint64(len(d.Accounts)))
	var body []byte
	for i := range d.Accounts {
		body = appendAccount(body[:0], &d.Accounts[i])
		b = binary.AppendUvarint(b, uint64(len(body)))
		b = append(b, body...)
	}
	b = binary.AppendUvarint(b, uint64(len(rest)))
	return append(b, rest...), nil
}

func appendStr[S ~string | ~[]byte](b []byte, s S) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	return append(b, s...)
}

func appendAccount(b []byte, a *Account) []byte {
	b = appendStr(b, a.ID)
	b = appendStr(b, a.Issuer)
	b = appendStr(b, a.Name)
	b = appendStr(b, a.Type)
	b = appendStr(b, a.Algorithm)
	b = binary.AppendVarint(b, int64(a.Digits))
	b = binary.AppendVarint(b, int64(a.Period))
	b = binary.AppendUvarint(b, a.Counter)
	var flags byte
	if a.Pinned {
		flags |= flagPinned
	}
	if !a.Added.IsZero() {
		flags |= flagAdded
	}
	b = append(b, flags)
	if !a.Added.IsZero() {
		b = binary.AppendVarint(b, a.Added.Unix())
		b = binary.AppendUvarint(b, uint64(a.Added.Nanosecond()))
	}
	return appendStr(b, a.Secret)
}

// parseContents checks plain and indexes its accounts. It decodes the
// pairings and the history, but no account. The accounts it decodes later
// share memory with plain, which must not change.
func parseContents(plain []byte) (*contents, error) {
	r := reader{b: plain}
	n := r.uvarint()
	if r.err != nil || n > uint64(len(plain)) { // every record takes at least a byte
		return nil, errContents
	}
	c := &contents{plain: plain, records: make([]span, 0, n)}
	for range n {
		body := r.field()
		if r.err != nil || c.decodeAccount(body, nil) != nil {
			return nil, errContents
		}
		c.records = append(c.records, body)
	}
	rest := r.field()
	if r.err != nil || r.i != len(plain) {
		return nil, errContents
	}
	// A vault without pairings or history (most) has an empty tail, which
	// needs no JSON decoder: that would be the most costly step of opening.
	if tail := plain[rest.lo:rest.hi]; string(tail) != "{}" {
		var t struct {
			Pairings []Pairing `json:"pairings"`
			History  []Event   `json:"history"`
		}
		if err := json.Unmarshal(tail, &t); err != nil {
			return nil, errContents
		}
		c.pairings, c.history = t.Pairings, t.History
	}
	// The strings decoded later are parts of plain itself, which never
	// changes: no second copy of the contents (secrets included).
	c.text = unsafe.String(unsafe.SliceData(plain), len(plain))
	return c, nil
}

// labels decodes what a query matches on: the ID, issuer and name of
// account i.
func (c *contents) labels(i int) (id, issuer, name string) {
	if c.decoded {
		a := &c.accounts[i]
		return a.ID, a.Issuer, a.Name
	}
	r := reader{b: c.plain[:c.records[i].hi], i: c.records[i].lo}
	return c.str(r.field()), c.str(r.field()), c.str(r.field())
}

// account decodes account i in full, with a secret of its own.
func (c *contents) account(i int) Account {
	var a Account
	if c.decoded {
		a = c.accounts[i]
	} else {
		_ = c.decodeAccount(c.records[i], &a) // checked by parseContents
	}
	a.Secret = slices.Clone(a.Secret)
	return a
}

// data decodes everything. The accounts' secrets share memory with c.
func (c *contents) data() Data {
	if c.decoded {
		return Data{Accounts: c.accounts, Pairings: c.pairings, History: c.history}
	}
	d := Data{Accounts: make([]Account, len(c.records)), Pairings: c.pairings, History: c.history}
	for i, body := range c.records {
		_ = c.decodeAccount(body, &d.Accounts[i]) // checked by parseContents
	}
	return d
}

func (c *contents) str(s span) string { return c.text[s.lo:s.hi] }

// decodeAccount decodes the account at body into a, or with a nil a only
// checks it.
func (c *contents) decodeAccount(body span, a *Account) error {
	r := reader{b: c.plain[:body.hi], i: body.lo}
	id, issuer, name, typ, alg := r.field(), r.field(), r.field(), r.field(), r.field()
	digits, period, counter := r.varint(), r.varint(), r.uvarint()
	flags := r.byte()
	var sec, nsec int64
	if flags&flagAdded != 0 {
		sec, nsec = r.varint(), r.nanos()
	}
	secret := r.field()
	if r.err != nil || r.i != body.hi || flags&^(flagPinned|flagAdded) != 0 {
		return errContents
	}
	if a == nil {
		return nil
	}
	*a = Account{
		ID: c.str(id), Issuer: c.str(issuer), Name: c.str(name), Type: Type(c.str(typ)), Algorithm: Algorithm(c.str(alg)),
		Digits: int(digits), Period: int(period), Counter: counter, Pinned: flags&flagPinned != 0,
		Secret: Secret(c.plain[secret.lo:secret.hi:secret.hi]),
	}
	if flags&flagAdded != 0 {
		a.Added = time.Unix(sec, nsec).UTC()
	}
	return nil
}

// reader reads the contents encoding from b[i:]. The first error sticks,
// and every read after it returns zero values.
type reader struct {
	b   []byte
	i   int
	err error
}

func (r *reader) uvarint() uint64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Uvarint(r.b[r.i:])
	if n <= 0 {
		r.err = errContents
		return 0
	}
	r.i += n
	return v
}

func (r *reader) varint() int64 {
	if r.err != nil {
		return 0
	}
	v, n := binary.Varint(r.b[r.i:])
	if n <= 0 {
		r.err = errContents
		return 0
	}
	r.i += n
	return v
}

func (r *reader) nanos() int64 {
	ns := r.uvarint()
	if ns >= uint64(time.Second) {
		r.err = errContents
		return 0
	}
	return int64(ns)
}

func (r *reader) byte() byte {
	if r.err != nil || r.i >= len(r.b) {
		r.err = errContents
		return 0
	}
	r.i++
	return r.b[r.i-1]
}

// field reads a length-prefixed field and returns where it lies.
func (r *reader) field() span {
	n := r.uvarint()
	if r.err != nil || n > uint64(len(r.b)-r.i) {
		r.err = errContents
		return span{}
	}
	s := span{r.i, r.i + int(n)}
	r.i = s.hi
	return s
}
