package vault

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"
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
	q := strings.ToLower(strings.TrimSpace(query))
	if q == "" {
		return nil, fmt.Errorf("%w: the query is empty", ErrNotFound)
	}
	if i := d.index(query); i >= 0 {
		return &d.Accounts[i], nil
	}
	pick := func(match func(a *Account) bool) (*Account, error) {
		var hits []int
		for i := range d.Accounts {
			if match(&d.Accounts[i]) {
				hits = append(hits, i)
			}
		}
		switch len(hits) {
		case 0:
			return nil, nil
		case 1:
			return &d.Accounts[hits[0]], nil
		}
		e := &AmbiguousError{Query: query}
		for _, i := range hits {
			e.Candidates = append(e.Candidates, d.Accounts[i].Label())
			e.IDs = append(e.IDs, d.Accounts[i].ID)
		}
		return nil, e
	}
	exact := func(a *Account) bool {
		return strings.ToLower(a.Label()) == q || strings.ToLower(a.Issuer) == q || strings.ToLower(a.Name) == q ||
			strings.ToLower(a.Issuer+":"+a.Name) == q
	}
	if a, err := pick(exact); a != nil || err != nil {
		return a, err
	}
	sub := func(a *Account) bool { return strings.Contains(strings.ToLower(a.Issuer+" "+a.Name), q) }
	if a, err := pick(sub); a != nil || err != nil {
		return a, err
	}
	return nil, fmt.Errorf("%w %q (see sesame list)", ErrNotFound, query)
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
