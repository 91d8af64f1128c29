package server

import (
	"net"
	"net/netip"
	"sync"
)

// Default connection caps of LimitListener.
const (
	DefaultMaxConns          = 4096 // open connections in total
	DefaultMaxConnsPerClient = 64   // open connections from one client address
)

// ConnLimits caps a listener's open connections.
type ConnLimits struct {
	// Total is the most open connections; DefaultMaxConns when 0.
	Total int
	// PerClient is the most open connections from one address;
	// DefaultMaxConnsPerClient when 0. Connections from TrustedProxies count
	// only towards Total (behind a proxy every client has its address).
	PerClient int
	// TrustedProxies are the reverse proxies' addresses (Config.TrustedProxies).
	TrustedProxies []netip.Prefix
}

// LimitListener wraps ln so that at most l.Total connections are open at
// once, and at most l.PerClient from one client address. A connection over a
// cap is closed as soon as it is accepted, before anything is read from it,
// so that a client holding many slow connections cannot take every slot (and
// goroutine) of the server.
func LimitListener(ln net.Listener, l ConnLimits) net.Listener {
	if l.Total <= 0 {
		l.Total = DefaultMaxConns
	}
	if l.PerClient <= 0 {
		l.PerClient = DefaultMaxConnsPerClient
	}
	return &limitListener{Listener: ln, l: l, per: map[netip.Addr]int{}}
}

type limitListener struct {
	net.Listener
	l     ConnLimits
	mu    sync.Mutex
	total int
	per   map[netip.Addr]int
}

func (ll *limitListener) Accept() (net.Conn, error) {
	for {
		c, err := ll.Listener.Accept()
		if err != nil {
			return nil, err
		}
		var addr netip.Addr
		if ap, err := netip.ParseAddrPort(c.RemoteAddr().String()); err == nil {
			addr = ap.Addr().Unmap()
		}
		if !ll.take(addr) {
			c.Close()
			continue
		}
		return &limitConn{Conn: c, release: func() { ll.release(addr) }}, nil
	}
}

// take counts a new connection from addr, or reports that a cap is reached.
func (ll *limitListener) take(addr netip.Addr) bool {
	ll.mu.Lock()
	defer ll.mu.Unlock()
	if ll.total >= ll.l.Total {
		return false
	}
	perClient := addr.IsValid() && !trusted(ll.l.TrustedProxies, addr.String())
	if perClient && ll.per[addr] >= ll.l.PerClient {
		return false
	}
	ll.total++
	if perClient {
		ll.per[addr]++
	}
	return true
}

func (ll *limitListener) release(addr netip.Addr) {
	ll.mu.Lock()
	defer ll.mu.Unlock()
	ll.total--
	if n, ok := ll.per[addr]; ok {
		if n <= 1 {
			delete(ll.per, addr)
		} else {
			ll.per[addr] = n - 1
		}
	}
}

// limitConn gives its slot back once, when closed.
type limitConn struct {
	net.Conn
	once    sync.Once
	release func()
}

func (c *limitConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(c.release)
	return err
}
