package server

import (
	"embed"
	"encoding/base64"
	"html/template"
	"net/http"
	"sync"
	"time"

	"github.com/sesame-auth/sesame/approve/sesame"
)

//go:embed pages/*.html
var pages embed.FS

// pageTemplates parses the demo pages when the first one is served, not at
// package initialisation, which every command of the sesame binary pays for.
var pageTemplates = sync.OnceValue(func() *template.Template {
	return template.Must(template.ParseFS(pages, "pages/*.html"))
})

// demoRoutes serves the demo sign-in page and the pairing page. They start
// sign-ins and pairings without the API key, so Config.Demo is for loopback
// demos only.
func (h *Handler) demoRoutes() {
	h.mux.HandleFunc("GET /demo", h.demoPage)
	h.mux.HandleFunc("GET /demo/{$}", h.demoPage)
	h.mux.HandleFunc("GET /demo/pair", h.demoPairPage)
	h.mux.HandleFunc("POST /demo/api/signin", h.demoSignIn)
	h.mux.HandleFunc("GET /demo/api/signin/{id}", h.demoSignInStatus)
}

func (h *Handler) page(w http.ResponseWriter, name string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Content-Security-Policy", "default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'; connect-src 'self'; form-action 'self'")
	if err := pageTemplates().ExecuteTemplate(w, name, data); err != nil {
		h.log.Error("rendering page", "page", name, "err", err)
	}
}

func (h *Handler) demoPage(w http.ResponseWriter, r *http.Request) {
	h.page(w, "demo.html", map[string]any{"Label": h.cfg.Label, "Fingerprint": h.fp})
}

func (h *Handler) demoPairPage(w http.ResponseWriter, r *http.Request) {
	user := r.URL.Query().Get("user")
	data := map[string]any{"User": user, "Fingerprint": h.fp}
	if user != "" {
		p, err := h.CreatePairing(user)
		if err != nil {
			data["Error"] = err.Error()
		} else {
			data["URI"] = p.URI
			data["QR"] = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(p.QRPNG))
			data["Expires"] = p.Expires.Local().Format(time.Kitchen)
		}
	}
	h.page(w, "pair.html", data)
}

func (h *Handler) demoSignIn(w http.ResponseWriter, r *http.Request) {
	body, err := h.readBody(w, r)
	if err != nil {
		h.writeError(w, err)
		return
	}
	var in struct {
		User string `json:"user"`
		Mode string `json:"mode"`
	}
	if err := decodeStrict(body, &in); err != nil {
		h.writeError(w, err)
		return
	}
	ua := r.UserAgent()
	if len(ua) > sesame.MaxFieldLength {
		ua = ua[:sesame.MaxFieldLength]
	}
	out, err := h.StartSignIn(SignInRequest{
		User: in.User, Application: "Sesame demo sign-in page", IP: remoteHost(r),
		Location: "this machine (loopback)", UserAgent: ua, Mode: in.Mode,
	})
	if err != nil {
		h.writeError(w, err)
		return
	}
	h.writeJSON(w, http.StatusCreated, out)
}

func (h *Handler) demoSignInStatus(w http.ResponseWriter, r *http.Request) {
	st, err := h.WaitSignIn(r.Context(), r.PathValue("id"), 25*time.Second)
	if err != nil {
		if r.Context().Err() == nil {
			h.writeError(w, err)
		}
		return
	}
	h.writeJSON(w, http.StatusOK, st)
}
