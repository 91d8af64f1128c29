package qrcode

import (
	"fmt"
	"strings"

	"rsc.io/qr/coding"
)

// This file draws QR codes for terminals; EncodePNG draws them as images.
// The encoder here picks segment modes (alphanumeric runs for the base32
// secret of an otpauth link) so that a code is as small as the text
// allows: an ordinary account's link fits an 80x24 terminal at level L.

// Level is a QR error correction level.
type Level coding.Level

// Error correction levels: L for a screen (it is not scratched or folded),
// M for a code that may be printed or photographed.
const (
	LevelL = Level(coding.L)
	LevelM = Level(coding.M)
)

// HalfBlocks draws text as a QR code of Unicode half blocks, two modules a
// character cell, inside a quiet zone quiet modules wide. A drawn half is a
// light module and a blank one dark, so the code reads right when the
// blocks are light on a dark background. It returns lines of equal width,
// or an error wrapping ErrTextTooLong when the text does not fit.
func HalfBlocks(text string, level Level, quiet int) ([]string, error) {
	if text == "" {
		return nil, fmt.Errorf("nothing to encode: the text is empty")
	}
	code, err := encode(text, level)
	if err != nil {
		return nil, err
	}
	return halfBlocks(code, quiet), nil
}

// minAlphaRun is the shortest run of QR alphanumeric characters (upper-case
// letters, digits, " $%*+-./:") worth its own segment: switching to
// alphanumeric mode and back costs about 25 bits, and each character
// saves 2.5.
const minAlphaRun = 11

// segments splits text into QR segments: long runs of alphanumeric
// characters (the base32 secret of an otpauth link) in alphanumeric mode,
// 5.5 bits a character, the rest in byte mode, 8 bits a character.
func segments(text string) []coding.Encoding {
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

// encode encodes text at error correction level in the smallest version
// its segments fit, with the mask the standard's penalty rules prefer.
func encode(text string, level Level) (*coding.Code, error) {
	segs := segments(text)
	for v := coding.Version(coding.MinVersion); v <= coding.MaxVersion; v++ {
		bits := 0
		for _, s := range segs {
			bits += s.Bits(v)
		}
		if bits > v.DataBytes(coding.Level(level))*8 {
			continue
		}
		var best *coding.Code
		bestScore := 0
		for m := coding.Mask(0); m < 8; m++ {
			p, err := coding.NewPlan(v, coding.Level(level), m)
			if err != nil {
				return nil, err
			}
			c, err := p.Encode(segs...)
			if err != nil {
				return nil, err
			}
			if s := penalty(c); best == nil || s < bestScore {
				best, bestScore = c, s
			}
		}
		return best, nil
	}
	return nil, fmt.Errorf("%w: %d bytes", ErrTextTooLong, len(text))
}

// penalty scores a code by the four penalty rules of ISO/IEC 18004
// (runs, 2x2 blocks, finder-like patterns, dark/light balance): lower is
// easier to read.
func penalty(c *coding.Code) int {
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

// halfBlocks draws a code two modules a cell, inside a light quiet zone:
// a drawn half is a light module, a blank one dark.
func halfBlocks(c *coding.Code, quiet int) []string {
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
