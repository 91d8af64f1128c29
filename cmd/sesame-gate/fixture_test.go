//go:build linux

package main

import (
	"bufio"
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sesame-auth/sesame/approve/gate"
	"github.com/sesame-auth/sesame/tui/tuitest"
	"github.com/sesame-auth/sesame/vault/vaulttest"
)

func TestMain(m *testing.M) { tuitest.Main(m) }

// world is everything the end-to-end tests run: test users, the built
// sesame-gate installed setgid as on a server, the built 'sesame server' on
// loopback, an OpenSSH sshd on its own port with the gate as ForceCommand,
// and 'sesame approve --watch' in tmux with a vault paired as alice, bob
// and carol. dave is paired in a second vault, which nothing watches.
type world struct {
	t      *testing.T
	tag    string // random, in the names of users and files made for this run
	dir    string // 0755, so the test users reach the gate
	gate   string // the installed gate binary
	config string // the gate's configuration file
	// unwatchedConfig is the configuration of the fourth user, dave, whose
	// pairing no one watches: the shortest timeout.
	unwatchedConfig string
	keyFile         string
	group           string   // the gate's group, the only one that reads the key
	users           []string // login names of alice, bob, carol and dave in Sesame (rate limits are per user)
	sesame          string   // the sesame binary
	vaultEnv        []string
	serverURL       string
	server          *exec.Cmd
	sshPort         int
	clientKey       string
	knownHosts      string
	approve         *tuitest.Term
}

const e2eAPIKey = "gate-e2e-api-key-0123456789abcdef"

func need(t *testing.T, path string) {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		tuitest.Missing(t, path+" is not installed (Debian: openssh-server, openssh-client, sudo)")
	}
}

func must(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

func newWorld(t *testing.T) *world {
	t.Helper()
	if os.Getuid() != 0 {
		tuitest.Missing(t, "the sesame-gate end-to-end tests create users and run sshd: they need root")
	}
	for _, p := range []string{"/usr/sbin/sshd", "/usr/bin/ssh", "/usr/bin/scp", "/usr/bin/ssh-keygen", "/usr/sbin/useradd", "/usr/sbin/groupadd"} {
		need(t, p)
	}
	tuitest.Need(t, "tmux")
	w := &world{t: t, sesame: tuitest.Sesame(t)}
	dir, err := os.MkdirTemp("", "sesame-gate-e2e-")
	if err != nil {
		t.Fatal(err)
	}
	os.Chmod(dir, 0o755)
	t.Cleanup(func() { os.RemoveAll(dir) })
	w.dir = dir
	for _, d := range []string{"bin", "etc", "sshd", "client", "home", "server"} {
		os.Mkdir(filepath.Join(dir, d), 0o755)
	}

	// Users and the gate's group, removed at the end.
	suffix := make([]byte, 3)
	rand.Read(suffix)
	tag := hex.EncodeToString(suffix)
	w.tag = tag
	w.group = "sgate" + tag
	must(t, "groupadd", w.group)
	t.Cleanup(func() { exec.Command("groupdel", w.group).Run() })
	for _, n := range []string{"sga", "sgb", "sgc", "sgd"} {
		name := n + tag
		must(t, "useradd", "-m", "-d", filepath.Join(dir, "home", name), "-s", "/bin/bash", "-p", "*", name)
		t.Cleanup(func() { exec.Command("userdel", name).Run() })
		w.users = append(w.users, name)
	}

	// The gate, installed as docs/ssh.md says: root:GROUP 2755, the key
	// root:GROUP 0640, the configuration root 0644.
	w.gate = filepath.Join(dir, "bin", "sesame-gate")
	if out, err := exec.Command("go", "build", "-o", w.gate, "github.com/sesame-auth/sesame/cmd/sesame-gate").CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/sesame-gate: %v\n%s", err, out)
	}
	grp, err := user.LookupGroup(w.group)
	if err != nil {
		t.Fatal(err)
	}
	gid, _ := strconv.Atoi(grp.Gid)
	os.Chown(w.gate, 0, gid)
	os.Chmod(w.gate, 0o755|os.ModeSetgid)
	w.keyFile = filepath.Join(dir, "etc", "gate.key")
	os.WriteFile(w.keyFile, []byte(e2eAPIKey+"\n"), 0o640)
	os.Chown(w.keyFile, 0, gid)
	w.config = filepath.Join(dir, "etc", "gate.toml")
	w.unwatchedConfig = filepath.Join(dir, "etc", "gate-unwatched.toml")

	w.startServer()
	w.writeConfig(w.serverURL, "secure", 60)
	// dave waits the shortest timeout, in a configuration of his own.
	w.writeConfigFile(w.unwatchedConfig, w.serverURL, "secure", gate.MinTimeout, w.users[3:4], "dave")
	w.startSSHD()

	// A vault paired as alice, bob and carol, answering in tmux.
	w.vaultEnv = []string{"SESAME_HOME=" + filepath.Join(dir, "vault"), "SESAME_PASSPHRASE=gate e2e passphrase"}
	// Made here at a cheap scrypt cost: the binary opens a vault at the cost
	// written in its file, so no command pays the production one.
	vaulttest.NewPassphraseIn(t, filepath.Join(dir, "vault"), "gate e2e passphrase")
	for _, u := range []string{"alice", "bob", "carol"} {
		var p struct{ URI string }
		if code := w.rp("POST", "/v1/rp/pairings", fmt.Sprintf(`{"user":%q}`, u), &p); code != 201 {
			t.Fatalf("create a pairing for %s: HTTP %d", u, code)
		}
		cmd := exec.Command(w.sesame, "--store", "passphrase", "pair", p.URI)
		cmd.Env = tuitest.Environ(w.vaultEnv...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("pair %s: %v\n%s", u, err, out)
		}
	}
	// dave's pairing is in a vault that nobody watches: his sign-ins are
	// never answered.
	unwatched := []string{"SESAME_HOME=" + filepath.Join(dir, "vault-unwatched"), "SESAME_PASSPHRASE=gate e2e passphrase"}
	vaulttest.NewPassphraseIn(t, filepath.Join(dir, "vault-unwatched"), "gate e2e passphrase")
	var p struct{ URI string }
	if code := w.rp("POST", "/v1/rp/pairings", `{"user":"dave"}`, &p); code != 201 {
		t.Fatalf("create a pairing for dave: HTTP %d", code)
	}
	cmd := exec.Command(w.sesame, "pair", p.URI)
	cmd.Env = tuitest.Environ(unwatched...)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("pair dave: %v\n%s", err, out)
	}
	w.approve = tuitest.Start(t, tuitest.TermOptions{Width: 160, Height: 50, Scrollback: 10000, Env: w.vaultEnv}, w.sesame, "approve", "--watch")
	w.approve.WaitFor(30*time.Second, "alice@Gate: ok", "bob@Gate: ok", "carol@Gate: ok")
	return w
}

// startServer runs the built 'sesame server' on a free loopback port.
func (w *world) startServer() {
	t := w.t
	addr := fmt.Sprintf("127.0.0.1:%d", freePort(t))
	srv := exec.Command(w.sesame, "server", "--listen", addr, "--data", filepath.Join(w.dir, "server"), "--label", "Gate")
	srv.Env = tuitest.Environ("SESAME_API_KEY=" + e2eAPIKey)
	stdout, _ := srv.StdoutPipe()
	var log bytes.Buffer
	srv.Stderr = &log
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.stopServer() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("sesame server: %v\n%s", err, log.String())
	}
	w.serverURL, w.server = strings.TrimSpace(line), srv
}

func (w *world) stopServer() {
	if w.server != nil {
		w.server.Process.Signal(os.Interrupt)
		w.server.Wait()
		w.server = nil
	}
}

// rp calls the server's relying-party API.
func (w *world) rp(method, path, body string, out any) int {
	w.t.Helper()
	req, _ := http.NewRequest(method, w.serverURL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+e2eAPIKey)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		w.t.Fatal(err)
	}
	defer resp.Body.Close()
	if out != nil {
		json.NewDecoder(resp.Body).Decode(out)
	}
	return resp.StatusCode
}

// writeConfig writes the gate's configuration (root 0644) for the first
// three users, as alice, bob and carol.
func (w *world) writeConfig(serverURL, failmode string, timeout int) {
	w.t.Helper()
	w.writeConfigFile(w.config, serverURL, failmode, timeout, w.users[:3], "alice", "bob", "carol")
}

// writeConfigFile writes a gate configuration (root 0644) to path that maps
// logins to the Sesame users of the same index.
func (w *world) writeConfigFile(path, serverURL, failmode string, timeout int, logins []string, users ...string) {
	w.t.Helper()
	cfg := fmt.Sprintf(`server_url = %q
api_key_file = %q
failmode = %q
timeout = %d
pushinfo = true

[users_map]
`, serverURL, w.keyFile, failmode, timeout)
	for i, login := range logins {
		cfg += fmt.Sprintf("%s = %q\n", login, users[i])
	}
	if err := os.WriteFile(path, []byte(cfg), 0o644); err != nil {
		w.t.Fatal(err)
	}
}

// startSSHD runs OpenSSH's sshd on a free loopback port: public-key
// authentication only, the gate as ForceCommand, sftp-server as the sftp
// subsystem (as on Debian).
func (w *world) startSSHD() {
	t := w.t
	sd := filepath.Join(w.dir, "sshd")
	must(t, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", filepath.Join(sd, "host_ed25519"))
	w.clientKey = filepath.Join(w.dir, "client", "id_ed25519")
	must(t, "ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", w.clientKey)
	pub, _ := os.ReadFile(w.clientKey + ".pub")
	os.WriteFile(filepath.Join(sd, "authorized_keys"), pub, 0o644)
	w.sshPort = freePort(t)
	hostPub, _ := os.ReadFile(filepath.Join(sd, "host_ed25519.pub"))
	w.knownHosts = filepath.Join(w.dir, "client", "known_hosts")
	os.WriteFile(w.knownHosts, []byte(fmt.Sprintf("[127.0.0.1]:%d %s", w.sshPort, hostPub)), 0o644)
	cfg := fmt.Sprintf(`Port %d
ListenAddress 127.0.0.1
HostKey %s
PidFile %s
AuthorizedKeysFile %s
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
UsePAM no
StrictModes no
AllowUsers %s
Subsystem sftp /usr/lib/openssh/sftp-server
ForceCommand %s --config %s
Match User %s
	ForceCommand %s --config %s
`, w.sshPort, filepath.Join(sd, "host_ed25519"), filepath.Join(sd, "sshd.pid"), filepath.Join(sd, "authorized_keys"),
		strings.Join(w.users, " "), w.gate, w.config, w.users[3], w.gate, w.unwatchedConfig)
	conf := filepath.Join(sd, "sshd_config")
	os.WriteFile(conf, []byte(cfg), 0o644)
	os.MkdirAll("/run/sshd", 0o755) // privilege separation folder
	sshd := exec.Command("/usr/sbin/sshd", "-D", "-e", "-f", conf)
	stderr, _ := sshd.StderrPipe()
	if err := sshd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sshd.Process.Kill(); sshd.Wait() })
	ready := make(chan bool, 1)
	var mu sync.Mutex
	var log strings.Builder
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			mu.Lock()
			log.WriteString(sc.Text() + "\n")
			mu.Unlock()
			if strings.Contains(sc.Text(), "Server listening on") {
				ready <- true
			}
		}
		ready <- false
	}()
	select {
	case ok := <-ready:
		if !ok {
			mu.Lock()
			defer mu.Unlock()
			t.Fatalf("sshd exited:\n%s", log.String())
		}
	case <-time.After(15 * time.Second):
		t.Fatal("sshd did not start listening within 15s")
	}
}

// sshArgs are the client options for the test's sshd, without the port flag.
func (w *world) sshOptions() []string {
	return []string{"-F", "/dev/null", "-i", w.clientKey, "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
		"-o", "UserKnownHostsFile=" + w.knownHosts, "-o", "StrictHostKeyChecking=yes", "-o", "LogLevel=ERROR"}
}

func (w *world) ssh(user string, args ...string) *exec.Cmd {
	a := append([]string{"-p", strconv.Itoa(w.sshPort)}, w.sshOptions()...)
	return exec.Command("ssh", append(append(a, user+"@127.0.0.1"), args...)...)
}

// client is a command running without a terminal whose stderr is watched
// for the gate's prompt.
type client struct {
	t      *testing.T
	cmd    *exec.Cmd
	mu     sync.Mutex
	stdout bytes.Buffer
	stderr bytes.Buffer
	done   chan struct{}
	code   int
}

func (w *world) startClient(t *testing.T, cmd *exec.Cmd) *client {
	t.Helper()
	c := &client{t: t, cmd: cmd, done: make(chan struct{})}
	cmd.Stdout = lockedWriter{&c.mu, &c.stdout}
	cmd.Stderr = lockedWriter{&c.mu, &c.stderr}
	cmd.Env = append(tuitest.Environ(), cmd.Env...)
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		err := cmd.Wait()
		if ee, ok := err.(*exec.ExitError); ok {
			c.code = ee.ExitCode()
		} else if err != nil {
			c.code = -1
		}
		close(c.done)
	}()
	t.Cleanup(func() { cmd.Process.Kill(); <-c.done })
	return c
}

// lockedWriter lets the test read what a running command wrote so far.
type lockedWriter struct {
	mu *sync.Mutex
	b  *bytes.Buffer
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.b.Write(p)
}

func (c *client) errText() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stderr.String()
}

func (c *client) outText() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.stdout.String()
}

var promptRE = regexp.MustCompile(`Sign-in to \S+ as (\S+)(?: from (\S+))?: type (\d+) in Sesame`)

// number waits for the gate's prompt on the client's stderr and returns the number.
func (c *client) number() string {
	c.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		// With a TTY (ssh -tt) the prompt comes through the terminal, on stdout.
		if m := promptRE.FindStringSubmatch(c.errText() + c.outText()); m != nil {
			return m[3]
		}
		select {
		case <-c.done:
			c.t.Fatalf("%v ended (exit %d) without a prompt; stderr:\n%s", c.cmd.Args, c.code, c.errText())
		default:
		}
		if time.Now().After(deadline) {
			c.t.Fatalf("no prompt from the gate within 20s; stderr:\n%s", c.errText())
		}
		time.Sleep(50 * time.Millisecond) // polling the output, not synchronising
	}
}

// wait waits for the client to end and returns its exit status.
func (c *client) wait() int {
	c.t.Helper()
	select {
	case <-c.done:
		return c.code
	case <-time.After(30 * time.Second):
		c.t.Fatalf("%v still running after 30s; stderr:\n%s", c.cmd.Args, c.errText())
	}
	return 0
}

// Text that approve --watch prints for each request and for each one withdrawn.
const (
	asked     = "Are you trying to sign in?"
	withdrawn = "was withdrawn or answered elsewhere"
)

// count is how many times approve --watch has printed text so far. Take it
// before starting a client, then wait for one more: steps do not depend on
// what earlier steps left behind.
func (w *world) count(text string) int {
	w.t.Helper()
	return strings.Count(w.approve.Screen(), text)
}

// waitMore waits until approve --watch has printed text more than before times.
func (w *world) waitMore(before int, text string) {
	w.t.Helper()
	w.approve.WaitCount(40*time.Second, before+1, text)
}

// answer waits for the request that follows the mark and types line.
func (w *world) answer(before int, line string) {
	w.t.Helper()
	w.waitMore(before, asked)
	w.approve.Line(line)
}
