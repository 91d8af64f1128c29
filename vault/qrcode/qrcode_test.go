package qrcode_test

import (
	"bufio"
	"bytes"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"hash/crc32"
	"image"
	"image/color"
	"image/draw"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/sesame-auth/sesame/vault/vaulttest"

	"github.com/sesame-auth/sesame/vault/qrcode"
)

// migrationURI builds an otpauth-migration URI whose payload is n
// pseudo-random bytes, the shape of a Google Authenticator export QR.
func migrationURI(n int, seed uint64) string {
	r := rand.New(rand.NewPCG(seed, 1))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.UintN(256))
	}
	return "otpauth-migration://offline?data=" + url.QueryEscape(base64.StdEncoding.EncodeToString(b))
}

func encode(t testing.TB, text string, size int) []byte {
	t.Helper()
	p, err := qrcode.EncodePNG(text, size)
	if err != nil {
		t.Fatalf("EncodePNG(%d bytes, %d): %v", len(text), size, err)
	}
	return p
}

func encodeImage(t testing.TB, text string, size int) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(encode(t, text, size)))
	if err != nil {
		t.Fatalf("EncodePNG wrote an unreadable PNG: %v", err)
	}
	return img
}

func decodeBytes(t testing.TB, data []byte) []string {
	t.Helper()
	texts, err := qrcode.Decode(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("Decode: %v", err)
	}
	return texts
}

func wantTexts(t *testing.T, got []string, want ...string) {
	t.Helper()
	if !slices.Equal(got, want) {
		t.Errorf("decoded %d codes %.200q, want %d: %.200q", len(got), got, len(want), want)
	}
}

func TestRoundTrip(t *testing.T) {
	texts := map[string]string{
		"one byte":         "a",
		"numeric":          "0123456789012345",
		"alphanumeric":     "HELLO WORLD $%*+-./:",
		"otpauth":          "otpauth://totp/Example:alice@google.com?issuer=Example&period=30&secret=JBSWY3DPEHPK3PXP",
		"utf-8":            "otpauth://totp/¿äÄéÉ? (demo):名前?secret=JBSWY3DPEHPK3PXP",
		"pairing":          "https://sesame.example/pair#k=" + strings.Repeat("x", 64),
		"migration 1 KB":   migrationURI(740, 1),
		"migration 1.5 KB": migrationURI(1100, 2),
		"migration 2 KB":   migrationURI(1500, 3),
		"max bytes":        strings.Repeat("z", qrcode.MaxTextBytes),
	}
	for name, text := range texts {
		t.Run(name, func(t *testing.T) {
			if name == "migration 2 KB" && (len(text) < 1900 || len(text) > qrcode.MaxTextBytes) {
				t.Fatalf("test setup: %d bytes", len(text))
			}
			for _, size := range []int{0, 600} {
				p := encode(t, text, size)
				wantTexts(t, decodeBytes(t, p), text)
			}
		})
	}
}

func TestEncodePNGShape(t *testing.T) {
	const text = "otpauth://totp/Example:alice?secret=JBSWY3DPEHPK3PXP"
	small := encodeImage(t, text, 0)
	n := small.Bounds().Dx()
	// A version-N code is 17+4N modules, plus a 4-module quiet zone each side.
	if n != small.Bounds().Dy() || (n-8-17)%4 != 0 {
		t.Fatalf("minimal image is %v, want a square of 17+4N+8 modules", small.Bounds())
	}
	for x := range 4 {
		for y := range n {
			if !isWhite(small.At(x, y)) || !isWhite(small.At(n-1-x, y)) || !isWhite(small.At(y, x)) || !isWhite(small.At(y, n-1-x)) {
				t.Fatalf("quiet zone pixel (%d,%d) is not white", x, y)
			}
		}
	}
	if isWhite(small.At(4, 4)) {
		t.Error("the finder pattern's corner module is not black")
	}
	if p, ok := small.(*image.Paletted); !ok || len(p.Palette) != 2 {
		t.Errorf("image is %T, want a two-colour paletted PNG", small)
	}
	big := encodeImage(t, text, 512)
	if big.Bounds() != image.Rect(0, 0, 512, 512) {
		t.Errorf("EncodePNG(..., 512) is %v, want 512×512", big.Bounds())
	}
	// Too small for the code: the smallest image the code allows.
	if tiny := encodeImage(t, text, 10); tiny.Bounds() != small.Bounds() {
		t.Errorf("EncodePNG(..., 10) is %v, want the minimal %v", tiny.Bounds(), small.Bounds())
	}
}

func isWhite(c color.Color) bool {
	r, g, b, _ := c.RGBA()
	return r > 0xf000 && g > 0xf000 && b > 0xf000
}

func TestEncodePNGErrors(t *testing.T) {
	for _, tc := range []struct {
		text string
		size int
		is   error
		msg  string
	}{
		{"", 100, nil, "empty"},
		{strings.Repeat("z", qrcode.MaxTextBytes+1), 100, qrcode.ErrTextTooLong, "at most"},
		{strings.Repeat("é", qrcode.MaxTextBytes/2), 100, qrcode.ErrTextTooLong, "too long"},
		{"x", -1, nil, "out of range"},
		{"x", qrcode.MaxSize + 1, nil, "out of range"},
		{"a\xffb", 100, nil, "UTF-8"},
	} {
		p, err := qrcode.EncodePNG(tc.text, tc.size)
		if err == nil {
			// A UTF-8 text near the byte limit may still fit; then it must read back.
			if tc.is == qrcode.ErrTextTooLong && strings.HasPrefix(tc.text, "é") {
				wantTexts(t, decodeBytes(t, p), tc.text)
				continue
			}
			t.Errorf("EncodePNG(%.20q, %d) succeeded, want an error", tc.text, tc.size)
			continue
		}
		if tc.is != nil && !errors.Is(err, tc.is) || !strings.Contains(err.Error(), tc.msg) {
			t.Errorf("EncodePNG(%.20q, %d) = %v, want %v saying %q", tc.text, tc.size, err, tc.is, tc.msg)
		}
	}
}

// --- real images --------------------------------------------------------------

func TestDecodeRealImages(t *testing.T) {
	t.Run("Google Authenticator export screen", func(t *testing.T) {
		texts, err := qrcode.DecodeFile(vaulttest.Fixture(t, "google_authenticator", "scito_example_export.png"))
		if err != nil {
			t.Fatal(err)
		}
		raw, err := os.ReadFile(vaulttest.Fixture(t, "google_authenticator", "expected_decoded.json"))
		if err != nil {
			t.Fatal(err)
		}
		var doc map[string][]struct {
			URI string `json:"uri"`
		}
		if err := json.Unmarshal(raw, &doc); err != nil {
			t.Fatal(err)
		}
		want := doc["scito_example_export.png (QR content)"]
		if len(want) != 1 || !strings.HasPrefix(want[0].URI, "otpauth-migration://offline?data=") {
			t.Fatalf("expected_decoded.json has no migration URI for the PNG: %+v", want)
		}
		wantTexts(t, texts, want[0].URI)
	})
	t.Run("QR without OTP", func(t *testing.T) {
		texts, err := qrcode.DecodeFile(vaulttest.Fixture(t, "google_authenticator", "scito_qr_but_without_otp.png"))
		if err != nil {
			t.Fatal(err)
		}
		wantTexts(t, texts, "NOT A otpauth-migration:// URL")
	})
	t.Run("dim13 example", func(t *testing.T) {
		texts, err := qrcode.DecodeFile(vaulttest.Fixture(t, "otpauth_uri_list", "dim13_example_otpauth_qr.png"))
		if err != nil {
			t.Fatal(err)
		}
		wantTexts(t, texts, "otpauth://totp/Example:alice@google.com?issuer=Example&period=30&secret=JBSWY3DPEHPK3PXP")
	})
	t.Run("Google Authenticator batch of 3", func(t *testing.T) {
		want := batchURIs(t, vaulttest.Fixture(t, "google_authenticator", "johncallahan_migration_samples.txt"))
		for i := 1; i <= 3; i++ {
			texts, err := qrcode.DecodeFile(vaulttest.Fixture(t, "synthesized", "ga_batch_"+string(rune('0'+i))+"_of_3_qr.png"))
			if err != nil {
				t.Fatal(err)
			}
			wantTexts(t, texts, want[i-1])
		}
	})
}

// batchURIs returns the percent-encoded URIs of the 3-part batch, in order:
// the URI line after each "[string_N_of_3_urlencoded]" comment.
func batchURIs(t *testing.T, path string) []string {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	uris := make([]string, 3)
	next := -1
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		for i := range 3 {
			if strings.Contains(line, "[string_"+string(rune('1'+i))+"_of_3_urlencoded]") {
				next = i
			}
		}
		if next >= 0 && strings.HasPrefix(line, "otpauth-migration://") {
			uris[next], next = line, -1
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	for i, u := range uris {
		if u == "" {
			t.Fatalf("%s: no URI for batch part %d", path, i+1)
		}
	}
	return uris
}

// --- other formats and layouts ------------------------------------------------

func TestDecodeJPEG(t *testing.T) {
	text := migrationURI(300, 4)
	img := encodeImage(t, text, 500)
	for _, q := range []int{90, 40} {
		var buf bytes.Buffer
		if err := jpeg.Encode(&buf, img, &jpeg.Options{Quality: q}); err != nil {
			t.Fatal(err)
		}
		wantTexts(t, decodeBytes(t, buf.Bytes()), text)
	}
}

func TestDecodeGIF(t *testing.T) {
	text := "otpauth://totp/GIF:alice?secret=JBSWY3DPEHPK3PXP"
	img := encodeImage(t, text, 300)
	var buf bytes.Buffer
	if err := gif.Encode(&buf, img, nil); err != nil {
		t.Fatal(err)
	}
	wantTexts(t, decodeBytes(t, buf.Bytes()), text)
}

// canvas draws QR images onto a grey-white background at the given points.
func canvas(w, h int, parts map[image.Point]image.Image) *image.RGBA {
	c := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.Draw(c, c.Bounds(), image.NewUniform(color.RGBA{245, 245, 245, 255}), image.Point{}, draw.Src)
	for at, img := range parts {
		draw.Draw(c, img.Bounds().Add(at), img, img.Bounds().Min, draw.Src)
	}
	return c
}

func pngBytes(t testing.TB, img image.Image) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestSpeed}
	if err := enc.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

func TestDecodeSeveralCodes(t *testing.T) {
	left, right := "otpauth://totp/Left:alice?secret=JBSWY3DPEHPK3PXP", "otpauth://totp/Right:bob?secret=KRSXG5CTMVRXEZLU"
	img := canvas(900, 420, map[image.Point]image.Image{
		{20, 40}:  encodeImage(t, left, 360),
		{480, 20}: encodeImage(t, right, 360),
	})
	wantTexts(t, decodeBytes(t, pngBytes(t, img)), left, right)

	top, bottom := migrationURI(200, 5), migrationURI(200, 6)
	img = canvas(500, 1000, map[image.Point]image.Image{
		{60, 520}: encodeImage(t, bottom, 420),
		{20, 30}:  encodeImage(t, top, 420),
	})
	wantTexts(t, decodeBytes(t, pngBytes(t, img)), top, bottom)

	// The same code twice is reported once.
	same := encodeImage(t, left, 300)
	img = canvas(700, 340, map[image.Point]image.Image{{10, 20}: same, {370, 20}: same})
	wantTexts(t, decodeBytes(t, pngBytes(t, img)), left)
}

func TestDecodeInverted(t *testing.T) {
	text := "otpauth://totp/Dark:mode?secret=JBSWY3DPEHPK3PXP"
	src := encodeImage(t, text, 400)
	inv := image.NewGray(src.Bounds())
	for y := range src.Bounds().Dy() {
		for x := range src.Bounds().Dx() {
			if isWhite(src.At(x, y)) {
				inv.SetGray(x, y, color.Gray{20})
			} else {
				inv.SetGray(x, y, color.Gray{235})
			}
		}
	}
	wantTexts(t, decodeBytes(t, pngBytes(t, inv)), text)
}

func TestDecodeTransparentBackground(t *testing.T) {
	text := "otpauth://totp/Clear:bg?secret=JBSWY3DPEHPK3PXP"
	src := encodeImage(t, text, 300)
	img := image.NewNRGBA(src.Bounds())
	for y := range src.Bounds().Dy() {
		for x := range src.Bounds().Dx() {
			if !isWhite(src.At(x, y)) {
				img.Set(x, y, color.NRGBA{0, 0, 0, 255})
			} // else fully transparent black: must read as white
		}
	}
	wantTexts(t, decodeBytes(t, pngBytes(t, img)), text)
}

// A phone photo: a big image with the code taking a fraction of it, slightly
// grey and JPEG-compressed. It is decoded from a scaled-down copy.
func TestDecodeLargePhoto(t *testing.T) {
	if testing.Short() {
		t.Skip("builds an 8 MP image")
	}
	text := migrationURI(400, 7)
	qr := encodeImage(t, text, 1200)
	photo := image.NewGray(image.Rect(0, 0, 3200, 2400))
	r := rand.New(rand.NewPCG(8, 9))
	for i := range photo.Pix {
		photo.Pix[i] = byte(150 + r.IntN(40))
	}
	off := image.Pt(1100, 500)
	for y := range 1200 {
		for x := range 1200 {
			v := byte(215 + r.IntN(20))
			if !isWhite(qr.At(x, y)) {
				v = byte(30 + r.IntN(30))
			}
			photo.SetGray(off.X+x, off.Y+y, color.Gray{v})
		}
	}
	var buf bytes.Buffer
	if err := jpeg.Encode(&buf, photo, &jpeg.Options{Quality: 75}); err != nil {
		t.Fatal(err)
	}
	wantTexts(t, decodeBytes(t, buf.Bytes()), text)
}

// Sensor noise strong enough that single pixels land on the wrong side of
// any threshold (dark modules 0-179, light ones 76-255): gozxing fails on the
// full-size image, and the box-filtered half- and quarter-size copies read.
func TestDecodeNoisyImage(t *testing.T) {
	text := migrationURI(300, 11)
	qr := encodeImage(t, text, 1400)
	img := image.NewGray(qr.Bounds())
	r := rand.New(rand.NewPCG(3, 4))
	for y := range img.Rect.Dy() {
		for x := range img.Rect.Dx() {
			v := 255 - r.IntN(180)
			if !isWhite(qr.At(x, y)) {
				v = r.IntN(180)
			}
			img.SetGray(x, y, color.Gray{byte(v)})
		}
	}
	wantTexts(t, decodeBytes(t, pngBytes(t, img)), text)
}

// --- failures -----------------------------------------------------------------

func TestDecodeNoCode(t *testing.T) {
	blank := image.NewGray(image.Rect(0, 0, 640, 480))
	for i := range blank.Pix {
		blank.Pix[i] = 255
	}
	noise := image.NewGray(image.Rect(0, 0, 300, 300))
	r := rand.New(rand.NewPCG(1, 2))
	for i := range noise.Pix {
		noise.Pix[i] = byte(r.UintN(256))
	}
	for name, img := range map[string]image.Image{"blank": blank, "noise": noise} {
		_, err := qrcode.Decode(bytes.NewReader(pngBytes(t, img)))
		if !errors.Is(err, qrcode.ErrNoCode) {
			t.Errorf("%s image: %v, want ErrNoCode", name, err)
		}
	}
	// The damaged-beyond-repair case: a third of the code painted over.
	src := encodeImage(t, "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP", 300)
	half := canvas(300, 300, map[image.Point]image.Image{{}: src})
	draw.Draw(half, image.Rect(0, 0, 300, 110), image.White, image.Point{}, draw.Src)
	if _, err := qrcode.Decode(bytes.NewReader(pngBytes(t, half))); !errors.Is(err, qrcode.ErrNoCode) {
		t.Errorf("painted-over code: %v, want ErrNoCode", err)
	}
}

func TestDecodeBadFiles(t *testing.T) {
	good := encode(t, "otpauth://totp/x?secret=JBSWY3DPEHPK3PXP", 200)
	var gifBuf, jpegBuf bytes.Buffer
	img := encodeImage(t, "x", 100)
	if err := gif.Encode(&gifBuf, img, nil); err != nil {
		t.Fatal(err)
	}
	if err := jpeg.Encode(&jpegBuf, img, nil); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		data []byte
		is   error
	}{
		{"empty", nil, qrcode.ErrUnsupportedImage},
		{"text file", []byte("otpauth://totp/x?secret=JBSWY3DPEHPK3PXP\n"), qrcode.ErrUnsupportedImage},
		{"BMP", append([]byte("BM"), make([]byte, 60)...), qrcode.ErrUnsupportedImage},
		{"WebP", []byte("RIFF\x24\x00\x00\x00WEBPVP8 "), qrcode.ErrUnsupportedImage},
		{"PNG signature only", good[:8], qrcode.ErrDamagedImage},
		{"PNG cut in the header", good[:20], qrcode.ErrDamagedImage},
		{"PNG cut in the pixels", good[:len(good)*2/3], qrcode.ErrDamagedImage},
		{"PNG without IEND", good[:len(good)-12], qrcode.ErrDamagedImage},
		{"GIF cut short", gifBuf.Bytes()[:gifBuf.Len()/2], qrcode.ErrDamagedImage},
		{"JPEG cut short", jpegBuf.Bytes()[:jpegBuf.Len()/2], qrcode.ErrDamagedImage},
		{"PNG 0×0", pngHeader(0, 0), qrcode.ErrDamagedImage},
		{"PNG 100000×100000", pngHeader(100000, 100000), qrcode.ErrImageTooLarge},
		{"PNG 20000×10", pngHeader(20000, 10), qrcode.ErrImageTooLarge},
		{"PNG 8000×6000", pngHeader(8000, 6000), qrcode.ErrImageTooLarge},
		{"GIF 20000×20000", patchGIFSize(t, gifBuf.Bytes(), 20000, 20000), qrcode.ErrImageTooLarge},
		{"JPEG 65000×65000", patchJPEGSize(t, jpegBuf.Bytes(), 65000, 65000), qrcode.ErrImageTooLarge},
		{"16-bit RGBA PNG 7000×5000", pngHeaderDepth(7000, 5000, 16, 6), qrcode.ErrImageTooLarge},
		{"8-bit grey PNG 7000×5000", pngHeaderDepth(7000, 5000, 8, 0), qrcode.ErrDamagedImage}, // allowed, then no pixel data
	} {
		t.Run(tc.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			texts, err := qrcode.Decode(bytes.NewReader(tc.data))
			runtime.ReadMemStats(&after)
			if !errors.Is(err, tc.is) {
				t.Fatalf("Decode = %q, %v; want %v", texts, err, tc.is)
			}
			if msg := err.Error(); msg != strings.ToLower(msg[:1])+msg[1:] || strings.HasSuffix(msg, ".") {
				t.Errorf("error %q: want lower case, no trailing period", msg)
			}
			// A declared size is refused before any pixel memory is taken.
			if grew := after.TotalAlloc - before.TotalAlloc; tc.is == qrcode.ErrImageTooLarge && grew > 4<<20 {
				t.Errorf("refusing the image allocated %d MiB", grew>>20)
			}
		})
	}
}

// pngHeader is a PNG signature, an IHDR for a w×h 8-bit grey image and an empty IDAT.
func pngHeader(w, h uint32) []byte { return pngHeaderDepth(w, h, 8, 0) }

// pngHeaderDepth is pngHeader with a bit depth and colour type (0 grey, 6 RGBA).
func pngHeaderDepth(w, h uint32, depth, colorType byte) []byte {
	var b bytes.Buffer
	b.WriteString("\x89PNG\r\n\x1a\n")
	chunk := func(typ string, data []byte) {
		binary.Write(&b, binary.BigEndian, uint32(len(data)))
		crc := crc32.NewIEEE()
		io.WriteString(crc, typ)
		crc.Write(data)
		b.WriteString(typ)
		b.Write(data)
		binary.Write(&b, binary.BigEndian, crc.Sum32())
	}
	ihdr := binary.BigEndian.AppendUint32(nil, w)
	ihdr = binary.BigEndian.AppendUint32(ihdr, h)
	ihdr = append(ihdr, depth, colorType, 0, 0, 0)
	chunk("IHDR", ihdr)
	chunk("IDAT", nil)
	chunk("IEND", nil)
	return b.Bytes()
}

func patchGIFSize(t *testing.T, g []byte, w, h uint16) []byte {
	t.Helper()
	out := bytes.Clone(g)
	binary.LittleEndian.PutUint16(out[6:], w) // logical screen descriptor
	binary.LittleEndian.PutUint16(out[8:], h)
	return out
}

func patchJPEGSize(t *testing.T, j []byte, w, h uint16) []byte {
	t.Helper()
	out := bytes.Clone(j)
	i := bytes.Index(out, []byte{0xff, 0xc0}) // SOF0: length(2) precision(1) height(2) width(2)
	if i < 0 {
		t.Fatal("no SOF0 marker in the test JPEG")
	}
	binary.BigEndian.PutUint16(out[i+5:], h)
	binary.BigEndian.PutUint16(out[i+7:], w)
	return out
}

func TestDecodeTooManyBytes(t *testing.T) {
	r := io.MultiReader(bytes.NewReader(pngHeader(10, 10)), io.LimitReader(zeros{}, qrcode.MaxFileBytes))
	if _, err := qrcode.Decode(r); !errors.Is(err, qrcode.ErrImageTooLarge) {
		t.Errorf("Decode of a %d MiB stream = %v, want ErrImageTooLarge", qrcode.MaxFileBytes>>20, err)
	}
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

func TestDecodeReadError(t *testing.T) {
	if _, err := qrcode.Decode(failingReader{}); err == nil || !strings.Contains(err.Error(), "disk on fire") {
		t.Errorf("Decode = %v, want the read error", err)
	}
}

func TestDecodeFile(t *testing.T) {
	dir := t.TempDir()
	text := "otpauth://totp/File:alice?secret=JBSWY3DPEHPK3PXP"
	good := filepath.Join(dir, "code.png")
	if err := os.WriteFile(good, encode(t, text, 200), 0o600); err != nil {
		t.Fatal(err)
	}
	texts, err := qrcode.DecodeFile(good)
	if err != nil {
		t.Fatal(err)
	}
	wantTexts(t, texts, text)

	notes := filepath.Join(dir, "notes.txt")
	if err := os.WriteFile(notes, []byte("hello"), 0o600); err != nil {
		t.Fatal(err)
	}
	blankPath := filepath.Join(dir, "blank.png")
	blank := image.NewGray(image.Rect(0, 0, 50, 50))
	if err := os.WriteFile(blankPath, pngBytes(t, blank), 0o600); err != nil {
		t.Fatal(err)
	}
	huge := filepath.Join(dir, "huge.png")
	f, err := os.Create(huge)
	if err != nil {
		t.Fatal(err)
	}
	f.Write(pngHeader(10, 10))
	if err := f.Truncate(qrcode.MaxFileBytes + 1); err != nil { // sparse: no disk used
		t.Fatal(err)
	}
	f.Close()
	for path, want := range map[string]error{
		notes:                            qrcode.ErrUnsupportedImage,
		blankPath:                        qrcode.ErrNoCode,
		huge:                             qrcode.ErrImageTooLarge,
		filepath.Join(dir, "absent.png"): os.ErrNotExist,
	} {
		_, err := qrcode.DecodeFile(path)
		if !errors.Is(err, want) || !strings.Contains(err.Error(), path) {
			t.Errorf("DecodeFile(%s) = %v, want %v naming the file", filepath.Base(path), err, want)
		}
	}
	_, err = qrcode.DecodeFile(blankPath)
	if want := blankPath + ": no QR code found in the image: use a sharper, uncropped screenshot"; err == nil || err.Error() != want {
		t.Errorf("error = %q, want %q", err, want)
	}
}

// decodeSeeds are small QR code images in each format Decode reads, and
// headers alone.
func decodeSeeds(f testing.TB) [][]byte {
	small := encodeImage(f, "gif", 0)
	var g, j bytes.Buffer
	if err := gif.Encode(&g, small, nil); err != nil {
		f.Fatal(err)
	}
	if err := jpeg.Encode(&j, small, nil); err != nil {
		f.Fatal(err)
	}
	return [][]byte{encode(f, "a", 0), encode(f, "otpauth://totp/x?secret=AA", 0), g.Bytes(), j.Bytes(), pngHeader(3, 3), []byte("GIF89a")}
}

// TestSeedCorpora keeps the committed seed corpus of FuzzDecode (see
// vaulttest.SeedCorpus; rewrite it with -write-corpus).
func TestSeedCorpora(t *testing.T) {
	var seeds [][]any
	for _, s := range decodeSeeds(t) {
		seeds = append(seeds, []any{s})
	}
	vaulttest.SeedCorpus(t, "FuzzDecode", seeds...)
}

func FuzzDecode(f *testing.F) {
	for _, s := range decodeSeeds(f) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		texts, err := qrcode.Decode(bytes.NewReader(data))
		if err != nil {
			for _, known := range []error{qrcode.ErrNoCode, qrcode.ErrUnsupportedImage, qrcode.ErrDamagedImage, qrcode.ErrImageTooLarge} {
				if errors.Is(err, known) {
					return
				}
			}
			t.Fatalf("Decode error %v matches no sentinel", err)
		}
		if len(texts) == 0 {
			t.Fatal("Decode returned no texts and no error")
		}
	})
}

// BenchmarkDecodeScreenshot decodes a phone-screenshot-sized image (1170×2532)
// holding a Google Authenticator-sized export QR (a ~1 KB migration URI)
// among UI blocks.
func BenchmarkDecodeScreenshot(b *testing.B) {
	text := migrationURI(700, 10)
	shot := canvas(1170, 2532, map[image.Point]image.Image{{185, 900}: encodeImage(b, text, 800)})
	for i, y := range []int{120, 260, 400, 1900, 2100, 2300} {
		draw.Draw(shot, image.Rect(80, y, 1090-i*60, y+70), image.NewUniform(color.RGBA{60, 64, 67, 255}), image.Point{}, draw.Src)
	}
	data := pngBytes(b, shot)
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		texts, err := qrcode.Decode(bytes.NewReader(data))
		if err != nil || len(texts) != 1 || texts[0] != text {
			b.Fatalf("Decode = %d texts, %v", len(texts), err)
		}
	}
}
