//go:build !darwin && !windows

package vault

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/godbus/dbus/v5"
)

// The Secret Service names readUnlocked uses, as go-keyring does.
const (
	secretsName     = "org.freedesktop.secrets"
	secretsPath     = "/org/freedesktop/secrets"
	secretsService  = "org.freedesktop.Secret.Service"
	secretsItem     = "org.freedesktop.Secret.Item"
	loginCollection = "/org/freedesktop/secrets/collection/login/"
)

// startDirect starts a direct read over bus, a fresh connection to the
// session bus (from openBus): it sends the authentication and Hello
// (sendHello), which the bus daemon answers; sendSearch sends
// readUnlocked's first call to the Secret Service, and finishDirect reads
// the answers and makes the rest. All give up after timeout (their error
// then matches os.ErrDeadlineExceeded).
//
// go-keyring's Get takes about a dozen round trips through the bus daemon
// on a connection of its own (authentication, Hello, the collections,
// Unlock, SearchItems, OpenSession, Unlock, GetSecret, Close); the direct
// read takes three. When it cannot answer (the item is locked, missing or
// outside the login collection, or the bus said anything unexpected)
// SystemKeyring asks go-keyring, whose path unlocks with a prompt and says
// what is wrong, so every error is go-keyring's as before.
func startDirect(bus net.Conn, timeout time.Duration) error {
	if err := bus.SetDeadline(time.Now().Add(timeout)); err != nil {
		return err
	}
	return sendHello(bus)
}

// errNotUnlocked is readUnlocked's answer when no unlocked item of the login
// collection has the attributes.
var errNotUnlocked = errors.New("no unlocked item in the login collection")

// readUnlocked reads the item with go-keyring's attributes (service and
// username) from the login collection, only if it is unlocked, in three
// round trips on c, an unauthenticated connection to the session bus:
//
//  1. the authentication (EXTERNAL, with its answer and BEGIN sent at once,
//     as sd-bus does) and Hello (sendHello), then Service.SearchItems, which
//     splits unlocked items from locked ones (sendSearch), all without
//     waiting;
//  2. Service.OpenSession("plain");
//  3. Item.GetSecret.
//
// OpenSession waits for the answer to SearchItems, though it needs nothing
// from it, because of a race in gnome-keyring (GNOME/gnome-keyring issues
// 190, 196 and 199, open from 42 to 50): now and then it runs a new
// client's first calls before it has registered the client. SearchItems
// then fails with an error, and SystemKeyring asks go-keyring instead; but
// OpenSession aborts the whole daemon, which D-Bus starts again with every
// keyring locked. Sent with SearchItems, OpenSession crashed gnome-keyring
// four times in a day of timing 'sesame code' (BENCHMARKS.md). An answered
// SearchItems shows that gnome-keyring knows the client, as libsecret's and
// go-keyring's first calls do before they open a session.
//
// The session ends with the connection (the Secret Service closes the
// sessions of a client that leaves).
func readUnlocked(c net.Conn, service, user string) (string, error) {
	if err := sendHello(c); err != nil {
		return "", err
	}
	if err := sendSearch(c, service, user); err != nil {
		return "", err
	}
	return finishDirect(c)
}

// sendHello writes the start of readUnlocked's first round trip on c: the
// authentication and Hello.
func sendHello(c net.Conn) error {
	var out bytes.Buffer
	out.WriteString("\x00AUTH EXTERNAL " + hex.EncodeToString([]byte(strconv.Itoa(os.Geteuid()))) + "\r\nBEGIN\r\n")
	if err := encodeCall(&out, busCall("org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "Hello"), 1); err != nil {
		return err
	}
	_, err := c.Write(out.Bytes())
	return err
}

// sendSearch writes the rest of readUnlocked's first round trip on c, after
// sendHello: SearchItems.
func sendSearch(c net.Conn, service, user string) error {
	var out bytes.Buffer
	attrs := map[string]string{"username": user, "service": service}
	if err := encodeCall(&out, busCall(secretsName, secretsPath, secretsService, "SearchItems", attrs), 2); err != nil {
		return err
	}
	_, err := c.Write(out.Bytes())
	return err
}

// finishDirect reads the answers to sendHello and sendSearch on c and makes
// the rest of readUnlocked's round trips: OpenSession, then GetSecret.
func finishDirect(c net.Conn) (string, error) {
	in := bufio.NewReader(c)
	line, err := in.ReadString('\n')
	if err != nil {
		return "", err
	}
	if !strings.HasPrefix(line, "OK ") {
		return "", fmt.Errorf("the bus refused EXTERNAL authentication: %q", strings.TrimSpace(line))
	}
	replies, err := readReplies(in, 1, 2)
	if err != nil {
		return "", err
	}
	var unlocked, locked []dbus.ObjectPath
	if err := dbus.Store(replies[2].Body, &unlocked, &locked); err != nil {
		return "", err
	}
	item := dbus.ObjectPath("")
	for _, p := range unlocked {
		if strings.HasPrefix(string(p), loginCollection) {
			item = p
			break
		}
	}
	if item == "" {
		return "", errNotUnlocked
	}
	reply, err := roundTrip(c, in, busCall(secretsName, secretsPath, secretsService, "OpenSession", "plain", dbus.MakeVariant("")), 3)
	if err != nil {
		return "", err
	}
	var ignored dbus.Variant
	var session dbus.ObjectPath
	if err := dbus.Store(reply.Body, &ignored, &session); err != nil {
		return "", err
	}
	if reply, err = roundTrip(c, in, busCall(secretsName, item, secretsItem, "GetSecret", session), 4); err != nil {
		return "", err
	}
	var secret struct {
		Session     dbus.ObjectPath
		Parameters  []byte
		Value       []byte
		ContentType string
	}
	if err := dbus.Store(reply.Body, &secret); err != nil {
		return "", err
	}
	return string(secret.Value), nil
}

// introduceClient makes the Secret Service's first call from the D-Bus
// library's shared connection, the one go-keyring uses, a search for the
// item, and waits for its answer; SystemKeyring calls it before each
// go-keyring call. go-keyring's Set opens its session with its first call,
// and gnome-keyring can abort on that (readUnlocked says why); its Get and
// Delete start with an unlock, which needs the client as well. The search
// shows gnome-keyring the client first. Its answer does not matter:
// go-keyring's call that follows says what is wrong, if anything is.
func introduceClient(service, user string) {
	conn, err := dbus.SessionBus()
	if err != nil {
		return
	}
	attrs := map[string]string{"username": user, "service": service}
	conn.Object(secretsName, secretsPath).Call(secretsService+".SearchItems", 0, attrs)
}

// roundTrip sends call with the given serial on c and reads its reply from
// in, c's reader.
func roundTrip(c net.Conn, in *bufio.Reader, call *dbus.Message, serial uint32) (*dbus.Message, error) {
	var out bytes.Buffer
	if err := encodeCall(&out, call, serial); err != nil {
		return nil, err
	}
	if _, err := c.Write(out.Bytes()); err != nil {
		return nil, err
	}
	replies, err := readReplies(in, serial, serial)
	if err != nil {
		return nil, err
	}
	return replies[serial], nil
}

// busCall is a method call message.
func busCall(dest string, path dbus.ObjectPath, iface, member string, args ...any) *dbus.Message {
	m := &dbus.Message{
		Type: dbus.TypeMethodCall,
		Headers: map[dbus.HeaderField]dbus.Variant{
			dbus.FieldDestination: dbus.MakeVariant(dest),
			dbus.FieldPath:        dbus.MakeVariant(path),
			dbus.FieldInterface:   dbus.MakeVariant(iface),
			dbus.FieldMember:      dbus.MakeVariant(member),
		},
		Body: args,
	}
	if len(args) > 0 {
		m.Headers[dbus.FieldSignature] = dbus.MakeVariant(dbus.SignatureOf(args...))
	}
	return m
}

// encodeCall writes m with the given serial. The D-Bus library keeps the
// serial of a message to itself, so it is set in the encoded bytes, at its
// fixed place in the header (bytes 8 to 11, in the message's byte order).
func encodeCall(w *bytes.Buffer, m *dbus.Message, serial uint32) error {
	start := w.Len()
	if err := m.EncodeTo(w, binary.LittleEndian); err != nil {
		return err
	}
	binary.LittleEndian.PutUint32(w.Bytes()[start+8:], serial)
	return nil
}

// readReplies reads messages until it has the replies to the calls with
// serials first to last, and returns them by serial. Signals (the bus's
// NameAcquired) are skipped; an error reply is an error.
func readReplies(in *bufio.Reader, first, last uint32) (map[uint32]*dbus.Message, error) {
	replies := map[uint32]*dbus.Message{}
	for len(replies) < int(last-first+1) {
		m, err := dbus.DecodeMessage(in)
		if err != nil {
			return nil, err
		}
		if m.Type != dbus.TypeMethodReply && m.Type != dbus.TypeError {
			continue
		}
		v, ok := m.Headers[dbus.FieldReplySerial].Value().(uint32)
		if !ok || v < first || v > last {
			continue
		}
		if m.Type == dbus.TypeError {
			name, _ := m.Headers[dbus.FieldErrorName].Value().(string)
			return nil, fmt.Errorf("the bus answered call %d with %s", v, name)
		}
		replies[v] = m
	}
	return replies, nil
}
