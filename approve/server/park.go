package server

import (
	"bytes"
	"context"
	"errors"
	"net"
	"net/http"
	"os"
	"strconv"
	"sync"
	"time"
)

// Parked long-polls: a device's long-poll over HTTP/1.1 waits outside
// net/http. Its handler takes the connection over (http.Hijacker), drops
// net/http's buffers, goroutine and request, and leaves in the hub only the
// bare connection and what its answer needs. One small goroutine per parked
// connection sits in a 1-byte Read, which returns when the client goes away,
// when the wait is over (a read deadline), or when a wake-up or the shutdown
// moves the deadline to the past. The answer is the response the handler
// would have written, as net/http writes it, and the connection goes back to
// the http.Server for its next request through the listener (Listener). A
// wait that cannot be parked (HTTP/2, a request with a body, no Listener)
// waits inside its handler as before. A connection handed back is a new
// connection to the http.Server: its next request's headers must arrive
// within ReadHeaderTimeout (not IdleTimeout), which a device's next poll,
// sent at once, does.

// Listener wraps ln, the listener the http.Server serving h accepts from, so
// that parked long-polls hand their connections back to that server once
// answered: its Accept also returns them. Without it every long-poll waits
// inside its handler, with net/http's buffers and goroutines (about 40 KiB
// per waiting device instead of 10 to 13, BENCHMARKS.md). Wrap the
// connection caps (LimitListener) and TLS inside it, so that a returned
// connection is neither counted nor wrapped again. Call it once, before
// serving.
func (h *Handler) Listener(ln net.Listener) net.Listener {
	pl := &parkListener{Listener: ln, back: make(chan net.Conn), accepted: make(chan accepted), done: make(chan struct{})}
	h.parking.ln = pl
	return pl
}

// Shutdown ends the long-polls as Close does and waits until every parked
// one has been answered (503 with Retry-After, its connection closed) or ctx
// is done. Call it after http.Server.Shutdown, which does not see parked
// connections.
func (h *Handler) Shutdown(ctx context.Context) error {
	h.Close()
	return h.parking.wait(ctx)
}

// parkListener is Listener's listener: the wrapped listener's connections,
// and the connections of answered parked long-polls.
type parkListener struct {
	net.Listener
	back      chan net.Conn
	accepted  chan accepted
	done      chan struct{}
	startOnce sync.Once
	closeOnce sync.Once
}

type accepted struct {
	c   net.Conn
	err error
}

func (l *parkListener) Accept() (net.Conn, error) {
	l.startOnce.Do(func() { go l.pump() })
	select {
	case c := <-l.back:
		return c, nil
	case a := <-l.accepted:
		return a.c, a.err
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// pump accepts from the wrapped listener until it fails for good.
func (l *parkListener) pump() {
	for {
		c, err := l.Listener.Accept()
		select {
		case l.accepted <- accepted{c, err}:
		case <-l.done:
			if c != nil {
				c.Close()
			}
			return
		}
		var ne net.Error
		if err != nil && !(errors.As(err, &ne) && ne.Timeout()) {
			return
		}
	}
}

func (l *parkListener) Close() error {
	l.closeOnce.Do(func() { close(l.done) })
	return l.Listener.Close()
}

// giveBack hands c to the server's next Accept, or closes it when the
// listener is closed.
func (l *parkListener) giveBack(c net.Conn) {
	select {
	case l.back <- c:
	case <-l.done:
		c.Close()
	}
}

// parking counts the parked long-polls, so that Shutdown can wait for them.
type parking struct {
	ln     *parkListener // nil: long-polls are not parked
	mu     sync.Mutex
	n      int
	closed bool
	idle   chan struct{}
}

// add counts a long-poll about to be parked, or reports that the handler is
// shutting down.
func (p *parking) add() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.closed {
		return false
	}
	p.n++
	return true
}

func (p *parking) done() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.n--
	if p.n == 0 && p.idle != nil {
		close(p.idle)
		p.idle = nil
	}
}

// wait refuses new parked long-polls and waits until none is left.
func (p *parking) wait(ctx context.Context) error {
	p.mu.Lock()
	p.closed = true
	if p.n == 0 {
		p.mu.Unlock()
		return nil
	}
	if p.idle == nil {
		p.idle = make(chan struct{})
	}
	idle := p.idle
	p.mu.Unlock()
	select {
	case <-idle:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// parkedPoll is a device's long-poll parked in the hub.
type parkedPoll struct {
	h            *Handler
	user         string
	nonce, since string
	req          *requestRecord // the pending request last read (its ID is since), or nil
	end          time.Time      // when the wait is over, in real time
	prev, next   *parkedPoll    // the user's list in the hub, under hub.mu
	inHub        bool           // under hub.mu

	mu    sync.Mutex
	conn  net.Conn // nil until the connection is taken over
	woken bool     // the user's requests changed, or the handler is closing
	extra bool     // the client sent more than its request: answer at once and close
}

// wake is called by the hub when the user's requests change: it interrupts
// the connection's Read.
func (p *parkedPoll) wake() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.woken = true
	if p.conn != nil {
		p.conn.SetReadDeadline(longAgo)
	}
}

// longAgo is a deadline in the past: it interrupts a Read at once.
var longAgo = time.Unix(1, 0)

// parkable reports whether r's wait may be parked: a plain HTTP/1.1 GET
// without a body, on a handler with a Listener.
func (h *Handler) parkable(r *http.Request) bool {
	return h.parking.ln != nil && r.ProtoMajor == 1 && r.ProtoMinor == 1 && r.Method == http.MethodGet &&
		!r.Close && r.ContentLength == 0 && len(r.TransferEncoding) == 0
}

// park takes r's connection over and parks p, already subscribed in the hub;
// false when the connection cannot be taken over (the caller waits in the
// handler instead).
func (h *Handler) park(w http.ResponseWriter, p *parkedPoll) bool {
	if !h.parking.add() {
		return false
	}
	conn, brw, err := http.NewResponseController(w).Hijack()
	if err != nil {
		h.parking.done()
		return false
	}
	h.metrics.waiting.Add(1)
	p.mu.Lock()
	p.conn = conn
	// A client that sent more than this request (pipelining) gets its answer
	// at once, and the connection is closed after it: what it sent next is
	// in net/http's buffer, dropped here, and it sends it again.
	p.extra = brw.Reader.Buffered() > 0
	p.mu.Unlock()
	go p.read()
	return true
}

// read waits in a fresh goroutine (the smallest stack) for the client to
// send or go away, the wait to end, or a wake-up, then resumes p. p is in
// the hub: a Close after this check wakes it.
func (p *parkedPoll) read() {
	p.mu.Lock()
	deadline := p.end
	select {
	case <-p.h.closing:
		deadline = longAgo
	default:
	}
	if p.woken || p.extra {
		deadline = longAgo
	}
	p.conn.SetReadDeadline(deadline)
	p.mu.Unlock()
	var b [1]byte
	n, err := p.conn.Read(b[:])
	p.resume(n, err)
}

// resume acts on what ended p's Read: a wake-up re-reads the user's pending
// request and parks p again if it did not change; anything else answers.
func (p *parkedPoll) resume(n int, err error) {
	h := p.h
	if n > 0 {
		p.extra = true
	} else if !errors.Is(err, os.ErrDeadlineExceeded) {
		// The client went away.
		h.hub.unpark(p)
		p.finish()
		p.conn.Close()
		return
	}
	p.mu.Lock()
	woken := p.woken
	p.woken = false
	p.mu.Unlock()
	h.hub.unpark(p)
	select {
	case <-h.closing:
		p.answer(true, func(w http.ResponseWriter) { h.writeShuttingDown(w, p.nonce) })
		return
	default:
	}
	if woken && !p.extra {
		h.hub.park(p)
		req, err := h.pendingState(p.user)
		if err != nil {
			h.hub.unpark(p)
			p.answer(false, func(w http.ResponseWriter) { h.writeSigned(w, p.nonce, 0, err) })
			return
		}
		if stateOf(req) == p.since && time.Now().Before(p.end) {
			p.req = req
			go p.read()
			return
		}
		h.hub.unpark(p)
		p.req = req
	}
	p.answer(p.extra, func(w http.ResponseWriter) { h.writePoll(w, p.nonce, p.since, p.req) })
}

// answer writes the response that write makes to the connection, as
// net/http would, and hands the connection back to the server, or closes it.
func (p *parkedPoll) answer(closeAfter bool, write func(http.ResponseWriter)) {
	defer p.finish()
	rw := &bufferedResponse{header: http.Header{}}
	p.h.commonHeaders(rw.header)
	write(rw)
	p.conn.SetDeadline(time.Now().Add(p.h.cfg.BodyTimeout))
	_, err := p.conn.Write(rw.http11(closeAfter))
	if err != nil || closeAfter {
		p.conn.Close()
		return
	}
	p.conn.SetDeadline(time.Time{})
	p.h.parking.ln.giveBack(p.conn)
}

func (p *parkedPoll) finish() {
	p.h.metrics.waiting.Add(-1)
	p.h.parking.done()
}

// bufferedResponse is an http.ResponseWriter that keeps the response, for a
// parked long-poll's answer.
type bufferedResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (b *bufferedResponse) Header() http.Header { return b.header }

func (b *bufferedResponse) WriteHeader(status int) {
	if b.status == 0 {
		b.status = status
	}
}

func (b *bufferedResponse) Write(p []byte) (int, error) {
	b.WriteHeader(http.StatusOK)
	return b.body.Write(p)
}

// chunkAbove is the body size above which net/http sends a response that
// its handler wrote in one piece chunked: its response buffer's size.
const chunkAbove = 2048

// http11 is the response as net/http's server writes it to an HTTP/1.1
// request whose handler wrote it in one piece and returned: the status
// line, the handler's headers in sorted order, then Date, Content-Length (or
// chunked for a body of over 2 KiB) and, to close the connection,
// Connection: close.
func (b *bufferedResponse) http11(closeAfter bool) []byte {
	var out bytes.Buffer
	out.WriteString("HTTP/1.1 ")
	out.WriteString(strconv.Itoa(b.status))
	out.WriteByte(' ')
	out.WriteString(http.StatusText(b.status))
	out.WriteString("\r\n")
	closeHeader := b.header.Get("Connection") == "close"
	if closeAfter && !closeHeader {
		b.header.Del("Connection")
	}
	b.header.Write(&out)
	out.WriteString("Date: ")
	out.Write(time.Now().UTC().AppendFormat(nil, http.TimeFormat))
	out.WriteString("\r\n")
	chunked := b.body.Len() > chunkAbove
	if !chunked {
		out.WriteString("Content-Length: " + strconv.Itoa(b.body.Len()) + "\r\n")
	}
	if closeAfter && !closeHeader {
		out.WriteString("Connection: close\r\n")
	}
	if chunked {
		out.WriteString("Transfer-Encoding: chunked\r\n\r\n")
		out.WriteString(strconv.FormatInt(int64(b.body.Len()), 16) + "\r\n")
		out.Write(b.body.Bytes())
		out.WriteString("\r\n0\r\n\r\n")
		return out.Bytes()
	}
	out.WriteString("\r\n")
	out.Write(b.body.Bytes())
	return out.Bytes()
}
