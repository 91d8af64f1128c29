package tuitest

import (
	"bytes"
	"image"
	"image/draw"
	"image/png"
	"testing"

	"github.com/sesame-auth/sesame/vault/qrcode"
)

// QRScreen is a screen capture for tests: a white image showing the QR
// codes of texts side by side, each 330 pixels wide.
func QRScreen(t testing.TB, texts ...string) image.Image {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, 400*len(texts)+100, 480))
	draw.Draw(img, img.Bounds(), image.White, image.Point{}, draw.Src)
	for i, text := range texts {
		p, err := qrcode.EncodePNG(text, 330)
		if err != nil {
			t.Fatal(err)
		}
		q, err := png.Decode(bytes.NewReader(p))
		if err != nil {
			t.Fatal(err)
		}
		draw.Draw(img, q.Bounds().Add(image.Pt(50+400*i, 70)), q, image.Point{}, draw.Src)
	}
	return img
}
