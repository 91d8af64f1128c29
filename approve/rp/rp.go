// Package rp is a client of the relying-party API of a Sesame approval
// server (docs/protocol.md): start a sign-in, wait for its outcome, cancel
// it. It imports nothing else of Sesame, so a small server-side program
// (sesame-gate) can use it without linking the vault or the keyring.
package rp

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Statuses of a sign-in on the wire, as the server reports them (package
// approve uses these too).
const (
	StatusPending  = "pending"
	StatusApproved = "approved"
	StatusDenied   = "denied"
	StatusNotMe    = "not_me"
	StatusExpired  = "expired"
)

// ErrUnavailable means the server could not be reached or failed (network
// error, timeout, HTTP 5xx): what a gate's failmode is about.
var ErrUnavailable = errors.New("the approval server is unreachable")

// APIError is a refusal by the server with its error code (blocked,
// no_devices, rate_limited, unauthorized, ...). A 5xx unwraps to ErrUnavailable.
type APIError struct {
	Status  int
	Code    string
	Message string
}

func (e *APIError) Error() string {
	msg := strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f {
			return -1
		}
		return r
	}, e.Message)
	if len(msg) > 200 {
		msg = msg[:200]
	}
	return fmt.Sprintf("the approval server said %d %s: %s", e.Status, e.Code, msg)
}

// Unwrap is ErrUnavailable for server errors (5xx), nil otherwise.
func (e *APIError) Unwrap() error {
	if e.Status >= 500 {
		return ErrUnavailable
	}
	return nil
}

// SignIn is what a relying party tells the server about a sign-in; the
// text fields are shown on the user's device (at most 256 bytes each).
type SignIn struct {
	User        string `json:"user"`
	Application string `json:"application"`
	IP          string `json:"ip"`
	Location    string `json:"location"`
	UserAgent   string `json:"user_agent"`
	Mode        string `json:"mode,omitempty"`        // type (default) or choose
	TTLSeconds  int    `json:"ttl_seconds,omitempty"` // 10 to 600; the server's default when 0
}

// Started is a started sign-in: show Number to the user.
type Started struct {
	ID      string    `json:"id"`
	Number  string    `json:"number"`
	Mode    string    `json:"mode"`
	Status  string    `json:"status"`
	Expires time.Time `json:"expires"`
}

// Status is a sign-in's state; Reason details denied (wrong_number,
// cancelled) and expired (replaced, cancelled).
type Status struct {
	ID      string    `json:"id"`
	User    string    `json:"user"`
	Status  string    `json:"status"`
	Reason  string    `json:"reason,omitempty"`
	Expires time.Time `json:"expires"`
}

// Client calls one server's relying-party API.
type Client struct {
	base   *url.URL
	apiKey string
	hc     *http.Client
}

// maxBody caps what is read of an answer (the protocol caps bodies at 64 KiB).
const maxBody = 64 << 10

// New returns a client for the server at baseURL (https, or http to a
// loopback address) with the API key. hc sends the requests; a client that
// ignores proxy variables when nil. Redirects are never followed.
func New(baseURL, apiKey string, hc *http.Client) (*Client, error) {
	u, err := url.Parse(strings.TrimRight(baseURL, "/"))
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") || u.User != nil || u.RawQuery != "" {
		return nil, fmt.Errorf("server URL %q: want https://HOST[:PORT][/PATH]", baseURL)
	}
	if u.Scheme == "http" && !loopback(u.Hostname()) {
		return nil, fmt.Errorf("server URL %q: plain http is allowed only to loopback addresses: use https", baseURL)
	}
	if apiKey == "" {
		return nil, errors.New("no API key")
	}
	var c http.Client
	if hc != nil {
		c = *hc
	} else {
		t := http.DefaultTransport.(*http.Transport).Clone()
		t.Proxy = nil
		c.Transport = t
	}
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &Client{base: u, apiKey: apiKey, hc: &c}, nil
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Start starts a sign-in.
func (c *Client) Start(ctx context.Context, s SignIn) (Started, error) {
	var out Started
	b, _ := json.Marshal(s)
	err := c.do(ctx, http.MethodPost, "/v1/rp/signins", nil, b, http.StatusCreated, &out)
	return out, err
}

// Wait returns the sign-in's status, the server holding the call up to wait
// (at most 30 s) while it is pending.
func (c *Client) Wait(ctx context.Context, id string, wait time.Duration) (Status, error) {
	var out Status
	q := url.Values{"wait": {strconv.Itoa(int(wait / time.Second))}}
	err := c.do(ctx, http.MethodGet, "/v1/rp/signins/"+url.PathEscape(id), q, nil, http.StatusOK, &out)
	return out, err
}

// Cancel withdraws a pending sign-in (it becomes expired, reason
// cancelled) and returns its status; one that already ended is unchanged.
func (c *Client) Cancel(ctx context.Context, id string) (Status, error) {
	var out Status
	err := c.do(ctx, http.MethodDelete, "/v1/rp/signins/"+url.PathEscape(id), nil, nil, http.StatusOK, &out)
	return out, err
}

func (c *Client) do(ctx context.Context, method, path string, q url.Values, body []byte, want int, out any) error {
	u := *c.base
	u.Path += path
	u.RawQuery = q.Encode()
	req, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.apiKey)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("%w: %s", ErrUnavailable, netText(err))
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("%w: %s", ErrUnavailable, netText(err))
	}
	if resp.StatusCode != want {
		var e struct {
			Error   string `json:"error"`
			Message string `json:"message"`
		}
		if json.Unmarshal(b, &e) != nil || e.Error == "" {
			if resp.StatusCode >= 500 {
				return fmt.Errorf("%w: HTTP %d", ErrUnavailable, resp.StatusCode)
			}
			return fmt.Errorf("unexpected answer from the approval server: HTTP %d", resp.StatusCode)
		}
		return &APIError{Status: resp.StatusCode, Code: e.Error, Message: e.Message}
	}
	if err := json.Unmarshal(b, out); err != nil {
		return fmt.Errorf("malformed answer from the approval server: %w", err)
	}
	return nil
}

// netText is a network error without the request's URL (it holds nothing
// secret, but the message is shorter without it).
func netText(err error) string {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}
