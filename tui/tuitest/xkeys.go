package tuitest

import (
	"testing"

	"github.com/jezek/xgb"
	"github.com/jezek/xgb/xproto"
	"github.com/jezek/xgb/xtest"
)

// XType types text on display through the XTEST extension, as a keyboard
// would: the window under the pointer (or with the focus) receives it.
// Only characters on the keyboard map without modifiers (a-z, 0-9) can be
// typed.
func XType(t testing.TB, display, text string) {
	t.Helper()
	conn, err := xgb.NewConnDisplay(display)
	if err != nil {
		t.Fatalf("connect to %s: %v", display, err)
	}
	defer conn.Close()
	if err := xtest.Init(conn); err != nil {
		t.Fatalf("the X server %s has no XTEST: %v", display, err)
	}
	setup := xproto.Setup(conn)
	root := setup.DefaultScreen(conn).Root
	first, count := setup.MinKeycode, byte(setup.MaxKeycode-setup.MinKeycode+1)
	km, err := xproto.GetKeyboardMapping(conn, first, count).Reply()
	if err != nil {
		t.Fatal(err)
	}
	per := int(km.KeysymsPerKeycode)
	code := func(r rune) byte {
		for i := 0; i < int(count); i++ {
			if per > 0 && km.Keysyms[i*per] == xproto.Keysym(r) {
				return byte(first) + byte(i)
			}
		}
		t.Fatalf("no key types %q on %s", r, display)
		return 0
	}
	for _, r := range text {
		k := code(r)
		for _, typ := range []byte{xproto.KeyPress, xproto.KeyRelease} {
			if err := xtest.FakeInputChecked(conn, typ, k, 0, root, 0, 0, 0).Check(); err != nil {
				t.Fatalf("type %q: %v", r, err)
			}
		}
	}
	// A round trip makes sure the server has taken every event.
	if _, err := xproto.GetInputFocus(conn).Reply(); err != nil {
		t.Fatal(err)
	}
}
