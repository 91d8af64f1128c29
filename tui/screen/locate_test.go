package screen_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"

	"github.com/sesame-auth/sesame/tui/screen"
	"github.com/sesame-auth/sesame/tui/tuitest"
)

// X11.Locate against a real X server (Xvfb 640×480): a window the test
// makes stands for the terminal, named as $WINDOWID names it.
func TestLocateX11(t *testing.T) {
	display := tuitest.Xvfb(t)
	conn, err := xgb.NewConnDisplay(display)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	root := xproto.Setup(conn).DefaultScreen(conn)
	window := func(x, y int16, w, h uint16, mapped bool) string {
		id, err := xproto.NewWindowId(conn)
		if err != nil {
			t.Fatal(err)
		}
		if err := xproto.CreateWindowChecked(conn, root.RootDepth, id, root.Root, x, y, w, h, 0,
			xproto.WindowClassInputOutput, root.RootVisual, 0, nil).Check(); err != nil {
			t.Fatal(err)
		}
		if mapped {
			if err := xproto.MapWindowChecked(conn, id).Check(); err != nil {
				t.Fatal(err)
			}
		}
		return fmt.Sprint(uint32(id))
	}
	for _, tc := range []struct {
		name   string
		window string
		want   screen.Place
	}{
		{"full screen", window(0, 0, 640, 480, true), screen.PlaceCovers},
		{"a window", window(100, 100, 300, 200, true), screen.PlaceBeside},
		{"unmapped", window(0, 0, 640, 480, false), screen.PlaceAway},
		{"off the screen", window(700, 0, 100, 100, true), screen.PlaceAway},
		{"no WINDOWID, no window manager", "", screen.PlaceUnknown},
	} {
		got, err := screen.X11{Display: display, Window: tc.window}.Locate(context.Background())
		if err != nil || got != tc.want {
			t.Errorf("%s: %v, %v; want %v", tc.name, got, err, tc.want)
		}
	}
	// A window manager names the focused window on the root.
	atom, err := xproto.InternAtom(conn, false, uint16(len("_NET_ACTIVE_WINDOW")), "_NET_ACTIVE_WINDOW").Reply()
	if err != nil {
		t.Fatal(err)
	}
	var id uint32
	fmt.Sscan(window(0, 0, 640, 480, true), &id)
	value := []byte{byte(id), byte(id >> 8), byte(id >> 16), byte(id >> 24)}
	if err := xproto.ChangePropertyChecked(conn, xproto.PropModeReplace, root.Root, atom.Atom, xproto.AtomWindow, 32, 1, value).Check(); err != nil {
		t.Fatal(err)
	}
	if got, err := (screen.X11{Display: display}).Locate(context.Background()); err != nil || got != screen.PlaceCovers {
		t.Errorf("_NET_ACTIVE_WINDOW on a full-screen window: %v, %v", got, err)
	}
	if _, err := (screen.X11{Display: display, Window: "xterm"}).Locate(context.Background()); err == nil {
		t.Error("WINDOWID=xterm: no error")
	}
}
