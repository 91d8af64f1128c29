//go:build unix

package gate

import (
	"bufio"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseConfig(t *testing.T) {
	c, err := ParseConfig([]byte(`
server_url = "https://auth.example.com"
api_key_file = "/etc/sesame/gate.key"
failmode = "safe"
groups = ["admins"]
timeout = 90
mode = "choose"
pushinfo = true
[users_map]
root = "alice"
`), "gate.toml")
	if err != nil {
		t.Fatal(err)
	}
	want := Config{ServerURL: "https://auth.example.com", APIKeyFile: "/etc/sesame/gate.key", FailMode: FailSafe, Groups: []string{"admins"},
		UsersMap: map[string]string{"root": "alice"}, Timeout: 90, Mode: ModeChoose, PushInfo: true}
	if !reflect.DeepEqual(c, want) {
		t.Fatalf("got %+v", c)
	}
	if c.SesameUser("root") != "alice" || c.SesameUser("bob") != "bob" {
		t.Fatal("users_map not applied")
	}
	c = testConfig()
	if c.FailMode != FailSecure || c.Mode != ModeType || c.Timeout != DefaultTimeout {
		t.Fatalf("defaults: %+v", c)
	}
}

func TestConfigErrorsSayWhatIsWrong(t *testing.T) {
	base := "server_url = \"https://a.example\"\napi_key_file = \"/k\"\n"
	cases := map[string]string{
		base + "failmod = \"safe\"\nfoo.bar = 1\n": "unknown key(s) failmod, foo.bar",
		base + "failmode = \"open\"\n":             `failmode must be "secure" or "safe"`,
		base + "mode = \"approve\"\n":              `mode must be "type" or "choose"`,
		base + "timeout = 5\n":                     "timeout must be between 10 and 600",
		base + "timeout = \"60\"\n":                "timeout",
		"api_key_file = \"/k\"\n":                  "server_url is missing",
		"server_url = \"https://a.example\"\n":     "api_key_file is missing",
		base + "[users_map]\nroot = \"\"\n":        "users_map",
		base + "pushinfo = yes\n":                  "gate.toml",
	}
	for in, want := range cases {
		_, err := ParseConfig([]byte(in), "gate.toml")
		if err == nil || !strings.Contains(err.Error(), want) || !strings.HasPrefix(err.Error(), "gate.toml") {
			t.Errorf("%q: error %v, want it to say %q", in, err, want)
		}
	}
}

func TestKeyAndConfigFilePermissions(t *testing.T) {
	dir := t.TempDir()
	key := filepath.Join(dir, "gate.key")
	os.WriteFile(key, []byte("0123456789abcdef0123\nignored\n"), 0o640)
	if k, err := ReadAPIKey(key, false); err != nil || k != "0123456789abcdef0123" {
		t.Fatalf("key %q, %v", k, err)
	}
	os.Chmod(key, 0o644)
	if _, err := ReadAPIKey(key, false); err == nil || !strings.Contains(err.Error(), "chmod 640") {
		t.Fatalf("a key file everyone can read: %v", err)
	}
	os.Chmod(key, 0o600)
	os.WriteFile(key, []byte("short"), 0o600)
	if _, err := ReadAPIKey(key, false); err == nil || !strings.Contains(err.Error(), "shorter than 16") {
		t.Fatalf("a short key: %v", err)
	}
	cfg := filepath.Join(dir, "gate.toml")
	os.WriteFile(cfg, []byte("server_url = \"https://a.example\"\napi_key_file = \"/k\"\n"), 0o666)
	os.Chmod(cfg, 0o666)
	if _, err := LoadConfig(cfg, false); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadConfig(cfg, true); err == nil || !strings.Contains(err.Error(), "writable only by root") {
		t.Fatalf("a setgid gate took a config others can change: %v", err)
	}
	if _, err := LoadConfig(filepath.Join(dir, "none.toml"), false); err == nil || !strings.Contains(err.Error(), "--config") {
		t.Fatalf("missing config: %v", err)
	}
}

func TestLogins(t *testing.T) {
	env := map[string]string{"SSH_CONNECTION": "192.0.2.7 50000 192.0.2.1 22", "SSH_ORIGINAL_COMMAND": "echo ok"}
	got := SSHLogin(func(k string) string { return env[k] }, "alice", "box")
	if got != (Login{User: "alice", Host: "box", IP: "192.0.2.7", Service: "ssh", Command: "echo ok"}) {
		t.Fatalf("ssh login %+v", got)
	}
	env = map[string]string{"PAM_USER": "bob", "PAM_RHOST": "192.0.2.8", "PAM_SERVICE": "sudo", "PAM_TYPE": "auth"}
	pl, err := PAMLogin(func(k string) string { return env[k] }, "box")
	if err != nil || pl != (Login{User: "bob", Host: "box", IP: "192.0.2.8", Service: "sudo"}) {
		t.Fatalf("pam login %+v %v", pl, err)
	}
	env["PAM_TYPE"] = "open_session"
	if _, err := PAMLogin(func(k string) string { return env[k] }, "box"); err == nil || !strings.Contains(err.Error(), "auth") {
		t.Fatalf("session stack: %v", err)
	}
	delete(env, "PAM_TYPE")
	if _, err := PAMLogin(func(k string) string { return env[k] }, "box"); err == nil {
		t.Fatal("no PAM_TYPE accepted")
	}
}

func TestShellArgsAreSSHDs(t *testing.T) {
	p, argv, err := ShellArgs("/bin/bash", "")
	if err != nil || p != "/bin/bash" || !reflect.DeepEqual(argv, []string{"-bash"}) {
		t.Fatalf("login shell: %s %q %v", p, argv, err)
	}
	p, argv, err = ShellArgs("/bin/bash", "git-upload-pack 'r.git'")
	if err != nil || p != "/bin/bash" || !reflect.DeepEqual(argv, []string{"bash", "-c", "git-upload-pack 'r.git'"}) {
		t.Fatalf("command: %s %q %v", p, argv, err)
	}
	if server, err := SFTPServer(); err == nil {
		_, argv, _ = ShellArgs("/bin/sh", "internal-sftp -l INFO")
		if argv[2] != server+" -l INFO" {
			t.Fatalf("internal-sftp: %q", argv)
		}
	}
	_, argv, _ = ShellArgs("/bin/sh", "internal-sftpx")
	if argv[2] != "internal-sftpx" {
		t.Fatalf("a command named like internal-sftp was changed: %q", argv)
	}
}

func TestPasswdShell(t *testing.T) {
	pw := "root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:\nbob:x:1001:1001::/home/bob:/usr/bin/zsh\n"
	for uid, want := range map[string]string{"0": "/bin/bash", "1000": DefaultShell, "1001": "/usr/bin/zsh", "7": ""} {
		got, ok := passwdShell(bufio.NewScanner(strings.NewReader(pw)), uid)
		if got != want || ok != (want != "") {
			t.Errorf("uid %s: %q %v", uid, got, ok)
		}
	}
}

// FuzzParseConfig checks that any file either fails with an error naming
// it or yields a configuration within the documented limits.
func FuzzParseConfig(f *testing.F) {
	f.Add([]byte("server_url = \"https://a.example\"\napi_key_file = \"/k\"\n"))
	f.Add([]byte("server_url = \"x\"\napi_key_file = \"/k\"\nfailmode = \"safe\"\ntimeout = 600\nmode = \"choose\"\ngroups = [\"a\"]\n[users_map]\nroot = \"alice\"\n"))
	f.Add([]byte("[users_map]\n\"\" = \"\"\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		c, err := ParseConfig(data, "fuzz.toml")
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.toml") {
				t.Fatalf("error without the file's name: %v", err)
			}
			return
		}
		if c.ServerURL == "" || c.APIKeyFile == "" || (c.FailMode != FailSecure && c.FailMode != FailSafe) ||
			(c.Mode != ModeType && c.Mode != ModeChoose) || c.Timeout < MinTimeout || c.Timeout > MaxTimeout {
			t.Fatalf("accepted %+v", c)
		}
		for _, u := range c.UsersMap {
			if u == "" || len(u) > 128 {
				t.Fatalf("accepted users_map value %q", u)
			}
		}
	})
}
