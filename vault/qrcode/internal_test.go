package qrcode

import (
	"slices"
	"testing"
)

func TestVariantsOrder(t *testing.T) {
	g := gray{pix: make([]byte, 5000*3000), w: 5000, h: 3000}
	var sides []int
	for _, v := range variants(g) {
		if len(v.pix) != v.w*v.h {
			t.Fatalf("variant %d×%d has %d pixels", v.w, v.h, len(v.pix))
		}
		sides = append(sides, v.w)
	}
	// Working sizes first, largest first; then the big ones, smallest first.
	if want := []int{1250, 625, 312, 2500, 5000}; !slices.Equal(sides, want) {
		t.Errorf("variant widths %v, want %v", sides, want)
	}
	if n := len(variants(gray{pix: make([]byte, 100*100), w: 100, h: 100})); n != 1 {
		t.Errorf("a 100×100 image has %d variants, want only itself", n)
	}
}

func TestHalf(t *testing.T) {
	g := gray{w: 5, h: 3, pix: []byte{
		0, 4, 8, 8, 99,
		4, 8, 8, 9, 99,
		99, 99, 99, 99, 99,
	}}
	h := g.half()
	if h.w != 2 || h.h != 1 || !slices.Equal(h.pix, []byte{4, 8}) {
		t.Errorf("half = %d×%d %v, want 2×1 [4 8]", h.w, h.h, h.pix)
	}
	if inv := g.inverted(); inv.pix[0] != 255 || inv.pix[4] != 156 || g.pix[0] != 0 {
		t.Errorf("inverted = %v (original %v)", inv.pix, g.pix)
	}
}

func TestReadingOrder(t *testing.T) {
	codes := []found{
		{text: "bottom-right", cx: 300, cy: 310, size: 100},
		{text: "top-right", cx: 300, cy: 95, size: 100},
		{text: "bottom-left", cx: 100, cy: 290, size: 100},
		{text: "top-left", cx: 100, cy: 105, size: 100},
		{text: "top-left", cx: 101, cy: 104, size: 100}, // found twice
	}
	want := []string{"top-left", "top-right", "bottom-left", "bottom-right"}
	if got := readingOrder(codes); !slices.Equal(got, want) {
		t.Errorf("readingOrder = %q, want %q", got, want)
	}
}
