//go:build unix

// Package gate puts a Sesame approval in front of a login: an sshd
// ForceCommand or a PAM module (through pam_exec) asks the approval
// server's relying-party API for a sign-in, tells the user which number to
// type in Sesame, waits for the answer, and only on approval lets the login
// go on. It links neither the vault nor the terminal UI.
package gate

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"slices"
	"strings"
	"time"

	"github.com/sesame-auth/sesame/approve/rp"
)

// Server is the part of the relying-party API the gate uses; *rp.Client
// implements it, tests use fakes.
type Server interface {
	Start(ctx context.Context, s rp.SignIn) (rp.Started, error)
	Wait(ctx context.Context, id string, wait time.Duration) (rp.Status, error)
	Cancel(ctx context.Context, id string) (rp.Status, error)
}

// Login describes the sign-in being gated.
type Login struct {
	User    string // the local login name
	Host    string // this machine's name, as users know it
	IP      string // the client's address; empty for a local sign-in
	Service string // "ssh", or the PAM service (sudo, sshd, ...)
	Command string // the command asked for over SSH; empty for a shell
}

// Kind is what the gate decided.
type Kind int

// The gate's outcomes. Only Approved, NotGated and FailedOpen let the login go on.
const (
	Approved    Kind = iota // approved in Sesame with the right number
	NotGated                // the user is in none of the gated groups
	FailedOpen              // the server is unreachable and failmode is safe
	Denied                  // denied in Sesame
	WrongNumber             // the number typed in Sesame was wrong
	NotMe                   // reported as "this wasn't me"
	Expired                 // no answer in time, or replaced by a newer sign-in
	Cancelled               // the user gave up (Ctrl-C) or the connection dropped
	Unreachable             // the server is unreachable and failmode is secure
	Refused                 // the server would not start a sign-in (not paired, blocked, ...)
)

var kindNames = [...]string{"approved", "not_gated", "failed_open", "denied", "wrong_number", "not_me", "expired", "cancelled", "unreachable", "refused"}

func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Result is the gate's decision with the one line to show the user.
type Result struct {
	Kind    Kind
	Message string // one line for the user; empty when there is nothing to say
}

// Allowed reports whether the login may go on.
func (r Result) Allowed() bool {
	return r.Kind == Approved || r.Kind == NotGated || r.Kind == FailedOpen
}

// Gate checks logins against an approval server.
type Gate struct {
	Config Config
	Server Server
	// Groups lists a login's group names; needed only when Config.Groups is set.
	Groups func(login string) ([]string, error)
	// Out shows the user the number and the outcome.
	Out io.Writer
	// Log gets one line per login: user, host, result (never the number or the key).
	Log *slog.Logger
	// Now is the clock; time.Now when nil.
	Now func() time.Time
	// RetryEvery is the pause between calls while the server is unreachable (1 s when 0).
	RetryEvery time.Duration
}

// pollWait is how long each status call asks the server to hold on.
const pollWait = 25 * time.Second

// cancelTimeout bounds telling the server that a sign-in was abandoned.
const cancelTimeout = 5 * time.Second

// Check runs the sign-in for l: it returns when the user answered, the
// sign-in expired, or ctx was cancelled (Ctrl-C, hang-up), in which case it
// withdraws the sign-in on the server.
func (g *Gate) Check(ctx context.Context, l Login) Result {
	res := g.check(ctx, l)
	g.logf(l, res)
	if res.Message != "" {
		fmt.Fprintln(g.Out, res.Message)
	}
	return res
}

func (g *Gate) now() time.Time {
	if g.Now != nil {
		return g.Now()
	}
	return time.Now()
}

// SesameUser is the Sesame user name for a login name (users_map, or the same name).
func (c Config) SesameUser(login string) string {
	if u, ok := c.UsersMap[login]; ok {
		return u
	}
	return login
}

// Gated reports whether the login must be approved: always when no groups
// are configured, otherwise when it is in one of them.
func (g *Gate) Gated(login string) (bool, error) {
	if len(g.Config.Groups) == 0 {
		return true, nil
	}
	if g.Groups == nil {
		return true, errors.New("no way to look up groups")
	}
	have, err := g.Groups(login)
	if err != nil {
		return true, fmt.Errorf("look up the groups of %s: %w", login, err)
	}
	for _, want := range g.Config.Groups {
		if slices.Contains(have, want) {
			return true, nil
		}
	}
	return false, nil
}

func (g *Gate) check(ctx context.Context, l Login) Result {
	gated, err := g.Gated(l.User)
	if err != nil {
		return Result{Refused, "Denied: " + err.Error() + "."}
	}
	if !gated {
		return Result{Kind: NotGated}
	}
	req := rp.SignIn{
		User:        g.Config.SesameUser(l.User),
		Application: application(l),
		IP:          l.IP,
		Mode:        g.Config.Mode,
		TTLSeconds:  g.Config.Timeout,
	}
	if g.Config.PushInfo && l.Command != "" {
		req.UserAgent = clip("command: "+l.Command, 256)
	}
	started, err := g.Server.Start(ctx, req)
	switch {
	case err != nil && ctx.Err() != nil:
		return Result{Cancelled, "Sign-in cancelled."}
	case err != nil:
		return g.startFailed(err, l)
	}
	fmt.Fprintln(g.Out, prompt(l, started))
	// Wait a little past the expiry, so the server's own verdict arrives.
	deadline := g.now().Add(time.Duration(g.Config.Timeout)*time.Second + 5*time.Second)
	for {
		left := deadline.Sub(g.now())
		if left <= 0 {
			g.cancel(started.ID)
			return Result{Expired, "Denied: no answer from Sesame in time."}
		}
		st, err := g.Server.Wait(ctx, started.ID, min(pollWait, left))
		switch {
		case ctx.Err() != nil:
			g.cancel(started.ID)
			return Result{Cancelled, "Sign-in cancelled."}
		case errors.Is(err, rp.ErrUnavailable):
			if g.now().Add(g.retryEvery()).After(deadline) {
				return g.unreachable(err)
			}
			if !sleep(ctx, g.retryEvery()) {
				g.cancel(started.ID)
				return Result{Cancelled, "Sign-in cancelled."}
			}
			continue
		case err != nil:
			return Result{Refused, "Denied: " + err.Error() + "."}
		}
		if st.Status != rp.StatusPending {
			return verdict(st)
		}
	}
}

func (g *Gate) retryEvery() time.Duration {
	if g.RetryEvery > 0 {
		return g.RetryEvery
	}
	return time.Second
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// cancel withdraws the sign-in, so that it leaves the user's Sesame at once
// and shows as cancelled rather than pending.
func (g *Gate) cancel(id string) {
	ctx, done := context.WithTimeout(context.Background(), cancelTimeout)
	defer done()
	if _, err := g.Server.Cancel(ctx, id); err != nil && g.Log != nil {
		g.Log.Warn("could not cancel the sign-in on the approval server", "err", err)
	}
}

func (g *Gate) unreachable(err error) Result {
	if g.Config.FailMode == FailSafe {
		if g.Log != nil {
			g.Log.Warn("approval server unreachable: letting the login through (failmode safe)", "err", err)
		}
		return Result{FailedOpen, "The approval server is unreachable: letting you in without Sesame (failmode safe)."}
	}
	if g.Log != nil {
		g.Log.Warn("approval server unreachable: denying the login (failmode secure)", "err", err)
	}
	return Result{Unreachable, "Denied: the approval server is unreachable; try again later or ask your admin."}
}

func (g *Gate) startFailed(err error, l Login) Result {
	if errors.Is(err, rp.ErrUnavailable) {
		return g.unreachable(err)
	}
	var ae *rp.APIError
	if !errors.As(err, &ae) {
		return Result{Refused, "Denied: " + err.Error() + "."}
	}
	user := g.Config.SesameUser(l.User)
	switch ae.Code {
	case "no_devices":
		return Result{Refused, fmt.Sprintf("Denied: %s has no Sesame paired with the approval server: ask your admin for a pairing link.", user)}
	case "blocked":
		return Result{Refused, fmt.Sprintf("Denied: sign-ins for %s are blocked after a \"this wasn't me\" answer: clear it with 'sesame devices unblock' or ask your admin.", user)}
	case "rate_limited":
		return Result{Refused, "Denied: too many sign-in attempts; wait a little and try again."}
	case "unauthorized":
		return Result{Refused, "Denied: the approval server refused this machine's API key; ask your admin."}
	}
	return Result{Refused, "Denied: " + ae.Error() + "."}
}

// verdict turns a finished sign-in's status into the gate's result.
func verdict(st rp.Status) Result {
	switch st.Status {
	case rp.StatusApproved:
		return Result{Approved, "Approved in Sesame."}
	case rp.StatusNotMe:
		return Result{NotMe, "Denied: reported as \"this wasn't me\" in Sesame; further sign-ins are blocked until it is cleared."}
	case rp.StatusDenied:
		if st.Reason == "wrong_number" {
			return Result{WrongNumber, "Denied: the number typed in Sesame was not the one shown here."}
		}
		return Result{Denied, "Denied in Sesame."}
	case rp.StatusExpired:
		switch st.Reason {
		case "replaced":
			return Result{Expired, "Denied: a newer sign-in for the same user replaced this one."}
		case "cancelled":
			return Result{Cancelled, "Sign-in cancelled."}
		}
		return Result{Expired, "Denied: no answer from Sesame in time."}
	}
	return Result{Refused, fmt.Sprintf("Denied: unknown sign-in status %q.", clip(st.Status, 40))}
}

// application names the sign-in on the user's device.
func application(l Login) string {
	switch l.Service {
	case "", "ssh":
		return clip("SSH to "+l.Host, 256)
	}
	return clip(l.Service+" on "+l.Host, 256)
}

// prompt is the line that tells the user what to do in Sesame.
func prompt(l Login, s rp.Started) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Sign-in to %s as %s", l.Host, l.User)
	if l.IP != "" {
		fmt.Fprintf(&b, " from %s", l.IP)
	}
	verb := "type"
	if s.Mode == ModeChoose {
		verb = "choose"
	}
	fmt.Fprintf(&b, ": %s %s in Sesame", verb, s.Number)
	return b.String()
}

func (g *Gate) logf(l Login, res Result) {
	if g.Log == nil {
		return
	}
	args := []any{"user", l.User, "sesame_user", g.Config.SesameUser(l.User), "service", l.Service, "from", l.IP, "result", res.Kind.String()}
	if res.Allowed() {
		g.Log.Info("sign-in allowed", args...)
	} else {
		g.Log.Warn("sign-in refused", args...)
	}
}

// clip cuts s to at most n bytes without splitting a UTF-8 character.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n], "")
}
