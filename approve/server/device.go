package server

import (
	"bytes"
	"crypto/ed25519"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"strconv"
	"time"

	"github.com/sesame-auth/sesame/approve"
	"github.com/sesame-auth/sesame/approve/sesame"
	"github.com/sesame-auth/sesame/vault/safetext"
)

// The device API: pairing registration, long-polls for pending requests,
// answers, and a device removing or unblocking itself.

func (h *Handler) info(w http.ResponseWriter, r *http.Request) {
	h.writeJSON(w, http.StatusOK, map[string]any{
		"v": sesame.Version, "fingerprint": h.fp, "time": h.now().UnixMilli(), "server_key": []byte(h.pub),
	})
}

// deviceAuth is what a device request's headers say, checked before its body
// is read.
type deviceAuth struct {
	dev   Device // the device named in Sesame-Device; zero while registering
	nonce string
	ts    string // Sesame-Timestamp as sent
	sig   []byte
}

// authHeaders checks a device request's headers before any body is read, in
// this order: well-formed nonce, timestamp and signature (401 unauthorized),
// a timestamp within MaxClockSkew of the server's clock (401
// stale_timestamp), and, unless registering, a known device (401
// unknown_device). Its errors are not signed: nothing about the request has
// been verified yet.
func (h *Handler) authHeaders(r *http.Request, registering bool) (deviceAuth, error) {
	var a deviceAuth
	a.nonce = r.Header.Get(sesame.HeaderNonce)
	if n, err := sesame.DecodeB64(a.nonce, sesame.NonceBytes); err != nil || len(n) != sesame.NonceBytes {
		return a, unsigned(http.StatusUnauthorized, sesame.CodeUnauthorized, "missing or malformed nonce")
	}
	a.ts = r.Header.Get(sesame.HeaderTimestamp)
	ts, err := strconv.ParseInt(a.ts, 10, 64)
	if err != nil || len(a.ts) > 12 || a.ts != strconv.FormatInt(ts, 10) {
		return a, unsigned(http.StatusUnauthorized, sesame.CodeUnauthorized, "missing or malformed timestamp")
	}
	a.sig, err = sesame.DecodeB64(r.Header.Get(sesame.HeaderSignature), ed25519.SignatureSize)
	if err != nil || len(a.sig) != ed25519.SignatureSize {
		return a, unsigned(http.StatusUnauthorized, sesame.CodeUnauthorized, "missing or malformed signature")
	}
	if d := h.now().Sub(time.Unix(ts, 0)); d > sesame.MaxClockSkew || d < -sesame.MaxClockSkew {
		return a, unsigned(http.StatusUnauthorized, sesame.CodeStaleTimestamp,
			"the request's timestamp is too far from the server's time: check this device's clock")
	}
	id := r.Header.Get(sesame.HeaderDevice)
	if registering {
		if id != "" {
			return a, unsigned(http.StatusUnauthorized, sesame.CodeUnauthorized, "a registration carries no device id")
		}
		return a, nil
	}
	if id == "" || len(id) > 64 {
		return a, unsigned(http.StatusUnauthorized, sesame.CodeUnknownDevice, "unknown device: pair again")
	}
	var ok bool
	err = h.store.View(func(tx Tx) (err error) {
		a.dev, ok, err = getJSON[Device](tx, bDevices, id)
		return err
	})
	if err != nil {
		return a, err
	}
	if !ok {
		return a, unsigned(http.StatusUnauthorized, sesame.CodeUnknownDevice, "unknown device: pair again")
	}
	return a, nil
}

// verifyDevice checks a device request's signature over its headers and body
// with pub (401 bad_signature, not signed), then, for a verified request, the
// device's rate limit (429 rate_limited) and the nonce (401 replayed_nonce,
// 503 unavailable when the nonce cache is full). A nonce is recorded only
// once its signature has verified.
func (h *Handler) verifyDevice(r *http.Request, a deviceAuth, pub ed25519.PublicKey, body []byte) error {
	msg := sesame.DeviceRequestSigningBytes(r.Method, r.URL.EscapedPath(), sesame.CanonicalQuery(r.URL.Query()), a.ts, a.nonce, a.dev.ID, body)
	if len(pub) != ed25519.PublicKeySize || !ed25519.Verify(pub, msg, a.sig) {
		return unsigned(http.StatusUnauthorized, sesame.CodeBadSignature, "the request's signature does not verify")
	}
	now := h.now()
	who := a.dev.ID
	if who == "" {
		who = "k:" + hex.EncodeToString(pub)
	}
	if !h.devices.allow(who, now) {
		return fail(http.StatusTooManyRequests, sesame.CodeRateLimited, "too many requests: slow down")
	}
	fresh, err := h.addNonce(who+"|"+a.nonce, now)
	if err != nil {
		return err
	}
	switch fresh {
	case nonceReplayed:
		return fail(http.StatusUnauthorized, sesame.CodeReplayedNonce, "this request was already received (replayed nonce)")
	case nonceFull:
		return fail(http.StatusServiceUnavailable, sesame.CodeUnavailable, "the server is overloaded: try again later")
	}
	return nil
}

// authDevice authenticates a device request without a body.
func (h *Handler) authDevice(r *http.Request) (Device, error) {
	a, err := h.authHeaders(r, false)
	if err != nil {
		return Device{}, err
	}
	return a.dev, h.verifyDevice(r, a, a.dev.PublicKey, nil)
}

// nonceOf is the nonce header for signing a response, capped in length.
func nonceOf(r *http.Request) string {
	n := r.Header.Get(sesame.HeaderNonce)
	if len(n) > 64 {
		n = n[:64]
	}
	return n
}

// register pairs a new device. Its errors are not signed: the server does
// not know the device's key until the body is read, and the device does not
// know the server's key until a successful answer.
func (h *Handler) register(w http.ResponseWriter, r *http.Request) {
	nonce := nonceOf(r)
	if !h.pairs.allow(h.clientAddr(r), h.now()) {
		h.writeError(w, fail(http.StatusTooManyRequests, sesame.CodeRateLimited, "too many pairing attempts: wait a minute"))
		return
	}
	a, err := h.authHeaders(r, true)
	if err != nil {
		h.writeError(w, err)
		return
	}
	body, err := h.readBody(w, r)
	if err != nil {
		h.writeError(w, err)
		return
	}
	var req sesame.RegisterRequest
	if err := decodeStrict(body, &req); err != nil {
		h.writeError(w, err)
		return
	}
	if req.V != sesame.Version || len(req.PublicKey) != ed25519.PublicKeySize || len(req.Name) > sesame.MaxFieldLength {
		h.writeError(w, fail(http.StatusBadRequest, sesame.CodeBadRequest, "bad registration: unsupported version, key or name"))
		return
	}
	if err := h.verifyDevice(r, a, req.PublicKey, body); err != nil {
		h.writeError(w, err)
		return
	}
	tok, err := sesame.DecodeB64(req.Token, sesame.MaxTokenBytes)
	if err != nil || len(tok) < sesame.MinTokenBytes {
		h.writeError(w, fail(http.StatusForbidden, sesame.CodeTokenInvalid, "unknown, used or expired pairing token"))
		return
	}
	now := h.now()
	dev := Device{ID: randomID(), Name: safetext.Clean(req.Name), PublicKey: req.PublicKey, Created: now.UTC().Truncate(time.Second)}
	var label string
	err = h.store.Update(func(tx Tx) error {
		key := hashToken(tok)
		t, ok, err := getJSON[tokenRecord](tx, bTokens, key)
		if err != nil {
			return err
		}
		if ok {
			// Consumed whatever happens next: a token is single-use.
			if err := tx.Delete(bTokens, key); err != nil {
				return err
			}
		}
		if !ok || !now.Before(t.Expires) {
			return nil
		}
		dev.User, label = t.User, t.Label
		if err := putJSON(tx, bDevices, dev.ID, dev); err != nil {
			return err
		}
		return tx.Put(bUserDevices, t.User+"\x00"+dev.ID, nil)
	})
	if err != nil {
		h.writeError(w, err)
		return
	}
	if dev.User == "" {
		h.writeError(w, fail(http.StatusForbidden, sesame.CodeTokenInvalid, "unknown, used or expired pairing token"))
		return
	}
	h.log.Info("device paired", "user", dev.User, "device", dev.ID)
	h.writeSigned(w, nonce, http.StatusOK, sesame.RegisterResponse{V: sesame.Version, DeviceID: dev.ID, User: dev.User, ServerKey: h.pub, Label: label})
}

// pendingFor returns the user's pending, unexpired request, if any.
func pendingFor(tx Tx, user string, now time.Time) (*requestRecord, error) {
	u, ok, err := getJSON[userRecord](tx, bUsers, user)
	if err != nil || !ok || u.Pending == "" {
		return nil, err
	}
	req, ok, err := getJSON[requestRecord](tx, bRequests, u.Pending)
	if err != nil || !ok || req.status(now) != sesame.StatusPending {
		return nil, err
	}
	return &req, nil
}

// pendingState reads the user's pending, unexpired request, if any.
func (h *Handler) pendingState(user string) (req *requestRecord, err error) {
	err = h.store.View(func(tx Tx) (err error) {
		req, err = pendingFor(tx, user, h.now())
		return err
	})
	return req, err
}

// stateOf is a long-poll's state for req: its ID, or "none".
func stateOf(req *requestRecord) string {
	if req == nil {
		return "none"
	}
	return req.ID
}

// poll answers a device's long-poll once the state differs from since (or
// at once without a wait). Over HTTP/1.1 the wait is parked (park.go);
// otherwise it waits here.
func (h *Handler) poll(w http.ResponseWriter, r *http.Request) {
	nonce := nonceOf(r)
	dev, err := h.authDevice(r)
	if err != nil {
		h.writeSigned(w, nonce, 0, err)
		return
	}
	q := r.URL.Query()
	wait := 0
	if s := q.Get("wait"); s != "" {
		wait, err = strconv.Atoi(s)
		if err != nil || wait < 0 {
			h.writeSigned(w, nonce, 0, fail(http.StatusBadRequest, sesame.CodeBadRequest, "wait must be a number of seconds"))
			return
		}
	}
	wait = min(wait, int(sesame.MaxWait/time.Second))
	since := q.Get("since")
	jittered := jitter(time.Duration(wait) * time.Second)
	if wait > 0 && h.parkable(r) {
		p := &parkedPoll{h: h, user: dev.User, nonce: nonce, since: since, end: time.Now().Add(jittered)}
		h.hub.park(p)
		req, err := h.pendingState(dev.User)
		p.req = req
		if err == nil && stateOf(req) == since && h.park(w, p) {
			return
		}
		h.hub.unpark(p)
		switch {
		case err != nil:
			h.writeSigned(w, nonce, 0, err)
			return
		case stateOf(req) != since:
			h.writePoll(w, nonce, since, req)
			return
		}
		// The connection could not be taken over: wait here.
	}
	var timer *time.Timer
	for {
		changed := h.hub.sub(dev.User)
		req, err := h.pendingState(dev.User)
		if err != nil {
			h.writeSigned(w, nonce, 0, err)
			return
		}
		if stateOf(req) != since || wait == 0 {
			h.writePoll(w, nonce, since, req)
			return
		}
		if timer == nil {
			timer = time.NewTimer(jittered)
			defer timer.Stop()
			h.metrics.waiting.Add(1)
			defer h.metrics.waiting.Add(-1)
		}
		select {
		case <-changed:
			continue
		case <-timer.C:
			h.writePoll(w, nonce, since, req)
		case <-h.closing:
			h.writeShuttingDown(w, nonce)
		case <-r.Context().Done():
		}
		return
	}
}

// writePoll answers a long-poll with the user's pending request req.
func (h *Handler) writePoll(w http.ResponseWriter, nonce, since string, req *requestRecord) {
	resp := sesame.PollResponse{V: sesame.Version, Time: h.now().UnixMilli(), State: stateOf(req), Requests: []sesame.SignedRequest{}}
	if req != nil {
		resp.Requests = append(resp.Requests, req.SignedRequest)
		if resp.State != since && !req.Started.IsZero() {
			h.metrics.delivery.observe(h.now().Sub(req.Started).Seconds())
		}
	}
	h.writeSigned(w, nonce, http.StatusOK, resp)
}

// writeShuttingDown hands a long-poll back: the device retries after its
// backoff, on another replica behind a load balancer.
func (h *Handler) writeShuttingDown(w http.ResponseWriter, nonce string) {
	w.Header().Set("Retry-After", "1")
	h.writeSigned(w, nonce, 0, fail(http.StatusServiceUnavailable, sesame.CodeUnavailable, "this server is shutting down: try again"))
}

func (h *Handler) answer(w http.ResponseWriter, r *http.Request) {
	nonce := nonceOf(r)
	auth, err := h.authHeaders(r, false)
	if err != nil {
		h.writeSigned(w, nonce, 0, err)
		return
	}
	body, err := h.readBody(w, r)
	if err == nil {
		err = h.verifyDevice(r, auth, auth.dev.PublicKey, body)
	}
	if err != nil {
		h.writeSigned(w, nonce, 0, err)
		return
	}
	dev := auth.dev
	var a sesame.SignedAnswer
	if err := decodeStrict(body, &a); err != nil {
		h.writeSigned(w, nonce, 0, err)
		return
	}
	if err := a.Check(); err != nil || a.RequestID != r.PathValue("id") || a.DeviceID != dev.ID {
		h.writeSigned(w, nonce, 0, fail(http.StatusBadRequest, sesame.CodeBadRequest, "malformed answer"))
		return
	}
	if a.Verify(dev.PublicKey) != nil {
		h.writeSigned(w, nonce, 0, fail(http.StatusBadRequest, sesame.CodeBadSignature, "the answer's signature does not verify"))
		return
	}
	now := h.now()
	var res sesame.AnswerResult
	var notMe, recorded bool // recorded: this answer, not a retry of it
	err = h.store.Update(func(tx Tx) error {
		req, ok, err := getJSON[requestRecord](tx, bRequests, a.RequestID)
		if err != nil {
			return err
		}
		if !ok || req.User != dev.User {
			return fail(http.StatusNotFound, sesame.CodeNotFound, "no such sign-in request")
		}
		if req.Status != sesame.StatusPending {
			if req.DeviceID == dev.ID && bytes.Equal(req.AnswerSig, a.Sig) {
				// The same signed answer sent again (a retry after a lost response).
				res = sesame.AnswerResult{V: sesame.Version, Status: req.Status, Reason: req.Reason}
				return nil
			}
			return fail(http.StatusConflict, sesame.CodeAlreadyAnswered, "the sign-in request was already answered")
		}
		if req.status(now) == sesame.StatusExpired || a.Time > req.Expires+int64(sesame.MaxClockSkew/time.Second) ||
			a.Time < req.Created-int64(sesame.MaxClockSkew/time.Second) {
			return fail(http.StatusGone, sesame.CodeExpired, "the sign-in request has expired")
		}
		switch {
		case a.Decision == sesame.DecisionDeny && a.Reason == string(approve.NotMe):
			req.Status, req.Reason = sesame.StatusNotMe, ""
			notMe = true
		case a.Decision == sesame.DecisionDeny:
			req.Status, req.Reason = sesame.StatusDenied, a.Reason
		case req.Mode == string(approve.ModeApprove):
			req.Status = sesame.StatusApproved
		case subtle.ConstantTimeCompare([]byte(a.Number), []byte(req.Number)) == 1:
			req.Status = sesame.StatusApproved
		default:
			req.Status, req.Reason = sesame.StatusDenied, "wrong_number"
		}
		req.DeviceID, req.AnswerSig, req.Answered = dev.ID, a.Sig, now.UTC()
		recorded = true
		if err := putJSON(tx, bRequests, req.ID, req); err != nil {
			return err
		}
		u, _, err := getJSON[userRecord](tx, bUsers, req.User)
		if err != nil {
			return err
		}
		if u.Pending == req.ID {
			u.Pending = ""
		}
		if notMe {
			u.Blocked, u.BlockedAt, u.BlockedRequest = true, now.UTC(), req.ID
		}
		res = sesame.AnswerResult{V: sesame.Version, Status: req.Status, Reason: req.Reason}
		return putJSON(tx, bUsers, req.User, u)
	})
	if err != nil {
		h.writeSigned(w, nonce, 0, err)
		return
	}
	if notMe {
		h.log.Warn("sign-in reported as not made by the user: further requests blocked", "user", dev.User, "request", a.RequestID, "device", dev.ID)
	}
	if recorded {
		h.metrics.answer(res.Status)
	}
	h.wake(dev.User)
	h.writeSigned(w, nonce, http.StatusOK, res)
}

func (h *Handler) unpairDevice(w http.ResponseWriter, r *http.Request) {
	nonce := nonceOf(r)
	dev, err := h.authDevice(r)
	if err == nil {
		err = h.deleteDevice(dev.User, dev.ID)
	}
	if err != nil {
		h.writeSigned(w, nonce, 0, err)
		return
	}
	h.writeSigned(w, nonce, http.StatusOK, map[string]any{"v": sesame.Version, "deleted": dev.ID})
}

func (h *Handler) unblockDevice(w http.ResponseWriter, r *http.Request) {
	nonce := nonceOf(r)
	dev, err := h.authDevice(r)
	if err == nil {
		err = h.unblock(dev.User, "device "+dev.ID)
	}
	if err != nil {
		h.writeSigned(w, nonce, 0, err)
		return
	}
	h.writeSigned(w, nonce, http.StatusOK, map[string]any{"v": sesame.Version, "blocked": false})
}

func (h *Handler) deleteDevice(user, id string) error {
	err := h.store.Update(func(tx Tx) error {
		d, ok, err := getJSON[Device](tx, bDevices, id)
		if err != nil {
			return err
		}
		if !ok || d.User != user {
			return fail(http.StatusNotFound, sesame.CodeNotFound, "no such device")
		}
		if err := tx.Delete(bDevices, id); err != nil {
			return err
		}
		return tx.Delete(bUserDevices, user+"\x00"+id)
	})
	if err == nil {
		h.log.Info("device removed", "user", user, "device", id)
	}
	return err
}

func (h *Handler) unblock(user, by string) error {
	err := h.store.Update(func(tx Tx) error {
		u, ok, err := getJSON[userRecord](tx, bUsers, user)
		if err != nil || !ok || !u.Blocked {
			return err
		}
		u.Blocked, u.BlockedAt, u.BlockedRequest = false, time.Time{}, ""
		return putJSON(tx, bUsers, user, u)
	})
	if err == nil {
		h.log.Info("sign-in requests unblocked", "user", user, "by", by)
	}
	return err
}
