package transfer

import (
	"fmt"
	"strings"

	"github.com/sesame-auth/sesame/vault/qrcode"
)

// GooglePNGSize is the side, in pixels, of the QR code images ExportGoogle's
// links are drawn in: large enough for a phone to read from a monitor.
const GooglePNGSize = 800

// QRPNGs draws each link (from ExportGoogle) as a QR code PNG of size×size
// pixels, one image per link, in order.
func QRPNGs(uris []string, size int) ([][]byte, error) {
	out := make([][]byte, 0, len(uris))
	for i, u := range uris {
		png, err := qrcode.EncodePNG(u, size)
		if err != nil {
			return nil, fmt.Errorf("QR code %d of %d: %w", i+1, len(uris), err)
		}
		out = append(out, png)
	}
	return out, nil
}

// TerminalQR draws text as a QR code of Unicode half blocks (two modules a
// character cell) at error correction level M with a 4-module quiet zone,
// light modules in the terminal's foreground colour, for terminals with a
// dark background. It returns an error when the text does not fit in a QR
// code.
func TerminalQR(text string) (string, error) {
	lines, err := qrcode.HalfBlocks(text, qrcode.LevelM, 4)
	if err != nil {
		return "", err
	}
	return strings.Join(lines, "\n") + "\n", nil
}
