package server

import (
	"math/rand/v2"
	"sync"
	"time"

	"github.com/sesame-auth/sesame/approve/sesame"
)

// hub wakes long-polls when a user's requests change. A wait inside a
// handler takes the user's channel, closed (and forgotten) on a change; a
// parked long-poll is in the user's list, woken (and taken off the list) on a
// change. Waiters subscribe before reading the store, so that no change is
// missed. No goroutine is started.
type hub struct {
	mu     sync.Mutex
	ch     map[string]chan struct{}
	parked map[string]*parkedPoll // the head of each user's list
}

func newHub() *hub { return &hub{ch: map[string]chan struct{}{}, parked: map[string]*parkedPoll{}} }

// sub returns the channel that is closed at the next change for user.
func (h *hub) sub(user string) <-chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	c, ok := h.ch[user]
	if !ok {
		c = make(chan struct{})
		h.ch[user] = c
	}
	return c
}

// park puts p on its user's list, to be woken at the next change.
func (h *hub) park(p *parkedPoll) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if p.inHub {
		return
	}
	p.prev, p.next, p.inHub = nil, h.parked[p.user], true
	if p.next != nil {
		p.next.prev = p
	}
	h.parked[p.user] = p
}

// unpark takes p off its user's list, if it is on it.
func (h *hub) unpark(p *parkedPoll) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if !p.inHub {
		return
	}
	if p.prev != nil {
		p.prev.next = p.next
	} else if p.next != nil {
		h.parked[p.user] = p.next
	} else {
		delete(h.parked, p.user)
	}
	if p.next != nil {
		p.next.prev = p.prev
	}
	p.prev, p.next, p.inHub = nil, nil, false
}

// takeLocked empties the list that starts at p.
func takeLocked(p *parkedPoll, into []*parkedPoll) []*parkedPoll {
	for p != nil {
		next := p.next
		p.prev, p.next, p.inHub = nil, nil, false
		into = append(into, p)
		p = next
	}
	return into
}

// notify wakes everything waiting on user.
func (h *hub) notify(user string) {
	h.mu.Lock()
	c, ok := h.ch[user]
	delete(h.ch, user)
	parked := takeLocked(h.parked[user], nil)
	delete(h.parked, user)
	h.mu.Unlock()
	if ok {
		close(c)
	}
	for _, p := range parked {
		p.wake()
	}
}

// notifyAll wakes every waiter.
func (h *hub) notifyAll() {
	h.mu.Lock()
	old := h.ch
	h.ch = map[string]chan struct{}{}
	var parked []*parkedPoll
	for _, p := range h.parked {
		parked = takeLocked(p, parked)
	}
	h.parked = map[string]*parkedPoll{}
	h.mu.Unlock()
	for _, c := range old {
		close(c)
	}
	for _, p := range parked {
		p.wake()
	}
}

// jitter takes up to 40 % off a long-poll's wait at random, so that
// devices that connected together (after a restart, a network outage) do not
// all come back together: 10,000 devices renewing a 25 s wait are spread
// over 10 s after one round, instead of arriving in the same second.
func jitter(d time.Duration) time.Duration {
	if d <= 0 {
		return d
	}
	return d - time.Duration(rand.Int64N(int64(d*2/5)+1))
}

// nonceLife is how long a device request's nonce is remembered: the window
// in which its timestamp is accepted.
const nonceLife = 2*sesame.MaxClockSkew + time.Second

// nonceCache remembers the nonces of device requests for at least
// 2*MaxClockSkew, the window in which a timestamp is accepted. It keeps two
// generations of maps and drops the older one wholesale, so it needs no sweep.
type nonceCache struct {
	mu      sync.Mutex
	cur     map[string]struct{}
	prev    map[string]struct{}
	rotated time.Time
	life    time.Duration
	max     int
}

func newNonceCache(life time.Duration, max int) *nonceCache {
	return &nonceCache{cur: map[string]struct{}{}, prev: map[string]struct{}{}, life: life, max: max}
}

// result of nonceCache.add
const (
	nonceFresh = iota
	nonceReplayed
	nonceFull
)

// add records key and reports whether it was fresh, seen before, or the cache is full.
func (c *nonceCache) add(key string, now time.Time) int {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.rotated.IsZero() {
		c.rotated = now
	}
	if elapsed := now.Sub(c.rotated); elapsed >= c.life {
		c.prev, c.cur = c.cur, make(map[string]struct{}, len(c.cur))
		if elapsed >= 2*c.life {
			c.prev = map[string]struct{}{}
		}
		c.rotated = now
	}
	if _, ok := c.cur[key]; ok {
		return nonceReplayed
	}
	if _, ok := c.prev[key]; ok {
		return nonceReplayed
	}
	if len(c.cur) >= c.max {
		return nonceFull
	}
	c.cur[key] = struct{}{}
	return nonceFresh
}

// limiter is a token-bucket rate limiter per key, with a bounded number of
// keys, in this process's memory.
type limiter struct {
	mu    sync.Mutex
	every time.Duration // one token per every
	burst float64
	max   int
	m     map[string]*tokenBucket
}

// tokenBucket is one key's bucket. Its zero value is a full bucket, so that
// it can live in a stored record too (a user's sign-in limit, shared by
// every replica).
type tokenBucket struct {
	Used float64   `json:"used,omitempty"` // tokens taken and not yet refilled
	At   time.Time `json:"at,omitzero"`
}

// level is the number of tokens in b at now.
func (b *tokenBucket) level(now time.Time, every time.Duration, burst float64) float64 {
	if b.At.IsZero() {
		return burst
	}
	return min(burst, burst-b.Used+float64(now.Sub(b.At))/float64(every))
}

// take takes a token if one is available; one per every, at most burst.
func (b *tokenBucket) take(now time.Time, every time.Duration, burst float64) bool {
	if every <= 0 {
		return true
	}
	tokens := b.level(now, every, burst)
	if tokens < 1 {
		return false
	}
	b.Used, b.At = burst-(tokens-1), now
	return true
}

func newLimiter(every time.Duration, burst, maxKeys int) *limiter {
	return &limiter{every: every, burst: float64(burst), max: maxKeys, m: map[string]*tokenBucket{}}
}

// allow takes a token for key if one is available.
func (l *limiter) allow(key string, now time.Time) bool {
	if l == nil || l.every <= 0 {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	b, ok := l.m[key]
	if !ok {
		if len(l.m) >= l.max {
			// Forget the keys whose buckets have refilled: they are as good as new.
			for k, v := range l.m {
				if v.level(now, l.every, l.burst) >= l.burst {
					delete(l.m, k)
				}
			}
			if len(l.m) >= l.max {
				return false
			}
		}
		b = &tokenBucket{}
		l.m[key] = b
	}
	return b.take(now, l.every, l.burst)
}
