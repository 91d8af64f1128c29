package tui

import (
	"strings"

	"github.com/charmbracelet/x/ansi"

	"github.com/sesame-auth/sesame/vault/qrcode"
)

// qrQuietZone is the light border drawn around a QR code on screen, in
// modules. The standard asks for 4; phone cameras read 1 well, and every
// module saved keeps an ordinary account's code within 80x24.
const qrQuietZone = 1

// newQRArt draws text as a QR code of half blocks at error correction
// level L (a screen is not scratched or folded), dark modules on a light
// field whatever the theme.
func newQRArt(c *common, text string) qrArt {
	lines, err := qrcode.HalfBlocks(text, qrcode.LevelL, qrQuietZone)
	if err != nil {
		return qrArt{err: err}
	}
	w := 0
	for i, l := range lines {
		w = max(w, ansi.StringWidth(l))
		lines[i] = c.styles.QR.Render(l)
	}
	return qrArt{art: strings.Join(lines, "\n"), w: w, h: len(lines)}
}
