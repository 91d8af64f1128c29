package tui

import (
	"errors"
	"strings"

	"github.com/charmbracelet/x/ansi"
	"rsc.io/qr/coding"
)

// qrQuietZone is the light border drawn around a QR code on screen, in
// modules. The standard asks for 4; phone cameras read 1 well, and every
// module saved keeps an ordinary account's code within 80x24.
const qrQuietZone = 1

// minAlphaRun is the shortest run of QR alphanumeric characters (upper-case
// letters, digits, " $%*+-./:") worth its own segment: switching to
// alphanumeric mode and back costs about 25 bits, and each character
// saves 2.5.
const minAlphaRun = 11

// errTooLongForQR says a text does not fit the largest QR code.
var errTooLongForQR = errors.New("too long for a QR code")

// qrSegments splits text into QR segments: long runs of alphanumeric
// characters (the base32 secret of an otpauth link) in alphanumeric mode,
// 5.5 bits a character, the rest in byte mode, 8 bits a character.
func qrSegments(text string) []coding.Encoding {
	isAlpha := func(c byte) bool {
		return c >= '0' && c <= '9' || c >= 'A' && c <= 'Z' || strings.IndexByte(" $%*+-./:", c) >= 0
	}
	var segs []coding.Encoding
	start := 0 // of the pending byte-mode text
	for i := 0; i < len(text); {
		j := i
		for j < len(text) && isAlpha(text[j]) {
			j++
		}
		if j-i >= minAlphaRun {
			if i > start {
				segs = append(segs, coding.String(text[start:i]))
			}
			segs = append(segs, coding.Alpha(text[i:j]))
			start = j
		}
		i = max(j, i+1)
	}
	if start < len(text) {
		segs = append(segs, coding.String(text[start:]))
	}
	return segs
}

// qrEncode encodes text at error correction level L (a screen is not
// scratched or folded) in the smallest version its segments fit, with the
// mask the standard's penalty rules prefer.
func qrEncode(text string) (*coding.Code, error) {
	segs := qrSegments(text)
	for v := coding.Version(coding.MinVersion); v <= coding.MaxVersion; v++ {
		bits := 0
		for _, s := range segs {
			bits += s.Bits(v)
		}
		if bits > v.DataBytes(coding.L)*8 {
			continue
		}
		var best *coding.Code
		bestScore := 0
		for m := coding.Mask(0); m < 8; m++ {
			p, err := coding.NewPlan(v, coding.L, m)
			if err != nil {
				return nil, err
			}
			c, err := p.Encode(segs...)
			if err != nil {
				return nil, err
			}
			if s := qrPenalty(c); best == nil || s < bestScore {
				best, bestScore = c, s
			}
		}
		return best, nil
	}
	return nil, errTooLongForQR
}

// qrPenalty scores a code by the four penalty rules of ISO/IEC 18004
// (runs, 2x2 blocks, finder-like patterns, dark/light balance): lower is
// easier to read.
func qrPenalty(c *coding.Code) int {
	n := c.Size
	dark := func(x, y int) bool { return c.Black(x, y) }
	score := 0
	for pass := range 2 {
		at := func(i, j int) bool {
			if pass == 0 {
				return dark(j, i)
			}
			return dark(i, j)
		}
		for i := range n {
			run := 1
			for j := 1; j <= n; j++ {
				if j < n && at(i, j) == at(i, j-1) {
					run++
					continue
				}
				if run >= 5 {
					score += run - 2
				}
				run = 1
			}
			// 1:1:3:1:1 finder-like patterns with 4 light modules on a side.
			for j := 0; j+7 <= n; j++ {
				if at(i, j) && !at(i, j+1) && at(i, j+2) && at(i, j+3) && at(i, j+4) && !at(i, j+5) && at(i, j+6) {
					light := func(a, b int) bool {
						for k := a; k < b; k++ {
							if k >= 0 && k < n && at(i, k) {
								return false
							}
						}
						return true
					}
					if light(j-4, j) || light(j+7, j+11) {
						score += 40
					}
				}
			}
		}
	}
	darkCount := 0
	for y := range n {
		for x := range n {
			if dark(x, y) {
				darkCount++
			}
			if x+1 < n && y+1 < n {
				d := dark(x, y)
				if dark(x+1, y) == d && dark(x, y+1) == d && dark(x+1, y+1) == d {
					score += 3
				}
			}
		}
	}
	pct := darkCount * 100 / (n * n)
	dev := pct - 50
	if dev < 0 {
		dev = -dev
	}
	return score + dev/5*10
}

// qrHalfBlocks draws a code two modules a cell, inside a light quiet zone:
// a drawn half is a light module, a blank one dark.
func qrHalfBlocks(c *coding.Code, quiet int) []string {
	n := c.Size + 2*quiet
	light := func(x, y int) bool { return !c.Black(x-quiet, y-quiet) }
	var lines []string
	for y := 0; y < n; y += 2 {
		var b strings.Builder
		for x := range n {
			// Below the last row is the screen, not the quiet zone.
			top, bottom := light(x, y), y+1 < n && light(x, y+1)
			switch {
			case top && bottom:
				b.WriteString("█")
			case top:
				b.WriteString("▀")
			case bottom:
				b.WriteString("▄")
			default:
				b.WriteString(" ")
			}
		}
		lines = append(lines, b.String())
	}
	return lines
}

// newQRArt draws text as a QR code of half blocks, dark modules on a light
// field whatever the theme.
func newQRArt(c *common, text string) qrArt {
	code, err := qrEncode(text)
	if err != nil {
		return qrArt{err: err}
	}
	lines := qrHalfBlocks(code, qrQuietZone)
	w := 0
	for i, l := range lines {
		w = max(w, ansi.StringWidth(l))
		lines[i] = c.styles.QR.Render(l)
	}
	return qrArt{art: strings.Join(lines, "\n"), w: w, h: len(lines)}
}
