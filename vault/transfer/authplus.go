package transfer

import (
	"archive/zip"
	"bytes"
	"compress/flate"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"path"
	"strings"
)

// readAuthPlus reads an Authenticator Plus backup: a zip encrypted with the
// legacy PKWARE "ZipCrypto" cipher holding Accounts.txt, a list of otpauth
// URIs. ZipCrypto is weak; it is decoded here only to read these backups.
func (c *collector) readAuthPlus(data []byte) error {
	zr, err := zip.NewReader(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return fmt.Errorf("%w: the zip file is damaged: %v", ErrCorrupt, err)
	}
	var entry *zip.File
	for _, f := range zr.File {
		if strings.EqualFold(path.Base(f.Name), "Accounts.txt") {
			entry = f
			break
		}
	}
	if entry == nil {
		return fmt.Errorf("%w: the zip file holds no Accounts.txt (it is no Authenticator Plus backup)", ErrUnknownFormat)
	}
	if entry.UncompressedSize64 > MaxFileSize {
		return fmt.Errorf("%w: Accounts.txt is over %d MiB", ErrTooLarge, MaxFileSize>>20)
	}
	raw, err := entry.OpenRaw()
	if err != nil {
		return fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	var body io.Reader = raw
	if entry.Flags&0x1 != 0 {
		pw, err := c.password()
		if err != nil {
			return err
		}
		check := byte(entry.CRC32 >> 24)
		if entry.Flags&0x8 != 0 {
			check = byte(entry.ModifiedTime >> 8)
		}
		if body, err = zipCryptoReader(raw, pw, check); err != nil {
			return err
		}
	}
	switch entry.Method {
	case zip.Store:
	case zip.Deflate:
		fr := flate.NewReader(body)
		defer fr.Close()
		body = fr
	default:
		return fmt.Errorf("%w: zip compression method %d", ErrUnsupported, entry.Method)
	}
	text, err := io.ReadAll(io.LimitReader(body, MaxFileSize+1))
	if err != nil {
		if entry.Flags&0x1 != 0 {
			return ErrWrongPassword // garbage from a wrong key rarely inflates
		}
		return fmt.Errorf("%w: %v", ErrCorrupt, err)
	}
	if len(text) > MaxFileSize {
		return fmt.Errorf("%w: Accounts.txt is over %d MiB", ErrTooLarge, MaxFileSize>>20)
	}
	if crc32.ChecksumIEEE(text) != entry.CRC32 {
		if entry.Flags&0x1 != 0 {
			return ErrWrongPassword
		}
		return fmt.Errorf("%w: Accounts.txt fails its checksum", ErrCorrupt)
	}
	return c.readText(text)
}

// zipCryptoReader decrypts a ZipCrypto stream and checks its 12-byte header
// against the expected check byte.
func zipCryptoReader(r io.Reader, password []byte, check byte) (io.Reader, error) {
	z := &zipCrypto{k0: 0x12345678, k1: 0x23456789, k2: 0x34567890, r: r}
	for _, b := range password {
		z.update(b)
	}
	var header [12]byte
	if _, err := io.ReadFull(r, header[:]); err != nil {
		return nil, fmt.Errorf("%w: the encrypted zip entry is cut short", ErrCorrupt)
	}
	z.decrypt(header[:])
	if header[11] != check {
		return nil, ErrWrongPassword
	}
	return z, nil
}

type zipCrypto struct {
	k0, k1, k2 uint32
	r          io.Reader
}

func (z *zipCrypto) update(b byte) {
	z.k0 = crc32.IEEETable[byte(z.k0)^b] ^ (z.k0 >> 8)
	z.k1 = (z.k1+(z.k0&0xff))*134775813 + 1
	z.k2 = crc32.IEEETable[byte(z.k2)^byte(z.k1>>24)] ^ (z.k2 >> 8)
}

func (z *zipCrypto) decrypt(buf []byte) {
	for i, c := range buf {
		t := uint16(z.k2) | 2
		p := c ^ byte((uint32(t)*uint32(t^1))>>8)
		buf[i] = p
		z.update(p)
	}
}

// Read decrypts what the underlying reader returns.
func (z *zipCrypto) Read(p []byte) (int, error) {
	n, err := z.r.Read(p)
	z.decrypt(p[:n])
	if errors.Is(err, io.ErrUnexpectedEOF) {
		err = fmt.Errorf("%w: the encrypted zip entry is cut short", ErrCorrupt)
	}
	return n, err
}
