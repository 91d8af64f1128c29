package server

import (
	"bytes"
	"crypto/ed25519"
	"crypto/subtle"
	"encoding/hex"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/sesame-auth/sesame/approve"
)

// The device API: pairing registration, long-polls for pending requests,
// answers, and a device removing or unblocking itself.

func (h *Handler) info(w http.ResponseWriter, r *http.Request) {
	h.writeJSON(w, http.StatusOK, map[string]any{
		"v": approve.Version, "fingerprint": h.fp, "time": h.now().UnixMilli(), "server_key": []byte(h.pub),
	})
}

// authDevice checks a device request's timestamp, signature and nonce. For
// registration (pub != nil) the key comes from the body; otherwise from the
// device named in the header.
func (h *Handler) authDevice(r *http.Request, body []byte, pub ed25519.PublicKey) (Device, error) {
	var dev Device
	now := h.now()
	nonce := r.Header.Get(approve.HeaderNonce)
	if n, err := approve.DecodeB64(nonce, approve.NonceBytes); err != nil || len(n) != approve.NonceBytes {
		return dev, fail(http.StatusUnauthorized, approve.CodeUnauthorized, "missing or malformed nonce")
	}
	tsText := r.Header.Get(approve.HeaderTimestamp)
	ts, err := strconv.ParseInt(tsText, 10, 64)
	if err != nil || len(tsText) > 12 {
		return dev, fail(http.StatusUnauthorized, approve.CodeUnauthorized, "missing or malformed timestamp")
	}
	t := time.Unix(ts, 0)
	if d := now.Sub(t); d > approve.MaxClockSkew || d < -approve.MaxClockSkew {
		return dev, fail(http.StatusUnauthorized, approve.CodeStaleTimestamp,
			"the request's timestamp is too far from the server's time: check this device's clock")
	}
	sig, err := approve.DecodeB64(r.Header.Get(approve.HeaderSignature), ed25519.SignatureSize)
	if err != nil || len(sig) != ed25519.SignatureSize {
		return dev, fail(http.StatusUnauthorized, approve.CodeUnauthorized, "missing or malformed signature")
	}
	id := r.Header.Get(approve.HeaderDevice)
	if pub == nil {
		if id == "" || len(id) > 64 {
			return dev, fail(http.StatusUnauthorized, approve.CodeUnknownDevice, "unknown device: pair again")
		}
		var ok bool
		err := h.store.View(func(tx Tx) (err error) {
			dev, ok, err = getJSON[Device](tx, bDevices, id)
			return err
		})
		if err != nil {
			return dev, err
		}
		if !ok {
			return dev, fail(http.StatusUnauthorized, approve.CodeUnknownDevice, "unknown device: pair again")
		}
		pub = dev.PublicKey
	} else if id != "" {
		return dev, fail(http.StatusUnauthorized, approve.CodeUnauthorized, "a registration carries no device id")
	}
	msg := approve.DeviceRequestSigningBytes(r.Method, r.URL.EscapedPath(), approve.CanonicalQuery(r.URL.Query()), tsText, nonce, id, body)
	if len(pub) != ed25519.PublicKeySize || !ed25519.Verify(pub, msg, sig) {
		return dev, fail(http.StatusUnauthorized, approve.CodeBadSignature, "the request's signature does not verify")
	}
	who := id
	if who == "" {
		who = "k:" + hex.EncodeToString(pub)
	}
	if !h.devices.allow(who, now) {
		return dev, fail(http.StatusTooManyRequests, approve.CodeRateLimited, "too many requests: slow down")
	}
	fresh, err := h.addNonce(who+"|"+nonce, now)
	if err != nil {
		return dev, err
	}
	switch fresh {
	case nonceReplayed:
		return dev, fail(http.StatusUnauthorized, approve.CodeReplayedNonce, "this request was already received (replayed nonce)")
	case nonceFull:
		return dev, fail(http.StatusServiceUnavailable, approve.CodeUnavailable, "the server is overloaded: try again later")
	}
	return dev, nil
}

// nonceOf is the nonce header for signing a response, capped in length.
func nonceOf(r *http.Request) string {
	n := r.Header.Get(approve.HeaderNonce)
	if len(n) > 64 {
		n = n[:64]
	}
	return n
}

func (h *Handler) register(w http.ResponseWriter, r *http.Request) {
	nonce := nonceOf(r)
	if !h.pairs.allow(remoteHost(r), h.now()) {
		h.writeSigned(w, nonce, 0, fail(http.StatusTooManyRequests, approve.CodeRateLimited, "too many pairing attempts: wait a minute"))
		return
	}
	body, err := readBody(w, r)
	if err != nil {
		h.writeSigned(w, nonce, 0, err)
		return
	}
	var req approve.RegisterRequest
	if err := decodeStrict(body, &req); err != nil {
		h.writeSigned(w, nonce, 0, err)
		return
	}
	if req.V != approve.Version || len(req.PublicKey) != ed25519.PublicKeySize || len(req.Name) > approve.MaxFieldLength {
		h.writeSigned(w, nonce, 0, fail(http.StatusBadRequest, approve.CodeBadRequest, "bad registration: unsupported version, key or name"))
		return
	}
	if _, err := h.authDevice(r, body, req.PublicKey); err != nil {
		h.writeSigned(w, nonce, 0, err)
		return
	}
	tok, err := approve.DecodeB64(req.Token, approve.MaxTokenBytes)
	if err != nil || len(tok) < approve.MinTokenBytes {
		h.writeSigned(w, nonce, 0, fail(http.StatusForbidden, approve.CodeTokenInvalid, "unknown, used or expired pairing token"))
		return
	}
	now := h.now()
	dev := Device{ID: randomID(), Name: strings.ToValidUTF8(req.Name, ""), PublicKey: req.PublicKey, Created: now.UTC().Truncate(time.Second)}
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
		h.writeSigned(w, nonce, 0, err)
		return
	}
	if dev.User == "" {
		h.writeSigned(w, nonce, 0, fail(http.StatusForbidden, approve.CodeTokenInvalid, "unknown, used or expired pairing token"))
		return
	}
	h.log.Info("device paired", "user", dev.User, "device", dev.ID)
	h.writeSigned(w, nonce, http.StatusOK, approve.RegisterResponse{V: approve.Version, DeviceID: dev.ID, User: dev.User, ServerKey: h.pub, Label: label})
}

// pendingFor returns the user's pending, unexpired request, if any.
func pendingFor(tx Tx, user string, now time.Time) (*requestRecord, error) {
	u, ok, err := getJSON[userRecord](tx, bUsers, user)
	if err != nil || !ok || u.Pending == "" {
		return nil, err
	}
	req, ok, err := getJSON[requestRecord](tx, bRequests, u.Pending)
	if err != nil || !ok || req.status(now) != approve.StatusPending {
		return nil, err
	}
	return &req, nil
}

func (h *Handler) poll(w http.ResponseWriter, r *http.Request) {
	nonce := nonceOf(r)
	dev, err := h.authDevice(r, nil, nil)
	if err != nil {
		h.writeSigned(w, nonce, 0, err)
		return
	}
	q := r.URL.Query()
	wait := 0
	if s := q.Get("wait"); s != "" {
		wait, err = strconv.Atoi(s)
		if err != nil || wait < 0 {
			h.writeSigned(w, nonce, 0, fail(http.StatusBadRequest, approve.CodeBadRequest, "wait must be a number of seconds"))
			return
		}
	}
	wait = min(wait, int(approve.MaxWait/time.Second))
	since := q.Get("since")
	var timer *time.Timer
	for {
		changed := h.hub.sub(dev.User)
		var req *requestRecord
		err := h.store.View(func(tx Tx) (err error) {
			req, err = pendingFor(tx, dev.User, h.now())
			return err
		})
		if err != nil {
			h.writeSigned(w, nonce, 0, err)
			return
		}
		state := "none"
		if req != nil {
			state = req.ID
		}
		done := state != since || wait == 0
		if !done {
			if timer == nil {
				timer = time.NewTimer(jitter(time.Duration(wait) * time.Second))
				defer timer.Stop()
				h.metrics.waiting.Inc()
				defer h.metrics.waiting.Dec()
			}
			select {
			case <-changed:
				continue
			case <-timer.C:
				done = true
			case <-h.closing:
				// Hand the long-poll back: the device retries after its
				// backoff, on another replica behind a load balancer.
				w.Header().Set("Retry-After", "1")
				h.writeSigned(w, nonce, 0, fail(http.StatusServiceUnavailable, approve.CodeUnavailable, "this server is shutting down: try again"))
				return
			case <-r.Context().Done():
				return
			}
		}
		resp := approve.PollResponse{V: approve.Version, Time: h.now().UnixMilli(), State: state, Requests: []approve.SignedRequest{}}
		if req != nil {
			resp.Requests = append(resp.Requests, req.SignedRequest)
			if state != since && !req.Started.IsZero() {
				h.metrics.delivery.Observe(h.now().Sub(req.Started).Seconds())
			}
		}
		h.writeSigned(w, nonce, http.StatusOK, resp)
		return
	}
}

func (h *Handler) answer(w http.ResponseWriter, r *http.Request) {
	nonce := nonceOf(r)
	body, err := readBody(w, r)
	if err != nil {
		h.writeSigned(w, nonce, 0, err)
		return
	}
	dev, err := h.authDevice(r, body, nil)
	if err != nil {
		h.writeSigned(w, nonce, 0, err)
		return
	}
	var a approve.SignedAnswer
	if err := decodeStrict(body, &a); err != nil {
		h.writeSigned(w, nonce, 0, err)
		return
	}
	if err := a.Check(); err != nil || a.RequestID != r.PathValue("id") || a.DeviceID != dev.ID {
		h.writeSigned(w, nonce, 0, fail(http.StatusBadRequest, approve.CodeBadRequest, "malformed answer"))
		return
	}
	if a.Verify(dev.PublicKey) != nil {
		h.writeSigned(w, nonce, 0, fail(http.StatusUnauthorized, approve.CodeBadSignature, "the answer's signature does not verify"))
		return
	}
	now := h.now()
	var res approve.AnswerResult
	var notMe bool
	err = h.store.Update(func(tx Tx) error {
		req, ok, err := getJSON[requestRecord](tx, bRequests, a.RequestID)
		if err != nil {
			return err
		}
		if !ok || req.User != dev.User {
			return fail(http.StatusNotFound, approve.CodeNotFound, "no such sign-in request")
		}
		if req.Status != approve.StatusPending {
			if req.DeviceID == dev.ID && bytes.Equal(req.AnswerSig, a.Sig) {
				// The same signed answer sent again (a retry after a lost response).
				res = approve.AnswerResult{V: approve.Version, Status: req.Status, Reason: req.Reason}
				return nil
			}
			return fail(http.StatusConflict, approve.CodeAlreadyAnswered, "the sign-in request was already answered")
		}
		if req.status(now) == approve.StatusExpired || a.Time > req.Expires+int64(approve.MaxClockSkew/time.Second) ||
			a.Time < req.Created-int64(approve.MaxClockSkew/time.Second) {
			return fail(http.StatusGone, approve.CodeExpired, "the sign-in request has expired")
		}
		switch {
		case a.Decision == approve.DecisionDeny && a.Reason == string(approve.NotMe):
			req.Status, req.Reason = approve.StatusNotMe, ""
			notMe = true
		case a.Decision == approve.DecisionDeny:
			req.Status, req.Reason = approve.StatusDenied, a.Reason
		case req.Mode == string(approve.ModeApprove):
			req.Status = approve.StatusApproved
		case subtle.ConstantTimeCompare([]byte(a.Number), []byte(req.Number)) == 1:
			req.Status = approve.StatusApproved
		default:
			req.Status, req.Reason = approve.StatusDenied, "wrong_number"
		}
		req.DeviceID, req.AnswerSig, req.Answered = dev.ID, a.Sig, now.UTC()
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
		res = approve.AnswerResult{V: approve.Version, Status: req.Status, Reason: req.Reason}
		return putJSON(tx, bUsers, req.User, u)
	})
	if err != nil {
		h.writeSigned(w, nonce, 0, err)
		return
	}
	if notMe {
		h.log.Warn("sign-in reported as not made by the user: further requests blocked", "user", dev.User, "request", a.RequestID, "device", dev.ID)
	}
	h.metrics.answered.WithLabelValues(res.Status).Inc()
	h.wake(dev.User)
	h.writeSigned(w, nonce, http.StatusOK, res)
}

func (h *Handler) unpairDevice(w http.ResponseWriter, r *http.Request) {
	nonce := nonceOf(r)
	dev, err := h.authDevice(r, nil, nil)
	if err == nil {
		err = h.deleteDevice(dev.User, dev.ID)
	}
	if err != nil {
		h.writeSigned(w, nonce, 0, err)
		return
	}
	h.writeSigned(w, nonce, http.StatusOK, map[string]any{"v": approve.Version, "deleted": dev.ID})
}

func (h *Handler) unblockDevice(w http.ResponseWriter, r *http.Request) {
	nonce := nonceOf(r)
	dev, err := h.authDevice(r, nil, nil)
	if err == nil {
		err = h.unblock(dev.User, "device "+dev.ID)
	}
	if err != nil {
		h.writeSigned(w, nonce, 0, err)
		return
	}
	h.writeSigned(w, nonce, http.StatusOK, map[string]any{"v": approve.Version, "blocked": false})
}

func (h *Handler) deleteDevice(user, id string) error {
	err := h.store.Update(func(tx Tx) error {
		d, ok, err := getJSON[Device](tx, bDevices, id)
		if err != nil {
			return err
		}
		if !ok || d.User != user {
			return fail(http.StatusNotFound, approve.CodeNotFound, "no such device")
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
