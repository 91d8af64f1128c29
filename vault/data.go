package vault

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"
)

// Data is everything the vault holds. It is encrypted as a whole.
type Data struct {
	Accounts []Account `json:"accounts"`
	Pairings []Pairing `json:"pairings,omitempty"`
	History  []Event   `json:"history,omitempty"`
}

// Pairing is a device registration with a sign-in approval server. Its keys are
// secret and live only inside the encrypted vault. The approve package owns
// the meaning of the provider-specific fields.
type Pairing struct {
	ID        string            `json:"id"`
	Provider  string            `json:"provider"` // "sesame" or "privacyidea"
	Server    string            `json:"server"`   // base URL of the approval server
	User      string            `json:"user"`
	Label     string            `json:"label,omitempty"`
	DeviceKey Secret            `json:"device_key"`           // the device's private key, in the provider's encoding
	ServerKey []byte            `json:"server_key,omitempty"` // the server's public key, in the provider's encoding
	Params    map[string]string `json:"params,omitempty"`     // provider-specific, non-secret settings
	Paused    bool              `json:"paused,omitempty"`
	Created   time.Time         `json:"created,omitzero"`
}

// Event is one sign-in decision kept for the history view.
type Event struct {
	PairingID   string    `json:"pairing_id"`
	RequestID   string    `json:"request_id"`
	User        string    `json:"user,omitempty"`
	Application string    `json:"application,omitempty"`
	IP          string    `json:"ip,omitempty"`
	Location    string    `json:"location,omitempty"`
	Decision    string    `json:"decision"` // approved, denied, not_me, expired, failed
	Detail      string    `json:"detail,omitempty"`
	At          time.Time `json:"at"`
}

// MaxHistory is how many sign-in events the vault keeps.
const MaxHistory = 200

// Errors returned by Data's methods.
var (
	ErrNotFound  = errors.New("no account matches")
	ErrDuplicate = errors.New("the vault already has this account")
)

// AmbiguousError is returned when a query matches several accounts.
type AmbiguousError struct {
	Query      string
	Candidates []string // labels of the matching accounts
	IDs        []string // their IDs, in the same order
}

func (e *AmbiguousError) Error() string {
	list := make([]string, len(e.Candidates))
	dupes := map[string]int{}
	for _, c := range e.Candidates {
		dupes[c]++
	}
	for i, c := range e.Candidates {
		list[i] = c
		if dupes[c] > 1 && i < len(e.IDs) {
			list[i] += " [id " + e.IDs[i] + "]" // the ID is the only way to tell them apart
		}
	}
	return fmt.Sprintf("%q matches %d accounts: %s; be more specific, or give the account's ID", e.Query, len(e.Candidates), strings.Join(list, ", "))
}

// NewID returns a random identifier for an account, pairing or request.
func NewID() string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand never fails on supported platforms
	}
	return hex.EncodeToString(b[:])
}

// Add normalizes, validates and appends an account, giving it an ID and the
// added time now. An exact duplicate (same type, issuer, name and secret) is
// refused with ErrDuplicate.
func (d *Data) Add(a Account, now time.Time) (*Account, error) {
	a.Normalize()
	if err := a.Validate(); err != nil {
		return nil, err
	}
	for i := range d.Accounts {
		if d.Accounts[i].SameAs(&a) {
			return nil, fmt.Errorf("%w: %s", ErrDuplicate, a.Label())
		}
	}
	if a.ID == "" || d.index(a.ID) >= 0 {
		a.ID = NewID()
	}
	if a.Added.IsZero() {
		a.Added = now.UTC().Truncate(time.Second)
	}
	d.Accounts = append(d.Accounts, a)
	return &d.Accounts[len(d.Accounts)-1], nil
}

// Account returns the account with the given ID.
func (d *Data) Account(id string) (*Account, error) {
	if i := d.index(id); i >= 0 {
		return &d.Accounts[i], nil
	}
	return nil, ErrNotFound
}

// Remove deletes the account with the given ID and returns it.
func (d *Data) Remove(id string) (Account, error) {
	i := d.index(id)
	if i < 0 {
		return Account{}, ErrNotFound
	}
	a := d.Accounts[i]
	d.Accounts = slices.Delete(d.Accounts, i, i+1)
	return a, nil
}

func (d *Data) index(id string) int {
	return slices.IndexFunc(d.Accounts, func(a Account) bool { return a.ID == id })
}

// Find resolves a user's query to one account: its ID, an exact match on the label,
// issuer or name first (case-insensitive), then a unique substring of
// "issuer name". Several matches give an *AmbiguousError listing them.
func (d *Data) Find(query string) (*Account, error) {
	i, err := find(query, len(d.Accounts), func(i int) (id, issuer, name string) {
		a := &d.Accounts[i]
		return a.ID, a.Issuer, a.Name
	})
	if err != nil {
		return nil, err
	}
	return &d.Accounts[i], nil
}

// find resolves query among n accounts by the rules of Data.Find, given the
// ID, issuer and name of account i, and returns the index of the match.
func find(query string, n int, at func(i int) (id, issuer, name string)) (int, error) {
	q := strings.ToLower(strings.TrimSpace(query))
	if q == "" {
		return -1, fmt.Errorf("%w: the query is empty", ErrNotFound)
	}
	for i := range n {
		if id, _, _ := at(i); id == query {
			return i, nil
		}
	}
	pick := func(match func(issuer, name string) bool) (int, error) {
		var hits []int
		for i := range n {
			if _, issuer, name := at(i); match(issuer, name) {
				hits = append(hits, i)
			}
		}
		switch len(hits) {
		case 0:
			return -1, nil
		case 1:
			return hits[0], nil
		}
		e := &AmbiguousError{Query: query}
		for _, i := range hits {
			id, issuer, name := at(i)
			e.Candidates = append(e.Candidates, label(issuer, name))
			e.IDs = append(e.IDs, id)
		}
		return -1, e
	}
	// Matching compares lower-cased "issuer name" built in one buffer, so
	// that a query over many accounts allocates nothing per account.
	var buf []byte
	lower := func(issuer, name string) (key []byte, k int) {
		buf = appendLower(buf[:0], issuer)
		k = len(buf)
		buf = appendLower(append(buf, ' '), name)
		return buf, k
	}
	exact := func(issuer, name string) bool {
		key, k := lower(issuer, name)
		li, ln := key[:k], key[k+1:]
		if string(li) == q || string(ln) == q { // also the label when one is empty
			return true
		}
		if len(q) == len(key) && q[k] == ':' && q[:k] == string(li) && q[k+1:] == string(ln) { // "issuer:name"
			return true
		}
		return issuer != "" && name != "" && len(q) == len(key)+2 && // the label "issuer (name)"
			q[:k] == string(li) && q[k:k+2] == " (" && q[k+2:len(q)-1] == string(ln) && q[len(q)-1] == ')'
	}
	qb := []byte(q)
	sub := func(issuer, name string) bool {
		key, _ := lower(issuer, name)
		return bytes.Contains(key, qb)
	}
	if i, err := pick(exact); i >= 0 || err != nil {
		return i, err
	}
	if i, err := pick(sub); i >= 0 || err != nil {
		return i, err
	}
	return -1, fmt.Errorf("%w %q (see sesame list)", ErrNotFound, query)
}

// Record appends a sign-in event to the history, dropping the oldest beyond MaxHistory.
func (d *Data) Record(e Event) {
	d.History = append(d.History, e)
	if n := len(d.History) - MaxHistory; n > 0 {
		d.History = slices.Delete(d.History, 0, n)
	}
}

// Clone returns a deep copy, so that a snapshot handed to another goroutine
// never shares memory with the vault's own.
func (d *Data) Clone() Data {
	c := Data{
		Accounts: slices.Clone(d.Accounts),
		Pairings: slices.Clone(d.Pairings),
		History:  slices.Clone(d.History),
	}
	for i := range c.Accounts {
		c.Accounts[i].Secret = slices.Clone(c.Accounts[i].Secret)
	}
	for i := range c.Pairings {
		p := &c.Pairings[i]
		p.DeviceKey = slices.Clone(p.DeviceKey)
		p.ServerKey = slices.Clone(p.ServerKey)
		if p.Params != nil {
			m := make(map[string]string, len(p.Params))
			for k, v := range p.Params {
				m[k] = v
			}
			p.Params = m
		}
	}
	return c
}

// appendLower appends strings.ToLower(s) to b, without allocating for ASCII.
func appendLower(b []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		if s[i] >= utf8.RuneSelf {
			return append(b, strings.ToLower(s)...)
		}
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		b = append(b, c)
	}
	return b
}
