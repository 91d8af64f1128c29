package screen

import (
	"context"
	"errors"
	"fmt"
	"image"
	"io"
	"strconv"
	"strings"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"

	"github.com/sesame-auth/sesame/vault/qrcode"
)

// X11 captures every root window of an X server through the core
// protocol's GetImage: no program, no file.
type X11 struct {
	Display string // as in $DISPLAY, ":0"
	// Window is the terminal's window id, as in $WINDOWID; empty means the
	// window that has the focus, if the window manager says.
	Window string
}

func (X11) String() string { return "X11" }

func init() {
	// xgb logs connection details (a missing ~/.Xauthority) to stderr;
	// Sesame reports the errors it returns instead.
	xgb.Logger.SetOutput(io.Discard)
}

// stripRows is how many rows each GetImage asks for, so that no reply is
// larger than a few megabytes whatever the screen.
const stripRows = 128

// connect opens a connection to the X server that ctx's end closes; done
// closes it.
func (x X11) connect(ctx context.Context) (conn *xgb.Conn, done func(), err error) {
	conn, err = xgb.NewConnDisplay(x.Display)
	if err != nil {
		return nil, nil, fmt.Errorf("connect to the X server %s: %w", x.Display, err)
	}
	stop := context.AfterFunc(ctx, conn.Close)
	return conn, func() { stop(); conn.Close() }, nil
}

// Capture returns one image per X screen.
func (x X11) Capture(ctx context.Context) ([]image.Image, error) {
	conn, done, err := x.connect(ctx)
	if err != nil {
		return nil, err
	}
	defer done()
	setup := xproto.Setup(conn)
	var out []image.Image
	for _, root := range setup.Roots {
		img, err := captureRoot(conn, setup, root)
		if ctx.Err() != nil {
			return nil, context.Cause(ctx)
		}
		if err != nil {
			return nil, err
		}
		out = append(out, img)
	}
	if len(out) == 0 {
		return nil, errors.New("the X server has no screen")
	}
	return out, nil
}

func captureRoot(conn *xgb.Conn, setup *xproto.SetupInfo, root xproto.ScreenInfo) (image.Image, error) {
	w, h := int(root.WidthInPixels), int(root.HeightInPixels)
	if w <= 0 || h <= 0 || w > qrcode.MaxDimension || h > qrcode.MaxDimension || w*h > qrcode.MaxPixels {
		return nil, fmt.Errorf("%w: the screen is %d×%d pixels", qrcode.ErrImageTooLarge, w, h)
	}
	bpp := 0
	for _, f := range setup.PixmapFormats {
		if f.Depth == root.RootDepth {
			bpp = int(f.BitsPerPixel)
		}
	}
	px, err := pixelReader(root.RootDepth, bpp, setup.ImageByteOrder == xproto.ImageOrderMSBFirst)
	if err != nil {
		return nil, err
	}
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for y := 0; y < h; y += stripRows {
		rows := min(stripRows, h-y)
		r, err := xproto.GetImage(conn, xproto.ImageFormatZPixmap, xproto.Drawable(root.Root),
			0, int16(y), uint16(w), uint16(rows), ^uint32(0)).Reply()
		if err != nil {
			return nil, fmt.Errorf("read the X screen: %w", err)
		}
		stride := (w*bpp + int(setup.BitmapFormatScanlinePad) - 1) / int(setup.BitmapFormatScanlinePad) * int(setup.BitmapFormatScanlinePad) / 8
		if len(r.Data) < stride*rows {
			return nil, fmt.Errorf("read the X screen: %d bytes for %d rows of %d", len(r.Data), rows, stride)
		}
		for j := range rows {
			src := r.Data[j*stride:]
			dst := img.Pix[(y+j)*img.Stride:]
			for i := range w {
				red, green, blue := px(src, i)
				dst[4*i], dst[4*i+1], dst[4*i+2], dst[4*i+3] = red, green, blue, 255
			}
		}
	}
	return img, nil
}

// pixelReader returns how to read pixel i of a ZPixmap row, for the depths
// X servers use for true-colour screens.
func pixelReader(depth byte, bpp int, msb bool) (func(row []byte, i int) (r, g, b byte), error) {
	switch {
	case (depth == 24 || depth == 32) && bpp == 32 && !msb:
		return func(row []byte, i int) (byte, byte, byte) { return row[4*i+2], row[4*i+1], row[4*i] }, nil
	case (depth == 24 || depth == 32) && bpp == 32 && msb:
		return func(row []byte, i int) (byte, byte, byte) { return row[4*i+1], row[4*i+2], row[4*i+3] }, nil
	case depth == 24 && bpp == 24 && !msb:
		return func(row []byte, i int) (byte, byte, byte) { return row[3*i+2], row[3*i+1], row[3*i] }, nil
	case depth == 16 && bpp == 16:
		return func(row []byte, i int) (byte, byte, byte) {
			v := uint16(row[2*i]) | uint16(row[2*i+1])<<8
			if msb {
				v = uint16(row[2*i])<<8 | uint16(row[2*i+1])
			}
			r, g, b := byte(v>>11), byte(v>>5&0x3f), byte(v&0x1f)
			return r<<3 | r>>2, g<<2 | g>>4, b<<3 | b>>2
		}, nil
	}
	return nil, fmt.Errorf("%w: the X screen has %d bits of colour in %d-bit pixels, which Sesame cannot read; use a 16- or 24-bit screen, or 'sesame add --qr FILE'",
		ErrUnsupported, depth, bpp)
}

// Locate finds the terminal's window, the one $WINDOWID names (xterm, urxvt,
// kitty, alacritty, konsole set it) or else the window that has the focus
// (_NET_ACTIVE_WINDOW: the terminal the user just typed into), and places
// it against the default screen.
func (x X11) Locate(ctx context.Context) (Place, error) {
	conn, done, err := x.connect(ctx)
	if err != nil {
		return PlaceUnknown, err
	}
	defer done()
	root := xproto.Setup(conn).DefaultScreen(conn)
	win, err := x.terminalWindow(conn, root.Root)
	if err != nil || win == 0 {
		return PlaceUnknown, err
	}
	attrs, err := xproto.GetWindowAttributes(conn, win).Reply()
	if err != nil {
		return PlaceUnknown, fmt.Errorf("the terminal's window: %w", err)
	}
	geom, err := xproto.GetGeometry(conn, xproto.Drawable(win)).Reply()
	if err != nil {
		return PlaceUnknown, fmt.Errorf("the terminal's window: %w", err)
	}
	at, err := xproto.TranslateCoordinates(conn, win, root.Root, 0, 0).Reply()
	if err != nil {
		return PlaceUnknown, fmt.Errorf("the terminal's window: %w", err)
	}
	rect := image.Rect(int(at.DstX), int(at.DstY), int(at.DstX)+int(geom.Width), int(at.DstY)+int(geom.Height))
	screen := image.Rect(0, 0, int(root.WidthInPixels), int(root.HeightInPixels))
	return placeOf(rect, attrs.MapState == xproto.MapStateViewable, []image.Rectangle{screen}), nil
}

// terminalWindow is $WINDOWID, else the root's _NET_ACTIVE_WINDOW, else 0.
func (x X11) terminalWindow(conn *xgb.Conn, root xproto.Window) (xproto.Window, error) {
	if x.Window != "" {
		id, err := strconv.ParseUint(strings.TrimSpace(x.Window), 0, 32)
		if err != nil {
			return 0, fmt.Errorf("WINDOWID %q is not a window id", x.Window)
		}
		return xproto.Window(id), nil
	}
	atom, err := xproto.InternAtom(conn, true, uint16(len("_NET_ACTIVE_WINDOW")), "_NET_ACTIVE_WINDOW").Reply()
	if err != nil || atom.Atom == xproto.AtomNone {
		return 0, err
	}
	prop, err := xproto.GetProperty(conn, false, root, atom.Atom, xproto.AtomWindow, 0, 1).Reply()
	if err != nil || prop.Format != 32 || len(prop.Value) < 4 {
		return 0, err
	}
	return xproto.Window(xgb.Get32(prop.Value)), nil
}
