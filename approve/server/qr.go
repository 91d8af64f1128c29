package server

import "github.com/sesame-auth/sesame/vault/qrcode"

// qrPNG renders text as a QR code PNG about size pixels wide, with a quiet
// zone, with the encoder every Sesame image of a QR code uses.
func qrPNG(text string, size int) ([]byte, error) {
	return qrcode.EncodePNG(text, size)
}
