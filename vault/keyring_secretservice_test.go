//go:build !darwin && !windows

package vault

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

// fakeSecrets answers readUnlocked's calls on the other end of a pipe as a
// bus with a Secret Service would, with the items and failures it is given.
type fakeSecrets struct {
	auth              string // the answer to AUTH; "OK 1234" when empty
	unlocked, locked  []dbus.ObjectPath
	failSearch        bool // SearchItems answers with an error
	secret            string
	gotCalls          []string // the members called, in order
	sentEarly         bool     // another call came before SearchItems was answered
	gotAttrs          map[string]string
	gotSecretOf       dbus.ObjectPath
	gotAuth, gotBegin string
}

func (f *fakeSecrets) serve(t *testing.T, c net.Conn) {
	defer c.Close()
	in := bufio.NewReader(c)
	for begun := false; !begun; {
		raw, err := in.ReadString('\n')
		if err != nil {
			return
		}
		switch line := strings.TrimPrefix(raw, "\x00"); {
		case line == "AUTH\r\n": // the D-Bus library asks which mechanisms there are
			c.Write([]byte("REJECTED EXTERNAL\r\n"))
		case strings.HasPrefix(line, "AUTH "):
			f.gotAuth = raw
			auth := f.auth
			if auth == "" {
				auth = "OK 1234"
			}
			c.Write([]byte(auth + "\r\n"))
			if !strings.HasPrefix(auth, "OK") {
				f.gotBegin, _ = in.ReadString('\n')
				io.Copy(io.Discard, in) // a bus waits for another AUTH, until the client hangs up
				return
			}
		case line == "NEGOTIATE_UNIX_FD\r\n": // the D-Bus library asks; readUnlocked does not
			c.Write([]byte("ERROR\r\n"))
		default:
			f.gotBegin, begun = raw, true
		}
	}
	for {
		m, err := dbus.DecodeMessage(in)
		if err != nil {
			return
		}
		member, _ := m.Headers[dbus.FieldMember].Value().(string)
		f.gotCalls = append(f.gotCalls, member)
		var body []any
		switch member {
		case "Hello":
			body = []any{":1.7"}
		case "SearchItems":
			// Whatever the client wrote with SearchItems is already here,
			// in the reader's buffer or on the socket; it is answered in
			// turn.
			c.SetReadDeadline(time.Now())
			_, err := in.Peek(1)
			f.sentEarly = f.sentEarly || err == nil
			c.SetReadDeadline(time.Time{})
			f.gotAttrs, _ = m.Body[0].(map[string]string)
			if f.failSearch {
				f.reply(t, c, m, dbus.TypeError, "org.freedesktop.DBus.Error.ServiceUnknown")
				continue
			}
			body = []any{f.unlocked, f.locked}
		case "OpenSession":
			body = []any{dbus.MakeVariant(""), dbus.ObjectPath("/org/freedesktop/secrets/session/s1")}
		case "GetSecret":
			f.gotSecretOf, _ = m.Headers[dbus.FieldPath].Value().(dbus.ObjectPath)
			body = []any{struct {
				Session     dbus.ObjectPath
				Parameters  []byte
				Value       []byte
				ContentType string
			}{"/org/freedesktop/secrets/session/s1", nil, []byte(f.secret), "text/plain"}}
		}
		f.reply(t, c, m, dbus.TypeMethodReply, "", body...)
	}
}

// reply answers call with a reply or, with an error name, an error.
func (f *fakeSecrets) reply(t *testing.T, c net.Conn, call *dbus.Message, typ dbus.Type, errName string, body ...any) {
	m := &dbus.Message{Type: typ, Headers: map[dbus.HeaderField]dbus.Variant{
		dbus.FieldReplySerial: dbus.MakeVariant(call.Serial()),
	}, Body: body}
	if errName != "" {
		m.Headers[dbus.FieldErrorName] = dbus.MakeVariant(errName)
	}
	if len(body) > 0 {
		m.Headers[dbus.FieldSignature] = dbus.MakeVariant(dbus.SignatureOf(body...))
	}
	var b bytes.Buffer
	if err := encodeCall(&b, m, 1000+call.Serial()); err != nil {
		t.Error(err)
		return
	}
	c.Write(b.Bytes())
}

// readUnlocked reads only an unlocked item of the login collection, with
// go-keyring's attributes, and says why not otherwise: what the real
// gnome-keyring test cannot set up (an item in another collection, a bus
// that refuses the authentication or answers with an error).
func TestReadUnlocked(t *testing.T) {
	const item = dbus.ObjectPath("/org/freedesktop/secrets/collection/login/3")
	other := dbus.ObjectPath("/org/freedesktop/secrets/collection/session/1")
	for _, tc := range []struct {
		name    string
		fake    fakeSecrets
		want    string
		wantErr string // a part of the error; "" for none
	}{
		{name: "unlocked in login", fake: fakeSecrets{unlocked: []dbus.ObjectPath{item}, secret: "AGE-SECRET-KEY-1X"}, want: "AGE-SECRET-KEY-1X"},
		{name: "login item after another collection's", fake: fakeSecrets{unlocked: []dbus.ObjectPath{other, item}, secret: "s"}, want: "s"},
		{name: "only in another collection", fake: fakeSecrets{unlocked: []dbus.ObjectPath{other}}, wantErr: errNotUnlocked.Error()},
		{name: "locked", fake: fakeSecrets{locked: []dbus.ObjectPath{item}}, wantErr: errNotUnlocked.Error()},
		{name: "missing", fake: fakeSecrets{}, wantErr: errNotUnlocked.Error()},
		{name: "no Secret Service", fake: fakeSecrets{failSearch: true}, wantErr: "ServiceUnknown"},
		{name: "authentication refused", fake: fakeSecrets{auth: "REJECTED EXTERNAL"}, wantErr: "refused EXTERNAL authentication"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			client, server := socketPair(t)
			done := make(chan struct{})
			go func() { tc.fake.serve(t, server); close(done) }()
			got, err := readUnlocked(client, "sesame", "vault-1")
			client.Close()
			<-done
			if tc.wantErr == "" && (err != nil || got != tc.want) {
				t.Fatalf("readUnlocked = %q, %v; want %q", got, err, tc.want)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr) || got != "") {
				t.Fatalf("readUnlocked = %q, %v; want an error saying %q", got, err, tc.wantErr)
			}
			if !strings.HasPrefix(tc.fake.gotAuth, "\x00AUTH EXTERNAL ") || tc.fake.gotBegin != "BEGIN\r\n" {
				t.Errorf("authentication sent %q then %q", tc.fake.gotAuth, tc.fake.gotBegin)
			}
			if tc.fake.auth == "" && (tc.fake.gotAttrs["service"] != "sesame" || tc.fake.gotAttrs["username"] != "vault-1" || len(tc.fake.gotAttrs) != 2) {
				t.Errorf("searched for %v, want go-keyring's attributes service=sesame username=vault-1", tc.fake.gotAttrs)
			}
			if tc.want != "" && tc.fake.gotSecretOf != item {
				t.Errorf("read the secret of %s, want %s", tc.fake.gotSecretOf, item)
			}
			if errors.Is(err, errNotUnlocked) && tc.fake.gotSecretOf != "" {
				t.Errorf("read the secret of %s without an unlocked login item", tc.fake.gotSecretOf)
			}
			wantCalls := []string{"Hello", "SearchItems"}
			switch {
			case tc.fake.auth != "":
				wantCalls = nil
			case tc.want != "":
				wantCalls = append(wantCalls, "OpenSession", "GetSecret")
			}
			if !slices.Equal(tc.fake.gotCalls, wantCalls) {
				t.Errorf("called %v, want %v", tc.fake.gotCalls, wantCalls)
			}
			if tc.fake.sentEarly {
				t.Errorf("sent another call with SearchItems (calls: %v); gnome-keyring may not know the client yet, and an OpenSession then aborts it", tc.fake.gotCalls)
			}
		})
	}
}

// fakeBus listens on a unix socket and serves each connection with a fake
// from newFake. It returns the bus address and a function that returns the
// fake of a connection once its client has hung up, failing the test when
// none has within 10 s.
func fakeBus(t *testing.T, newFake func() *fakeSecrets) (addr string, session func() *fakeSecrets) {
	t.Helper()
	sockDir, err := os.MkdirTemp("", "bus") // short: unix socket paths are limited
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(sockDir) })
	sock := filepath.Join(sockDir, "bus")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	served := make(chan *fakeSecrets, 4)
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				f := newFake()
				f.serve(t, c) // returns when the client hangs up
				served <- f
			}()
		}
	}()
	return "unix:path=" + sock, func() *fakeSecrets {
		t.Helper()
		select {
		case f := <-served:
			return f
		case <-time.After(10 * time.Second):
			t.Fatal("a connection to the bus was still open after 10 s")
			return nil
		}
	}
}

// go-keyring's Set opens its session with its first call to the Secret
// Service, and its Get and Delete start with an unlock; gnome-keyring can
// abort on a client's first call (readUnlocked says why). SystemKeyring
// searches first on the connection go-keyring uses, and waits for the
// answer. The D-Bus library keeps that connection for the whole process,
// so each call runs in a child process of the test, against a fake bus
// whose Secret Service has no items.
func TestSearchBeforeGoKeyring(t *testing.T) {
	if op := os.Getenv("SESAME_TEST_KEYRING_CHILD"); op != "" {
		// The fake's answers make go-keyring give up after its first calls;
		// only the calls up to there matter.
		k := SystemKeyring{Timeout: 10 * time.Second}
		switch op {
		case "set":
			_ = k.Set(KeyringService, "probe", "value")
		case "get": // the direct read finds nothing unlocked, then go-keyring tries
			_, _ = k.Get(KeyringService, "probe")
		case "delete":
			_ = k.Delete(KeyringService, "probe")
		}
		return
	}
	t.Parallel()
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ op, first string }{
		{"set", "OpenSession"},
		{"get", "Unlock"},
		{"delete", "Unlock"},
	} {
		t.Run(tc.op, func(t *testing.T) {
			t.Parallel()
			addr, session := fakeBus(t, func() *fakeSecrets { return &fakeSecrets{} })
			cmd := exec.Command(exe, "-test.run=^"+t.Name()+"$", "-test.count=1")
			cmd.Env = append(os.Environ(), "SESAME_TEST_KEYRING_CHILD="+tc.op, "DBUS_SESSION_BUS_ADDRESS="+addr)
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("the child process failed: %v\n%s", err, out)
			}
			// Two connections: Sesame's own (which checks that the bus
			// answers, or reads directly), then go-keyring's.
			var calls []string
			for range 2 {
				if f := session(); slices.Contains(f.gotCalls, tc.first) {
					calls = f.gotCalls
				}
			}
			search, first := slices.Index(calls, "SearchItems"), slices.Index(calls, tc.first)
			if first < 0 || calls[0] != "Hello" || search != 1 || first < search {
				t.Fatalf("go-keyring's connection called %v; want Hello, then SearchItems before %s", calls, tc.first)
			}
		})
	}
}

// socketPair is two connected unix sockets: unlike net.Pipe's, their writes
// are buffered, as a bus connection's are, so that readUnlocked may write
// again before it reads the answer to what it wrote first.
func socketPair(t *testing.T) (net.Conn, net.Conn) {
	t.Helper()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	var conns [2]net.Conn
	for i, fd := range fds {
		f := os.NewFile(uintptr(fd), "socketpair")
		conns[i], err = net.FileConn(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
	}
	return conns[0], conns[1]
}

// mapKeyring is a keyring in memory.
type mapKeyring map[string]string

func (k mapKeyring) Get(service, user string) (string, error) {
	s, ok := k[service+"/"+user]
	if !ok {
		return "", ErrKeyringItemNotFound
	}
	return s, nil
}
func (k mapKeyring) Set(service, user, secret string) error { k[service+"/"+user] = secret; return nil }
func (k mapKeyring) Delete(service, user string) error      { delete(k, service+"/"+user); return nil }

// Open starts reading the vault key as soon as the file's header names its
// keyring item, and finishes once the rest of the file is decoded: against
// a fake Secret Service on a session bus socket, a good file opens with the
// key read that way, and one whose payload is damaged fails as damaged
// without the secret ever being asked for (so no unlock prompt either, for
// a file that could not be opened anyway), and the connection is closed.
func TestOpenStartsKeyReadEarly(t *testing.T) {
	const item = dbus.ObjectPath("/org/freedesktop/secrets/collection/login/1")
	dir := t.TempDir()
	made := mapKeyring{}
	if _, err := Create(Options{Dir: dir, Keyring: made}, StoreKeyring); err != nil {
		t.Fatal(err)
	}
	var key string
	for _, s := range made {
		key = s
	}
	addr, session := fakeBus(t, func() *fakeSecrets {
		return &fakeSecrets{unlocked: []dbus.ObjectPath{item}, secret: key}
	})
	t.Setenv("DBUS_SESSION_BUS_ADDRESS", addr)

	opts := Options{Dir: dir, Keyring: SystemKeyring{Timeout: 10 * time.Second}}
	if _, err := Open(opts); err != nil {
		t.Fatalf("open with the key read from the fake Secret Service: %v", err)
	}
	if f := session(); f.gotSecretOf != item || f.gotAttrs["username"] == "" {
		t.Fatalf("the open read the secret of %q after searching for %v; want %s", f.gotSecretOf, f.gotAttrs, item)
	}

	path := filepath.Join(dir, FileName)
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	i := bytes.Index(b, []byte(dataKey))
	b[i+len(dataKey)+10] = 0x01 // a byte no vault writes in its payload
	if err := os.WriteFile(path, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(opts); !errors.Is(err, ErrCorrupt) || !strings.Contains(err.Error(), "damaged") {
		t.Fatalf("open of a damaged payload: %v, want ErrCorrupt saying it is damaged", err)
	}
	if f := session(); f.gotSecretOf != "" || f.gotAttrs["username"] == "" {
		t.Fatalf("with a damaged payload, the open searched for %v and read the secret of %q; want the search only", f.gotAttrs, f.gotSecretOf)
	}

	// A passphrase vault: the connection made before the file was read
	// said hello to the bus and hung up, asking the Secret Service nothing.
	pdir := t.TempDir()
	popts := Options{Dir: pdir, Passphrase: []byte("pw"), ScryptWorkFactor: 10}
	if _, err := Create(popts, StorePassphrase); err != nil {
		t.Fatal(err)
	}
	popts.Keyring = opts.Keyring
	if _, err := Open(popts); err != nil {
		t.Fatalf("open of a passphrase vault: %v", err)
	}
	if f := session(); !slices.Equal(f.gotCalls, []string{"Hello"}) {
		t.Fatalf("opening a passphrase vault called %v on the bus; want Hello only", f.gotCalls)
	}
}
