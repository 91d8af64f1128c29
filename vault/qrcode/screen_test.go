package qrcode_test

import (
	"errors"
	"image"
	"image/color"
	"image/draw"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/sesame-auth/sesame/vault/qrcode"
)

// screen4K is a 3840×2160 desktop (dark panel, light windows) with a
// 264-pixel enrolment QR code in a browser window, as a screen capture
// returns it (RGBA, no file).
func screen4K(t testing.TB, texts ...string) *image.RGBA {
	t.Helper()
	parts := map[image.Point]image.Image{}
	for i, text := range texts {
		parts[image.Pt(2900-i*1400, 1200)] = encodeImage(t, text, 264)
	}
	shot := canvas(3840, 2160, parts)
	draw.Draw(shot, image.Rect(0, 0, 3840, 60), image.NewUniform(color.RGBA{30, 30, 30, 255}), image.Point{}, draw.Src)
	for i, y := range []int{200, 300, 400, 1700, 1800} {
		draw.Draw(shot, image.Rect(200, y, 2400-i*200, y+40), image.NewUniform(color.RGBA{60, 64, 67, 255}), image.Point{}, draw.Src)
	}
	return shot
}

func TestDecodeImageScreen(t *testing.T) {
	a := "otpauth://totp/Screen:alice?secret=JBSWY3DPEHPK3PXP&issuer=Screen"
	b := "otpauth://totp/Other:bob?secret=KRSXG5CTMVRXEZLU&issuer=Other"
	got, err := qrcode.DecodeImage(screen4K(t, a, b))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(got, []string{b, a}) {
		t.Fatalf("DecodeImage = %q, want both codes left to right", got)
	}
	if _, err := qrcode.DecodeImage(screen4K(t)); !errors.Is(err, qrcode.ErrNoCode) {
		t.Fatalf("empty screen: err = %v, want ErrNoCode", err)
	}
}

func TestDecodeImageLimits(t *testing.T) {
	// A screen beyond the pixel limit is refused before any pixel is copied.
	huge := image.NewGray(image.Rect(0, 0, qrcode.MaxDimension+1, 8))
	if _, err := qrcode.DecodeImage(huge); !errors.Is(err, qrcode.ErrImageTooLarge) {
		t.Fatalf("huge screen: err = %v, want ErrImageTooLarge", err)
	}
	// A 16-bit-per-channel capture (odd depth) takes the generic path.
	text := "otpauth://totp/Deep:carol?secret=JBSWY3DPEHPK3PXP"
	src := encodeImage(t, text, 300)
	deep := image.NewRGBA64(image.Rect(0, 0, 500, 400))
	draw.Draw(deep, deep.Bounds(), image.White, image.Point{}, draw.Src)
	draw.Draw(deep, src.Bounds().Add(image.Pt(100, 50)), src, src.Bounds().Min, draw.Src)
	got, err := qrcode.DecodeImage(deep)
	if err != nil || len(got) != 1 || got[0] != text {
		t.Fatalf("16-bit capture: %q, %v", got, err)
	}
}

func TestDecodeImageDamaged(t *testing.T) {
	text := "otpauth://totp/Damaged:dave?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=Damaged"
	src := encodeImage(t, text, 330)
	img := canvas(600, 500, map[image.Point]image.Image{{100, 80}: src})
	// Wipe a band through the data area, away from the three finder
	// patterns: the code is still located but cannot be corrected.
	draw.Draw(img, image.Rect(100+110, 80+60, 100+230, 80+300), image.White, image.Point{}, draw.Src)
	_, err := qrcode.DecodeImage(img)
	if !errors.Is(err, qrcode.ErrUnreadableCode) {
		t.Fatalf("damaged code: err = %v, want ErrUnreadableCode", err)
	}
	// Noise is not taken for a damaged code.
	for seed := range uint64(6) {
		noise := image.NewGray(image.Rect(0, 0, 400+int(seed)*100, 400))
		r := rand.New(rand.NewPCG(seed, 7))
		for i := range noise.Pix {
			noise.Pix[i] = byte(r.UintN(256))
		}
		if _, err := qrcode.DecodeImage(noise); !errors.Is(err, qrcode.ErrNoCode) {
			t.Errorf("noise %d: err = %v, want ErrNoCode", seed, err)
		}
	}
}

// BenchmarkDecodeScreen4K decodes a 3840×2160 screen capture holding one
// enrolment QR code, from memory as `sesame add --scan` does.
func BenchmarkDecodeScreen4K(b *testing.B) {
	text := "otpauth://totp/Screen:alice?secret=JBSWY3DPEHPK3PXP&issuer=Screen"
	shot := screen4K(b, text)
	b.ReportAllocs()
	for b.Loop() {
		texts, err := qrcode.DecodeImage(shot)
		if err != nil || len(texts) != 1 || texts[0] != text {
			b.Fatalf("DecodeImage = %q, %v", texts, err)
		}
	}
}
