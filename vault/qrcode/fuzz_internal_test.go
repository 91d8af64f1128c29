package qrcode

import (
	"bytes"
	"image/png"
	"testing"

	"github.com/sesame-auth/sesame/vault/vaulttest"
)

// scanSeeds are small QR codes as FuzzScan reads them (two bytes of width,
// then grey pixels): whole, with bits flipped, and cut short.
func scanSeeds(f testing.TB) [][]byte {
	var out [][]byte
	for _, text := range []string{"a", "otpauth://totp/Example:alice?secret=JBSWY3DPEHPK3PXP&issuer=Example"} {
		p, err := EncodePNG(text, 0)
		if err != nil {
			f.Fatal(err)
		}
		img, err := png.Decode(bytes.NewReader(p))
		if err != nil {
			f.Fatal(err)
		}
		g := luminance(img)
		for g.w > 120 {
			g = g.half()
		}
		seed := append([]byte{byte(g.w >> 8), byte(g.w)}, g.pix...)
		out = append(out, seed)
		flipped := bytes.Clone(seed)
		for i := 2 + len(g.pix)/3; i < len(flipped); i += 97 {
			flipped[i] ^= 0xff
		}
		out = append(out, flipped)
		out = append(out, seed[:2+len(g.pix)/2])
	}
	return out
}

// TestScanSeedCorpus keeps the committed seed corpus of FuzzScan (see
// vaulttest.SeedCorpus; rewrite it with -write-corpus).
func TestScanSeedCorpus(t *testing.T) {
	var seeds [][]any
	for _, s := range scanSeeds(t) {
		seeds = append(seeds, []any{s})
	}
	vaulttest.SeedCorpus(t, "FuzzScan", seeds...)
}

// FuzzScan runs the QR decoder on arbitrary grey images, below the recover
// of decodeOnce, so that a panic inside gozxing fails the target instead of
// counting as "no code". The first two bytes give the width; the rest are
// the pixels, row by row. The seeds are small QR codes, whole and damaged.
func FuzzScan(f *testing.F) {
	for _, s := range scanSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) < 3 || len(data) > 2+128*128 {
			return
		}
		w := int(data[0])<<8 | int(data[1])
		pix := data[2:]
		if w == 0 || w > len(pix) {
			return
		}
		h := len(pix) / w
		texts, _ := scan(gray{pix: pix[:w*h], w: w, h: h})
		for _, s := range texts {
			if s == "" {
				t.Fatal("scan found a code with no text")
			}
		}
	})
}
