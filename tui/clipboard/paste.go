package clipboard

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"

	"github.com/sesame-auth/sesame/vault/qrcode"
)

// MaxPaste caps what is read from the clipboard: an image of a QR code or
// a link is far smaller.
const MaxPaste = 32 << 20

// Content is what the clipboard holds: an image (PNG or JPEG bytes) or, when
// it holds no image, text.
type Content struct {
	Image []byte
	Text  string
}

// Source reads the system clipboard: the read side of Clipboard, for
// `sesame add --clipboard` and the TUI's add dialog.
type Source interface {
	// Paste returns the clipboard's image, or its text when it has no image.
	Paste(ctx context.Context) (Content, error)
	// String names the helper: "xclip".
	String() string
}

// ErrNoSource means no helper that reads the clipboard was found.
var ErrNoSource = errors.New("cannot read the clipboard: install wl-clipboard (Wayland) or xclip (X11)")

// PasteRunner runs argv and returns its standard output, at most MaxPaste
// bytes. Tests pass a fake; nil means the real program.
type PasteRunner func(ctx context.Context, argv ...string) ([]byte, error)

func runPaste(ctx context.Context, argv ...string) ([]byte, error) {
	ctx, cancel := withTimeout(ctx)
	defer cancel()
	var out, stderr bytes.Buffer
	cmd := exec.CommandContext(ctx, argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = &limited{w: &out, n: MaxPaste + 1}, &limited{w: &stderr, n: 512}
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if msg == "" {
			return nil, fmt.Errorf("%s: %w", argv[0], err)
		}
		return nil, fmt.Errorf("%s: %w: %s", argv[0], err, msg)
	}
	if out.Len() > MaxPaste {
		return nil, fmt.Errorf("the clipboard holds over %d MiB: copy only the QR code", MaxPaste>>20)
	}
	return out.Bytes(), nil
}

// imageTypes are the image formats read, in order of preference.
var imageTypes = []string{"image/png", "image/jpeg"}

// Paster reads the clipboard with helper programs that list the types on
// offer and print one of them (xclip, wl-paste).
type Paster struct {
	Name  string
	Types []string                  // prints the offered types, one a line
	Get   func(typ string) []string // prints the content of one type
	Text  []string                  // prints the text
	Run   PasteRunner
}

func (p Paster) String() string { return p.Name }

// Paste returns the first image type on offer, else the text.
func (p Paster) Paste(ctx context.Context) (Content, error) {
	run := p.Run
	if run == nil {
		run = runPaste
	}
	types, err := run(ctx, p.Types...)
	if err != nil {
		return Content{}, fmt.Errorf("read the clipboard: %w", err)
	}
	offered := strings.Fields(string(types))
	for _, t := range imageTypes {
		if slices.Contains(offered, t) {
			b, err := run(ctx, p.Get(t)...)
			if err != nil {
				return Content{}, fmt.Errorf("read the clipboard's image: %w", err)
			}
			return Content{Image: b}, nil
		}
	}
	b, err := run(ctx, p.Text...)
	if err != nil {
		return Content{}, fmt.Errorf("read the clipboard: the clipboard holds no image or text (%w)", err)
	}
	return Content{Text: string(b)}, nil
}

// The helpers that read the clipboard.
var (
	XclipPaster = Paster{
		Name:  "xclip",
		Types: []string{"xclip", "-selection", "clipboard", "-t", "TARGETS", "-o"},
		Get:   func(t string) []string { return []string{"xclip", "-selection", "clipboard", "-t", t, "-o"} },
		Text:  []string{"xclip", "-selection", "clipboard", "-t", "UTF8_STRING", "-o"},
	}
	WlPaster = Paster{
		Name:  "wl-paste",
		Types: []string{"wl-paste", "--list-types"},
		Get:   func(t string) []string { return []string{"wl-paste", "--no-newline", "--type", t} },
		Text:  []string{"wl-paste", "--no-newline", "--type", "text/plain"},
	}
)

// MacPaster reads the macOS pasteboard: a PNG through osascript, else the
// text through pbpaste.
type MacPaster struct{ Run PasteRunner }

func (MacPaster) String() string { return "osascript and pbpaste" }

// Paste asks for the pasteboard as PNG data, then as text.
func (m MacPaster) Paste(ctx context.Context) (Content, error) {
	run := m.Run
	if run == nil {
		run = runPaste
	}
	// osascript prints «data PNGf89504E47…» for an image.
	if out, err := run(ctx, "osascript", "-e", "the clipboard as «class PNGf»"); err == nil {
		s := strings.TrimSpace(string(out))
		if h, ok := strings.CutPrefix(s, "«data PNGf"); ok {
			b, err := hex.DecodeString(strings.TrimSuffix(h, "»"))
			if err != nil {
				return Content{}, fmt.Errorf("read the clipboard's image: %w", err)
			}
			return Content{Image: b}, nil
		}
	}
	out, err := run(ctx, "pbpaste")
	if err != nil {
		return Content{}, fmt.Errorf("read the clipboard: %w", err)
	}
	return Content{Text: string(out)}, nil
}

// WindowsPaster reads the Windows clipboard through PowerShell's
// Get-Clipboard: an image as base64 PNG, else the text.
type WindowsPaster struct{ Run PasteRunner }

func (WindowsPaster) String() string { return "PowerShell Get-Clipboard" }

const windowsScript = `Add-Type -AssemblyName System.Windows.Forms,System.Drawing; ` +
	`$i = Get-Clipboard -Format Image; if ($i) { $m = New-Object IO.MemoryStream; ` +
	`$i.Save($m, [Drawing.Imaging.ImageFormat]::Png); 'image:' + [Convert]::ToBase64String($m.ToArray()) } ` +
	`else { 'text:' + (Get-Clipboard -Raw) }`

// Paste runs the script and decodes what it printed.
func (w WindowsPaster) Paste(ctx context.Context) (Content, error) {
	run := w.Run
	if run == nil {
		run = runPaste
	}
	out, err := run(ctx, "powershell.exe", "-NoProfile", "-NonInteractive", "-Command", windowsScript)
	if err != nil {
		return Content{}, fmt.Errorf("read the clipboard: %w", err)
	}
	s := strings.TrimRight(string(out), "\r\n")
	if b64, ok := strings.CutPrefix(s, "image:"); ok {
		b, err := base64.StdEncoding.DecodeString(b64)
		if err != nil {
			return Content{}, fmt.Errorf("read the clipboard's image: %w", err)
		}
		return Content{Image: b}, nil
	}
	return Content{Text: strings.TrimPrefix(s, "text:")}, nil
}

// DetectSource picks how to read the clipboard: wl-paste on Wayland, xclip
// on X11, osascript and pbpaste on macOS, PowerShell on Windows. Over SSH
// the clipboard belongs to the other machine and cannot be read.
func DetectSource(e Env) (Source, error) {
	getenv, lookPath, goos := e.Getenv, e.LookPath, e.GOOS
	if getenv == nil {
		getenv = os.Getenv
	}
	if lookPath == nil {
		lookPath = exec.LookPath
	}
	if goos == "" {
		goos = runtime.GOOS
	}
	has := func(p string) bool { _, err := lookPath(p); return err == nil }
	switch goos {
	case "darwin":
		return MacPaster{}, nil
	case "windows":
		return WindowsPaster{}, nil
	}
	if getenv("SSH_TTY") != "" || getenv("SSH_CONNECTION") != "" {
		return nil, errors.New("cannot read the clipboard over SSH: it belongs to the machine you connect from; paste the otpauth:// link as 'sesame add URI' instead")
	}
	if getenv("WAYLAND_DISPLAY") != "" && has("wl-paste") {
		return WlPaster, nil
	}
	if getenv("DISPLAY") != "" && has("xclip") {
		return XclipPaster, nil
	}
	if getenv("WAYLAND_DISPLAY") == "" && getenv("DISPLAY") == "" {
		return nil, errors.New("cannot read the clipboard: no graphical session (neither DISPLAY nor WAYLAND_DISPLAY is set)")
	}
	return nil, ErrNoSource
}

// ErrNoCode is Codes' error when the clipboard holds neither an image with
// a QR code nor a link.
var ErrNoCode = errors.New("the clipboard holds no QR code image and no otpauth:// link: copy the QR code image (or its link) and try again")

// Codes returns the texts the clipboard holds: those of the QR codes in its
// image, or the non-blank lines of its text.
func Codes(c Content) ([]string, error) {
	if c.Image != nil {
		texts, err := qrcode.Decode(bytes.NewReader(c.Image))
		if errors.Is(err, qrcode.ErrNoCode) {
			return nil, ErrNoCode
		}
		if err != nil {
			return nil, fmt.Errorf("the clipboard's image: %w", err)
		}
		return texts, nil
	}
	var texts []string
	for line := range strings.Lines(c.Text) {
		if line = strings.TrimSpace(line); line != "" {
			texts = append(texts, line)
		}
	}
	if len(texts) == 0 {
		return nil, ErrNoCode
	}
	return texts, nil
}
