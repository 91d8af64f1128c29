package server

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sesame-auth/sesame/approve"
	"github.com/sesame-auth/sesame/approve/sesame"
	"github.com/sesame-auth/sesame/vault/safetext"
)

// The relying-party API, behind an API key: pairings, sign-ins and their
// outcomes, and a user's devices.

func (h *Handler) rp(fn func(w http.ResponseWriter, r *http.Request) error) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		given, ok := bearer(r.Header.Get("Authorization"))
		a, b := sha256.Sum256([]byte(given)), sha256.Sum256(h.cfg.APIKey)
		if !ok || len(h.cfg.APIKey) == 0 || subtle.ConstantTimeCompare(a[:], b[:]) != 1 {
			h.writeError(w, unsigned(http.StatusUnauthorized, sesame.CodeUnauthorized, "missing or wrong API key (Authorization: Bearer KEY)"))
			return
		}
		if err := fn(w, r); err != nil {
			h.writeError(w, err)
		}
	}
}

// bearer returns the credentials of an "Authorization: Bearer TOKEN" header;
// the scheme is case-insensitive (RFC 9110, section 11.1).
func bearer(header string) (string, bool) {
	scheme, tok, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	return strings.TrimSpace(tok), true
}

// PairingResponse is the relying-party API's answer to creating a pairing.
type PairingResponse struct {
	URI     string    `json:"uri"`
	QRPNG   []byte    `json:"qr_png"` // base64 in JSON
	Expires time.Time `json:"expires"`
}

// CreatePairing issues a single-use pairing token for user and returns the
// pairing URI and its QR code.
func (h *Handler) CreatePairing(user string) (PairingResponse, error) {
	if err := sesame.ValidUser(user); err != nil {
		return PairingResponse{}, fail(http.StatusBadRequest, sesame.CodeBadRequest, err.Error())
	}
	tok := make([]byte, 32)
	rand.Read(tok)
	exp := h.now().Add(h.cfg.PairingTTL).UTC().Truncate(time.Second)
	err := h.store.Update(func(tx Tx) error {
		return putJSON(tx, bTokens, hashToken(tok), tokenRecord{User: user, Label: h.cfg.Label, Expires: exp})
	})
	if err != nil {
		return PairingResponse{}, err
	}
	uri := sesame.PairingURI{Server: strings.TrimRight(h.cfg.URL, "/"), User: user, Token: sesame.EncodeB64(tok), Fingerprint: h.fp, Label: h.cfg.Label}.String()
	png, err := qrPNG(uri, 320)
	if err != nil {
		return PairingResponse{}, err
	}
	return PairingResponse{URI: uri, QRPNG: png, Expires: exp}, nil
}

func (h *Handler) rpPairing(w http.ResponseWriter, r *http.Request) error {
	body, err := h.readBody(w, r)
	if err != nil {
		return err
	}
	var req struct {
		User string `json:"user"`
	}
	if err := decodeStrict(body, &req); err != nil {
		return err
	}
	p, err := h.CreatePairing(req.User)
	if err != nil {
		return err
	}
	h.writeJSON(w, http.StatusCreated, p)
	return nil
}

// SignInRequest is the relying-party API's request to start a sign-in.
type SignInRequest struct {
	User        string `json:"user"`
	Application string `json:"application"`
	IP          string `json:"ip"`
	Location    string `json:"location"`
	UserAgent   string `json:"user_agent"`
	Mode        string `json:"mode,omitempty"`        // type (default), choose, approve
	TTLSeconds  int    `json:"ttl_seconds,omitempty"` // default from the server's configuration
}

// SignInStarted is the answer to starting a sign-in: show Number on the sign-in screen.
type SignInStarted struct {
	ID      string    `json:"id"`
	Number  string    `json:"number,omitempty"`
	Mode    string    `json:"mode"`
	Status  string    `json:"status"`
	Expires time.Time `json:"expires"`
}

// SignInStatus is a sign-in's outcome as the relying party sees it.
type SignInStatus struct {
	ID       string    `json:"id"`
	User     string    `json:"user"`
	Status   string    `json:"status"` // pending, approved, denied, not_me, expired (reason replaced or cancelled)
	Reason   string    `json:"reason,omitempty"`
	Expires  time.Time `json:"expires"`
	Answered time.Time `json:"answered,omitzero"`
}

// rpStatus is the request as the relying party sees it at now.
func (r *requestRecord) rpStatus(now time.Time) SignInStatus {
	return SignInStatus{ID: r.ID, User: r.User, Status: r.status(now), Reason: r.Reason, Expires: time.Unix(r.Expires, 0).UTC(), Answered: r.Answered}
}

func randomNumber(digits int) string {
	lo := int64(10)
	if digits == 3 {
		lo = 100
	}
	n, _ := rand.Int(rand.Reader, big.NewInt(lo*9))
	return strconv.FormatInt(lo+n.Int64(), 10)
}

// StartSignIn creates a sign-in request for in.User, replacing the user's
// pending one, and wakes the user's devices.
func (h *Handler) StartSignIn(in SignInRequest) (SignInStarted, error) {
	bad := func(msg string) (SignInStarted, error) {
		return SignInStarted{}, fail(http.StatusBadRequest, sesame.CodeBadRequest, msg)
	}
	if err := sesame.ValidUser(in.User); err != nil {
		return bad(err.Error())
	}
	for _, f := range []string{in.Application, in.IP, in.Location, in.UserAgent} {
		if len(f) > sesame.MaxFieldLength {
			return bad(fmt.Sprintf("fields are limited to %d bytes", sesame.MaxFieldLength))
		}
	}
	clean := safetext.Clean
	mode := approve.Mode(in.Mode)
	switch mode {
	case "":
		mode = approve.ModeType
	case approve.ModeType, approve.ModeChoose:
	case approve.ModeApprove:
		if !h.cfg.AllowApprove {
			return SignInStarted{}, fail(http.StatusForbidden, sesame.CodeModeDisabled, "the approve mode is disabled on this server")
		}
	default:
		return bad("mode must be type, choose or approve")
	}
	ttl := h.cfg.SignInTTL
	if in.TTLSeconds != 0 {
		ttl = time.Duration(in.TTLSeconds) * time.Second
		if in.TTLSeconds < 10 || ttl > sesame.MaxSignInTTL {
			return bad("ttl_seconds must be between 10 and 600")
		}
	}
	now := h.now()
	rec := requestRecord{
		SignedRequest: sesame.SignedRequest{
			V: sesame.Version, ID: randomID(), User: in.User, Application: clean(in.Application), IP: clean(in.IP),
			Location: clean(in.Location), UserAgent: clean(in.UserAgent), Mode: string(mode),
			Created: now.Unix(), Expires: now.Add(ttl).Unix(),
		},
		Status:  sesame.StatusPending,
		Started: now,
	}
	switch mode {
	case approve.ModeType:
		rec.Digits = h.cfg.Digits
		rec.Number = randomNumber(h.cfg.Digits)
	case approve.ModeChoose:
		rec.Number = randomNumber(h.cfg.Digits)
		rec.Choices = []string{rec.Number}
		for len(rec.Choices) < 3 {
			if c := randomNumber(h.cfg.Digits); !containsString(rec.Choices, c) {
				rec.Choices = append(rec.Choices, c)
			}
		}
		j, _ := rand.Int(rand.Reader, big.NewInt(3))
		rec.Choices[0], rec.Choices[j.Int64()] = rec.Choices[j.Int64()], rec.Choices[0]
	}
	rec.Sig = ed25519.Sign(h.cfg.Key, rec.SigningBytes())
	err := h.store.Update(func(tx Tx) error {
		u, _, err := getJSON[userRecord](tx, bUsers, in.User)
		if err != nil {
			return err
		}
		if u.Blocked {
			return fail(http.StatusForbidden, sesame.CodeBlocked, "sign-in requests for this user are blocked after a \"this wasn't me\" answer: the user or an operator must clear it")
		}
		has := false
		if err := tx.Scan(bUserDevices, in.User+"\x00", func(string, []byte) error { has = true; return errStop }); err != nil && err != errStop {
			return err
		}
		if !has {
			return fail(http.StatusNotFound, sesame.CodeNoDevices, "this user has no paired device: pair one first")
		}
		// Only a sign-in that reaches the user's devices uses up the budget
		// (kept with the user record, so a refusal's rollback gives it back).
		if !u.SignIns.take(now, h.cfg.SignInEvery, float64(h.cfg.SignInBurst)) {
			return fail(http.StatusTooManyRequests, sesame.CodeRateLimited, "too many sign-in requests for this user: wait a little")
		}
		if u.Pending != "" {
			old, ok, err := getJSON[requestRecord](tx, bRequests, u.Pending)
			if err != nil {
				return err
			}
			if ok && old.Status == sesame.StatusPending {
				old.Status, old.Reason = sesame.StatusExpired, "replaced"
				if err := putJSON(tx, bRequests, old.ID, old); err != nil {
					return err
				}
			}
		}
		u.Pending = rec.ID
		if err := putJSON(tx, bRequests, rec.ID, rec); err != nil {
			return err
		}
		return putJSON(tx, bUsers, in.User, u)
	})
	if err != nil {
		return SignInStarted{}, err
	}
	h.metrics.started.Add(1)
	h.wake(in.User)
	out := SignInStarted{ID: rec.ID, Mode: rec.Mode, Status: sesame.StatusPending, Expires: time.Unix(rec.Expires, 0).UTC()}
	if mode != approve.ModeApprove {
		out.Number = rec.Number
	}
	return out, nil
}

var errStop = errors.New("stop")

func containsString(s []string, v string) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

func (h *Handler) rpStartSignIn(w http.ResponseWriter, r *http.Request) error {
	body, err := h.readBody(w, r)
	if err != nil {
		return err
	}
	var in SignInRequest
	if err := decodeStrict(body, &in); err != nil {
		return err
	}
	out, err := h.StartSignIn(in)
	if err != nil {
		return err
	}
	h.writeJSON(w, http.StatusCreated, out)
	return nil
}

// WaitSignIn returns the sign-in's status, waiting up to wait (capped at
// MaxWait) while it is pending.
func (h *Handler) WaitSignIn(ctx context.Context, id string, wait time.Duration) (SignInStatus, error) {
	wait = min(max(wait, 0), sesame.MaxWait)
	var timer *time.Timer
	for {
		var rec requestRecord
		var ok bool
		err := h.store.View(func(tx Tx) (err error) {
			rec, ok, err = getJSON[requestRecord](tx, bRequests, id)
			return err
		})
		if err != nil {
			return SignInStatus{}, err
		}
		if !ok {
			return SignInStatus{}, fail(http.StatusNotFound, sesame.CodeNotFound, "no such sign-in")
		}
		changed := h.hub.sub(rec.User)
		// Re-read after subscribing so that no change slips between the two.
		err = h.store.View(func(tx Tx) (err error) {
			rec, ok, err = getJSON[requestRecord](tx, bRequests, id)
			return err
		})
		if err != nil {
			return SignInStatus{}, err
		}
		now := h.now()
		st := rec.rpStatus(now)
		if st.Status != sesame.StatusPending || wait == 0 {
			return st, nil
		}
		if timer == nil {
			timer = time.NewTimer(wait)
			defer timer.Stop()
		}
		expiry := time.NewTimer(time.Unix(rec.Expires, 0).Sub(now))
		select {
		case <-changed:
		case <-expiry.C:
		case <-timer.C:
			wait = 0
		case <-h.closing:
			wait = 0
		case <-ctx.Done():
			expiry.Stop()
			return SignInStatus{}, ctx.Err()
		}
		expiry.Stop()
	}
}

func (h *Handler) rpSignIn(w http.ResponseWriter, r *http.Request) error {
	wait := 0
	if s := r.URL.Query().Get("wait"); s != "" {
		var err error
		if wait, err = strconv.Atoi(s); err != nil {
			return fail(http.StatusBadRequest, sesame.CodeBadRequest, "wait must be a number of seconds")
		}
	}
	st, err := h.WaitSignIn(r.Context(), r.PathValue("id"), time.Duration(wait)*time.Second)
	if err != nil {
		if r.Context().Err() != nil {
			return nil
		}
		return err
	}
	h.writeJSON(w, http.StatusOK, st)
	return nil
}

// CancelSignIn withdraws a pending sign-in on the relying party's behalf
// (the user gave up or the connection dropped): it becomes expired with
// reason cancelled and leaves the user's devices. A sign-in that already
// ended is left as it is; either way its status is returned.
func (h *Handler) CancelSignIn(id string) (SignInStatus, error) {
	var rec requestRecord
	now := h.now()
	changed := false
	err := h.store.Update(func(tx Tx) error {
		var ok bool
		var err error
		if rec, ok, err = getJSON[requestRecord](tx, bRequests, id); err != nil {
			return err
		}
		if !ok {
			return fail(http.StatusNotFound, sesame.CodeNotFound, "no such sign-in")
		}
		if rec.status(now) != sesame.StatusPending {
			return nil
		}
		rec.Status, rec.Reason, changed = sesame.StatusExpired, "cancelled", true
		if err := putJSON(tx, bRequests, rec.ID, rec); err != nil {
			return err
		}
		u, _, err := getJSON[userRecord](tx, bUsers, rec.User)
		if err != nil || u.Pending != rec.ID {
			return err
		}
		u.Pending = ""
		return putJSON(tx, bUsers, rec.User, u)
	})
	if err != nil {
		return SignInStatus{}, err
	}
	if changed {
		h.hub.notify(rec.User)
	}
	return rec.rpStatus(now), nil
}

func (h *Handler) rpCancelSignIn(w http.ResponseWriter, r *http.Request) error {
	st, err := h.CancelSignIn(r.PathValue("id"))
	if err != nil {
		return err
	}
	h.writeJSON(w, http.StatusOK, st)
	return nil
}

// Devices lists a user's paired devices.
func (h *Handler) Devices(user string) ([]Device, error) {
	devs := []Device{}
	err := h.store.View(func(tx Tx) error {
		return tx.Scan(bUserDevices, user+"\x00", func(k string, _ []byte) error {
			d, ok, err := getJSON[Device](tx, bDevices, strings.TrimPrefix(k, user+"\x00"))
			if ok {
				devs = append(devs, d)
			}
			return err
		})
	})
	return devs, err
}

func (h *Handler) rpDevices(w http.ResponseWriter, r *http.Request) error {
	user := r.PathValue("user")
	if err := sesame.ValidUser(user); err != nil {
		return fail(http.StatusBadRequest, sesame.CodeBadRequest, err.Error())
	}
	devs, err := h.Devices(user)
	if err != nil {
		return err
	}
	var blocked bool
	h.store.View(func(tx Tx) error {
		u, _, err := getJSON[userRecord](tx, bUsers, user)
		blocked = u.Blocked
		return err
	})
	h.writeJSON(w, http.StatusOK, map[string]any{"user": user, "devices": devs, "blocked": blocked})
	return nil
}

func (h *Handler) rpRevoke(w http.ResponseWriter, r *http.Request) error {
	if err := h.deleteDevice(r.PathValue("user"), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

func (h *Handler) rpUnblock(w http.ResponseWriter, r *http.Request) error {
	if err := h.unblock(r.PathValue("user"), "relying party"); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
