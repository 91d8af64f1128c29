package server

import (
	"context"
	"errors"
	"net/http"
	"time"
)

// Operations: health and readiness for a load balancer, Prometheus metrics,
// and what replicas sharing one store exchange.

// sharedStore is a Store that several server processes share (Postgres).
// The handler sends wake-ups and device nonces through it, so that every
// replica sees them.
type sharedStore interface {
	// subscribe registers what to call when another replica publishes a
	// change for a user, and when changes may have been missed.
	subscribe(wake func(user string), wakeAll func())
	// publish tells the other replicas that user's requests changed.
	publish(user string) error
	// addNonce records key and reports whether it was not seen within life.
	addNonce(key string, now time.Time, life time.Duration) (bool, error)
	// ready reports whether the store can serve.
	ready(ctx context.Context) error
}

func (h *Handler) opsRoutes() {
	h.mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.Write([]byte("ok\n"))
	})
	h.mux.HandleFunc("GET /readyz", h.readyz)
	h.mux.HandleFunc("GET /metrics", h.serveMetrics)
}

// Ready reports whether the handler can serve: it is not shutting down and
// its store answers.
func (h *Handler) Ready(ctx context.Context) error {
	select {
	case <-h.closing:
		return errors.New("shutting down")
	default:
	}
	if h.shared != nil {
		return h.shared.ready(ctx)
	}
	return nil
}

func (h *Handler) readyz(w http.ResponseWriter, r *http.Request) {
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err := h.Ready(ctx); err != nil {
		h.log.Warn("not ready", "err", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		w.Write([]byte("not ready\n"))
		return
	}
	w.Write([]byte("ready\n"))
}

// wake wakes the long-polls waiting for user's requests, here and, with a
// shared store, on every other replica.
func (h *Handler) wake(user string) {
	h.hub.notify(user)
	if h.shared != nil {
		if err := h.shared.publish(user); err != nil {
			h.log.Warn("could not wake the other replicas", "user", user, "err", err)
		}
	}
}

// addNonce records a device request's nonce: in the shared store when there
// is one, else in memory.
func (h *Handler) addNonce(key string, now time.Time) (int, error) {
	if h.shared == nil {
		return h.nonces.add(key, now), nil
	}
	fresh, err := h.shared.addNonce(key, now, nonceLife)
	if err != nil {
		return 0, err
	}
	if !fresh {
		return nonceReplayed, nil
	}
	return nonceFresh, nil
}
