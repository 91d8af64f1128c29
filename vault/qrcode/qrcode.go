// Package qrcode reads QR codes from image files (screenshots of enrolment
// pages, Google Authenticator export screens, photos) and writes QR PNGs for
// exports and pairing pages. It wraps gozxing and adds what real images need:
// several codes per image, inverted (light on dark) codes, large photos, and
// caps on the work a hostile file can cause.
package qrcode

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"math"
	"os"
	"slices"
	"unicode/utf8"

	"github.com/makiuchi-d/gozxing"
	multiqr "github.com/makiuchi-d/gozxing/multi/qrcode"
	zxqr "github.com/makiuchi-d/gozxing/qrcode"
	"github.com/makiuchi-d/gozxing/qrcode/decoder"
)

// Limits on what Decode reads. They are far above real screenshots and phone
// photos and stop a small file that declares a huge image from using
// gigabytes of memory.
const (
	MaxFileBytes = 32 << 20   // bytes read from the file
	MaxDimension = 16384      // pixels, width or height
	MaxPixels    = 40_000_000 // width × height (a 48 MP photo must be resized)
	// MaxDecodedBytes caps the memory the decoded pixels and their working
	// copies take, so a 16-bit-per-channel PNG gets a lower pixel limit.
	MaxDecodedBytes = 256 << 20
)

// Limits on what EncodePNG writes.
const (
	// MaxTextBytes is what a version 40 QR code holds in byte mode at error
	// correction M.
	MaxTextBytes = 2331
	// MaxSize is the largest image EncodePNG draws, in pixels per side.
	MaxSize = 4096
)

// Errors from Decode, DecodeFile and EncodePNG. DecodeFile wraps them with the
// file name; match them with errors.Is.
var (
	ErrNoCode           = errors.New("no QR code found in the image: use a sharper, uncropped screenshot")
	ErrUnsupportedImage = errors.New("not a PNG, JPEG or GIF image")
	ErrImageTooLarge    = errors.New("image is too large")
	ErrDamagedImage     = errors.New("the image file is damaged or cut short: save or export it again")
	ErrTextTooLong      = errors.New("text is too long for one QR code")
	// ErrUnreadableCode means a QR code was seen but could not be read: it
	// is damaged, blurred or drawn too small.
	ErrUnreadableCode = errors.New("a QR code was found but could not be read: it may be damaged or too small; zoom in on it and try again")
)

// DecodeFile reads the image file at path and returns the text of every QR
// code in it. Errors name the file.
func DecodeFile(path string) ([]string, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err // *PathError already names the file
	}
	defer f.Close()
	if fi, err := f.Stat(); err == nil && fi.Mode().IsRegular() && fi.Size() > MaxFileBytes {
		return nil, fmt.Errorf("%s: %w: the file is %d MiB, the limit is %d MiB: crop or resize it",
			path, ErrImageTooLarge, fi.Size()>>20, MaxFileBytes>>20)
	}
	texts, err := Decode(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return texts, nil
}

// Decode reads a PNG, JPEG or GIF image (the first frame of a GIF) and returns
// the text of every QR code in it, in reading order (top to bottom, left to
// right), without duplicates. It returns ErrNoCode when there is none.
func Decode(r io.Reader) ([]string, error) {
	data, err := io.ReadAll(io.LimitReader(r, MaxFileBytes+1))
	if err != nil {
		return nil, fmt.Errorf("read image: %w", err)
	}
	if len(data) > MaxFileBytes {
		return nil, fmt.Errorf("%w: the file is over %d MiB: crop or resize it", ErrImageTooLarge, MaxFileBytes>>20)
	}
	img, err := decodeImage(data)
	if err != nil {
		return nil, err
	}
	return decodeCodes(luminance(img))
}

// DecodeImage returns the text of every QR code in an image already in
// memory, such as a screen capture, in reading order. It applies the same
// limits on size and memory as Decode, so a huge or odd-depth capture is
// refused rather than exhausting memory. It returns ErrNoCode when there is
// no code, ErrUnreadableCode when a code was seen but could not be read.
func DecodeImage(img image.Image) ([]string, error) {
	b := img.Bounds()
	if err := checkSize(b.Dx(), b.Dy()); err != nil {
		return nil, err
	}
	// The luminance copy and its scaled copies; the image itself is the
	// caller's.
	if need := int64(b.Dx()) * int64(b.Dy()) * 2; need > MaxDecodedBytes {
		return nil, fmt.Errorf("%w: %d×%d pixels need %d MiB, the limit is %d MiB: crop or resize it",
			ErrImageTooLarge, b.Dx(), b.Dy(), need>>20, MaxDecodedBytes>>20)
	}
	return decodeCodes(luminance(img))
}

type format struct {
	decodeConfig func(io.Reader) (image.Config, error)
	decode       func(io.Reader) (image.Image, error)
}

// sniff picks the decoder from the file's magic bytes. The formats are chosen
// here, not through image.Decode, so that another package registering more
// formats does not widen what Sesame accepts.
func sniff(data []byte) (format, bool) {
	switch {
	case bytes.HasPrefix(data, []byte("\x89PNG\r\n\x1a\n")):
		return format{png.DecodeConfig, png.Decode}, true
	case bytes.HasPrefix(data, []byte("\xff\xd8")):
		return format{jpeg.DecodeConfig, jpeg.Decode}, true
	case bytes.HasPrefix(data, []byte("GIF87a")), bytes.HasPrefix(data, []byte("GIF89a")):
		return format{gif.DecodeConfig, gif.Decode}, true
	}
	return format{}, false
}

// ReadImage decodes a PNG, JPEG or GIF image, such as a screenshot a
// platform tool wrote or the clipboard held, with the same limits on size
// and memory as Decode: a huge or odd-depth image is refused before its
// pixels are decoded.
func ReadImage(data []byte) (image.Image, error) {
	if len(data) > MaxFileBytes {
		return nil, fmt.Errorf("%w: the image is over %d MiB", ErrImageTooLarge, MaxFileBytes>>20)
	}
	return decodeImage(data)
}

// decodeImage checks the declared size before decoding the pixels.
func decodeImage(data []byte) (image.Image, error) {
	f, ok := sniff(data)
	if !ok {
		return nil, ErrUnsupportedImage
	}
	cfg, err := f.decodeConfig(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%w (%v)", ErrDamagedImage, err)
	}
	if err := checkSize(cfg.Width, cfg.Height); err != nil {
		return nil, err
	}
	// Decoded pixels, plus the luminance copy and its scaled copies.
	bpp := bytesPerPixel(cfg.ColorModel)
	if need := int64(cfg.Width) * int64(cfg.Height) * int64(bpp+2); need > MaxDecodedBytes {
		return nil, fmt.Errorf("%w: %d×%d pixels at %d bytes each need %d MiB, the limit is %d MiB: crop or resize it",
			ErrImageTooLarge, cfg.Width, cfg.Height, bpp, need>>20, MaxDecodedBytes>>20)
	}
	img, err := f.decode(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("%w (%v)", ErrDamagedImage, err)
	}
	// The pixels must match what the header promised.
	if b := img.Bounds(); checkSize(b.Dx(), b.Dy()) != nil {
		return nil, checkSize(b.Dx(), b.Dy())
	}
	return img, nil
}

func checkSize(w, h int) error {
	switch {
	case w <= 0 || h <= 0:
		return fmt.Errorf("%w (the image is %d×%d pixels)", ErrDamagedImage, w, h)
	case w > MaxDimension || h > MaxDimension || int64(w)*int64(h) > MaxPixels:
		return fmt.Errorf("%w: %d×%d pixels, the limit is %d pixels per side and %d megapixels: crop or resize it",
			ErrImageTooLarge, w, h, MaxDimension, MaxPixels/1_000_000)
	}
	return nil
}

// bytesPerPixel is how much memory the standard decoders use per pixel for
// a colour model (YCbCr counted at 4:4:4, its worst case).
func bytesPerPixel(m color.Model) int {
	switch m {
	case color.GrayModel:
		return 1
	case color.Gray16Model:
		return 2
	case color.YCbCrModel:
		return 3
	case color.RGBAModel, color.NRGBAModel, color.CMYKModel:
		return 4
	}
	if _, ok := m.(color.Palette); ok {
		return 1
	}
	return 8 // RGBA64, NRGBA64 and anything unknown
}

// gray is an 8-bit luminance image, the form gozxing works on.
type gray struct {
	pix  []byte
	w, h int
}

// luminance converts img to 8-bit luminance, compositing transparency over
// white as QR scanners do. Common decoder outputs take fast paths.
func luminance(img image.Image) gray {
	b := img.Bounds()
	w, h := b.Dx(), b.Dy()
	g := gray{pix: make([]byte, w*h), w: w, h: h}
	switch m := img.(type) {
	case *image.YCbCr:
		for y := range h {
			i := m.YOffset(b.Min.X, b.Min.Y+y)
			copy(g.pix[y*w:(y+1)*w], m.Y[i:i+w])
		}
	case *image.Gray:
		for y := range h {
			i := m.PixOffset(b.Min.X, b.Min.Y+y)
			copy(g.pix[y*w:(y+1)*w], m.Pix[i:i+w])
		}
	case *image.NRGBA:
		for y := range h {
			row := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			for x := range w {
				p := row[4*x : 4*x+4]
				l := (uint32(p[0]) + 2*uint32(p[1]) + uint32(p[2])) / 4
				a := uint32(p[3])
				g.pix[y*w+x] = byte((l*a + 255*(255-a)) / 255)
			}
		}
	case *image.RGBA:
		for y := range h {
			row := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			for x := range w {
				p := row[4*x : 4*x+4] // premultiplied
				l := (uint32(p[0]) + 2*uint32(p[1]) + uint32(p[2])) / 4
				g.pix[y*w+x] = byte(min(l+255-uint32(p[3]), 255))
			}
		}
	case *image.Paletted:
		lum := make([]byte, 256)
		for i, c := range m.Palette {
			lum[i] = lumOf(c)
		}
		for i := len(m.Palette); i < 256; i++ {
			lum[i] = 255 // out-of-palette index: treat as background
		}
		for y := range h {
			row := m.Pix[m.PixOffset(b.Min.X, b.Min.Y+y):]
			for x := range w {
				g.pix[y*w+x] = lum[row[x]]
			}
		}
	default:
		for y := range h {
			for x := range w {
				g.pix[y*w+x] = lumOf(img.At(b.Min.X+x, b.Min.Y+y))
			}
		}
	}
	return g
}

func lumOf(c color.Color) byte {
	r, gr, b, a := c.RGBA() // premultiplied, 16-bit
	l := (r + 2*gr + b) / 4
	return byte(min((l+0xffff-a)>>8, 255))
}

// half returns g scaled down by two with a 2×2 box filter.
func (g gray) half() gray {
	w, h := g.w/2, g.h/2
	out := gray{pix: make([]byte, w*h), w: w, h: h}
	for y := range h {
		r0 := g.pix[2*y*g.w:]
		r1 := g.pix[(2*y+1)*g.w:]
		for x := range w {
			s := uint(r0[2*x]) + uint(r0[2*x+1]) + uint(r1[2*x]) + uint(r1[2*x+1])
			out.pix[y*w+x] = byte((s + 2) / 4)
		}
	}
	return out
}

func (g gray) inverted() gray {
	out := gray{pix: make([]byte, len(g.pix)), w: g.w, h: g.h}
	for i, v := range g.pix {
		out.pix[i] = 255 - v
	}
	return out
}

// Scales tried: images are scaled down by halves until the longer side is
// below minSide. Sizes up to workSide are tried first, largest first: at that
// size a QR code in a screenshot or photo is still sharp, and decoding is fast.
const (
	minSide  = 160
	workSide = 2048
)

// variants lists the scaled copies of g in the order they are tried.
func variants(g gray) []gray {
	all := []gray{g}
	for last := g; max(last.w, last.h)/2 >= minSide; {
		last = last.half()
		all = append(all, last)
	}
	var small, large []gray
	for _, v := range all {
		if max(v.w, v.h) <= workSide {
			small = append(small, v)
		} else {
			large = append(large, v)
		}
	}
	slices.Reverse(large) // the big originals last, smallest of them first
	return append(small, large...)
}

// decodeCodes tries each scaled copy, dark-on-light and then inverted, and
// returns the codes of the first attempt that finds any.
func decodeCodes(g gray) ([]string, error) {
	// A code is reported unreadable only when located at two scales or
	// more: noise can look like one code once, not at several sizes.
	seen := 0
	for _, v := range variants(g) {
		unreadableHere := false
		for _, src := range []gray{v, v.inverted()} {
			texts, unreadable := decodeOnce(src)
			if len(texts) > 0 {
				return texts, nil
			}
			unreadableHere = unreadableHere || unreadable
		}
		if unreadableHere {
			seen++
		}
	}
	if seen >= 2 {
		return nil, ErrUnreadableCode
	}
	return nil, ErrNoCode
}

type found struct {
	text   string
	cx, cy float64
	size   float64
}

// decodeOnce is scan, where a panic inside gozxing on a crafted image counts
// as "nothing found" rather than crashing the program. FuzzScan fuzzes scan
// itself, so that such panics are seen.
func decodeOnce(g gray) (texts []string, unreadable bool) {
	defer func() {
		if recover() != nil {
			texts, unreadable = nil, false
		}
	}()
	return scan(g)
}

// scan runs gozxing's multi-code reader, then its single-code reader with
// two binarizers. unreadable reports that the single-code reader located a
// code and read its format, but its error correction failed: a damaged or
// blurred code. (A format that cannot be read is not counted: noise and
// photos give that too.)
func scan(g gray) (texts []string, unreadable bool) {
	src, err := gozxing.NewPlanarYUVLuminanceSource(g.pix, g.w, g.h, 0, 0, g.w, g.h, false)
	if err != nil {
		return nil, false
	}
	hints := map[gozxing.DecodeHintType]any{gozxing.DecodeHintType_TRY_HARDER: true}

	var codes []found
	if bmp, err := gozxing.NewBinaryBitmap(gozxing.NewHybridBinarizer(src)); err == nil {
		results, _ := multiqr.NewQRCodeMultiReader().DecodeMultiple(bmp, hints)
		for _, r := range results {
			codes = append(codes, newFound(r))
		}
	}
	if len(codes) == 0 {
		for _, binarizer := range []func(gozxing.LuminanceSource) gozxing.Binarizer{
			gozxing.NewHybridBinarizer, gozxing.NewGlobalHistgramBinarizer,
		} {
			bmp, err := gozxing.NewBinaryBitmap(binarizer(src))
			if err != nil {
				continue
			}
			r, err := zxqr.NewQRCodeReader().Decode(bmp, hints)
			if err == nil {
				codes = append(codes, newFound(r))
				break
			}
			switch err.(type) {
			case gozxing.ChecksumException:
				unreadable = true
			}
		}
	}
	return readingOrder(codes), unreadable
}

func newFound(r *gozxing.Result) found {
	f := found{text: r.GetText()}
	pts := r.GetResultPoints()
	if len(pts) == 0 {
		return f
	}
	minX, minY, maxX, maxY := math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, p := range pts {
		f.cx += p.GetX() / float64(len(pts))
		f.cy += p.GetY() / float64(len(pts))
		minX, maxX = min(minX, p.GetX()), max(maxX, p.GetX())
		minY, maxY = min(minY, p.GetY()), max(maxY, p.GetY())
	}
	f.size = max(maxX-minX, maxY-minY)
	return f
}

// readingOrder sorts codes into rows (centres less than half a code apart
// vertically share a row), each row left to right, and drops duplicates.
func readingOrder(codes []found) []string {
	slices.SortStableFunc(codes, func(a, b found) int {
		band := max(min(a.size, b.size)/2, 1)
		if math.Abs(a.cy-b.cy) >= band {
			return cmpFloat(a.cy, b.cy)
		}
		return cmpFloat(a.cx, b.cx)
	})
	var texts []string
	for _, c := range codes {
		if !slices.Contains(texts, c.text) {
			texts = append(texts, c.text)
		}
	}
	return texts
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// EncodePNG draws text as a QR code (error correction M, 4-module quiet
// zone) in a black-on-white PNG of size×size pixels. The code is scaled by
// the largest whole number of pixels per module that fits; when size is too
// small for one pixel per module the image is as small as the code allows.
// Text that is not ASCII is marked as UTF-8 (ECI) so scanners read it right.
func EncodePNG(text string, size int) ([]byte, error) {
	switch {
	case text == "":
		return nil, errors.New("nothing to encode: the text is empty")
	case len(text) > MaxTextBytes:
		return nil, fmt.Errorf("%w: %d bytes, a QR code holds at most %d: split it", ErrTextTooLong, len(text), MaxTextBytes)
	case size < 0 || size > MaxSize:
		return nil, fmt.Errorf("QR image size %d is out of range: use 0 to %d pixels", size, MaxSize)
	case !utf8.ValidString(text):
		return nil, errors.New("text is not valid UTF-8")
	}
	hints := map[gozxing.EncodeHintType]any{
		gozxing.EncodeHintType_ERROR_CORRECTION: decoder.ErrorCorrectionLevel_M,
		gozxing.EncodeHintType_MARGIN:           4,
	}
	if !isASCII(text) {
		hints[gozxing.EncodeHintType_CHARACTER_SET] = "UTF-8"
	}
	m, err := zxqr.NewQRCodeWriter().Encode(text, gozxing.BarcodeFormat_QR_CODE, size, size, hints)
	if err != nil {
		// The only input-dependent failure left is capacity (UTF-8 and
		// ECI overhead can push text under MaxTextBytes over the limit).
		return nil, fmt.Errorf("%w: %v", ErrTextTooLong, err)
	}
	w, h := m.GetWidth(), m.GetHeight()
	img := image.NewPaletted(image.Rect(0, 0, w, h), color.Palette{color.White, color.Black})
	for y := range h {
		row := img.Pix[y*img.Stride:]
		for x := range w {
			if m.Get(x, y) {
				row[x] = 1
			}
		}
	}
	var buf bytes.Buffer
	enc := png.Encoder{CompressionLevel: png.BestCompression}
	if err := enc.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("encode QR PNG: %w", err)
	}
	return buf.Bytes(), nil
}

func isASCII(s string) bool {
	for i := range len(s) {
		if s[i] >= utf8.RuneSelf {
			return false
		}
	}
	return true
}
