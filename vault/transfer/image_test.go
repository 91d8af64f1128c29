package transfer

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"slices"
	"strings"
	"testing"

	"github.com/sesame-auth/sesame/vault"
	"github.com/sesame-auth/sesame/vault/qrcode"
)

func TestFixtureImages(t *testing.T) {
	t.Run("google export screen", func(t *testing.T) {
		res, err := Import(ImportOptions{}, readFixture(t, "google_authenticator", "scito_example_export.png"))
		if err != nil {
			t.Fatal(err)
		}
		var ws []want
		for i, s := range []string{"JBSWY3DPEHPK3PXP", "JBSWY3DPEHPK3PXQ", "JBSWY3DPEHPK3PXR"} {
			n := i + 1
			ws = append(ws, want{vault.TOTP, fmt.Sprint("Test", n), fmt.Sprintf("test%d@example%d.com", n, n), s, vault.SHA1, 6, 30, 0})
		}
		assertAccounts(t, res, ws)
		if res.Inputs[0].Format != FormatGoogle {
			t.Errorf("format %q, want google", res.Inputs[0].Format)
		}
	})
	t.Run("otpauth QR", func(t *testing.T) {
		res, err := Import(ImportOptions{}, readFixture(t, "otpauth_uri_list", "dim13_example_otpauth_qr.png"))
		if err != nil {
			t.Fatal(err)
		}
		assertAccounts(t, res, []want{{vault.TOTP, "Example", "alice@google.com", "JBSWY3DPEHPK3PXP", vault.SHA1, 6, 30, 0}})
	})
	t.Run("QR without a link", func(t *testing.T) {
		res, err := Import(ImportOptions{}, readFixture(t, "google_authenticator", "scito_qr_but_without_otp.png"))
		if !errors.Is(err, ErrUnknownFormat) || res != nil {
			t.Errorf("Import = %v, %v; want ErrUnknownFormat", res, err)
		}
	})
	t.Run("three-part batch", func(t *testing.T) {
		var parts []Input
		for i := 1; i <= 3; i++ {
			parts = append(parts, readFixture(t, "synthesized", fmt.Sprintf("ga_batch_%d_of_3_qr.png", i)))
		}
		res, err := Import(ImportOptions{}, parts...)
		if err != nil {
			t.Fatal(err)
		}
		if len(res.Accounts) != 22 {
			t.Errorf("%d accounts, want 22", len(res.Accounts))
		}
		_, err = Import(ImportOptions{}, parts[0], parts[2])
		var mp *MissingPartsError
		if !errors.As(err, &mp) || len(mp.Exports) != 1 || !slices.Equal(mp.Exports[0].Missing, []int{2}) {
			t.Errorf("parts 1 and 3: %v, want part 2 missing", err)
		}
	})
}

func TestImageWithoutCode(t *testing.T) {
	img := image.NewGray(image.Rect(0, 0, 200, 200))
	for i := range img.Pix {
		img.Pix[i] = 0xff
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	res, err := Import(ImportOptions{}, Input{Name: "blank.png", Data: buf.Bytes()})
	if !errors.Is(err, ErrNoQRCode) || res != nil {
		t.Errorf("blank image: %v, %v; want ErrNoQRCode", res, err)
	}
	res, err = Import(ImportOptions{}, Input{Name: "cut.png", Data: buf.Bytes()[:len(buf.Bytes())/2]})
	if err == nil || res != nil {
		t.Errorf("truncated image: %v, %v; want an error", res, err)
	}
}

// TestRoundTripGoogleQR exports to migration QR PNGs and imports the images.
func TestRoundTripGoogleQR(t *testing.T) {
	var accounts []vault.Account
	for i := range 12 {
		a := sample()[i%5]
		a.Name = fmt.Sprintf("%s #%d", a.Name, i)
		accounts = append(accounts, a)
	}
	uris, _, err := ExportGoogle(accounts)
	if err != nil {
		t.Fatal(err)
	}
	pngs, err := QRPNGs(uris, GooglePNGSize)
	if err != nil {
		t.Fatal(err)
	}
	var inputs []Input
	for i, p := range pngs {
		inputs = append(inputs, Input{Name: fmt.Sprintf("qr%d.png", i+1), Data: p})
	}
	res, err := Import(ImportOptions{}, inputs...)
	if err != nil {
		t.Fatal(err)
	}
	assertAccounts(t, res, wants(accounts))
}

// TestTerminalQR reads the half-block drawing back as an image and decodes it.
func TestTerminalQR(t *testing.T) {
	uris, _, err := ExportGoogle(sample()[:5])
	if err != nil {
		t.Fatal(err)
	}
	art, err := TerminalQR(uris[0])
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(art, "\n"), "\n")
	width := len([]rune(lines[0]))
	const scale = 4
	img := image.NewGray(image.Rect(0, 0, (width+8)*scale, (2*len(lines)+8)*scale))
	for i := range img.Pix {
		img.Pix[i] = 0xff // a light margin, as a phone sees around a dark terminal window
	}
	set := func(x, y int, light bool) {
		v := uint8(0)
		if light {
			v = 0xff
		}
		for dy := range scale {
			for dx := range scale {
				img.SetGray((x+4)*scale+dx, (y+4)*scale+dy, color.Gray{Y: v})
			}
		}
	}
	for row, line := range lines {
		for col, r := range []rune(line) {
			// The foreground colour is light on a dark terminal.
			top, bottom := false, false
			switch r {
			case '█':
				top, bottom = true, true
			case '▀':
				top = true
			case '▄':
				bottom = true
			case ' ':
			default:
				t.Fatalf("unexpected rune %q", r)
			}
			set(col, 2*row, top)
			set(col, 2*row+1, bottom)
		}
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		t.Fatal(err)
	}
	texts, err := qrcode.Decode(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if len(texts) != 1 || texts[0] != uris[0] {
		t.Errorf("terminal QR reads %q, want %q", texts, uris[0])
	}
	if _, err := TerminalQR(strings.Repeat("x", 5000)); err == nil {
		t.Error("TerminalQR of 5000 bytes succeeded")
	}
}
