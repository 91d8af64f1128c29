//go:build unix

package gate

import (
	"bufio"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
)

// DefaultShell is used when the account names no shell, as login(1) does.
const DefaultShell = "/bin/sh"

// LoginShell is the login shell of the user with uid: from /etc/passwd, or
// from getent(1) for accounts in other databases (LDAP, ...).
func LoginShell(uid int) (string, error) {
	id := strconv.Itoa(uid)
	if f, err := os.Open("/etc/passwd"); err == nil {
		defer f.Close()
		if sh, ok := passwdShell(bufio.NewScanner(f), id); ok {
			return sh, nil
		}
	}
	out, err := exec.Command("getent", "passwd", id).Output()
	if err != nil {
		return "", fmt.Errorf("no account with user id %s: %w", id, err)
	}
	if sh, ok := passwdShell(bufio.NewScanner(strings.NewReader(string(out))), id); ok {
		return sh, nil
	}
	return "", fmt.Errorf("no account with user id %s", id)
}

// passwdShell finds the shell of uid in passwd(5) lines.
func passwdShell(sc *bufio.Scanner, uid string) (string, bool) {
	for sc.Scan() {
		f := strings.Split(sc.Text(), ":")
		if len(f) == 7 && f[2] == uid {
			if f[6] == "" {
				return DefaultShell, true
			}
			return f[6], true
		}
	}
	return "", false
}

// ShellArgs are the program and arguments that sshd itself would run: the
// shell as a login shell ("-bash") when there is no command, else the shell
// with -c and the command. The internal-sftp subsystem only exists inside
// sshd, so a request for it runs the sftp-server program instead.
func ShellArgs(shell, command string) (path string, argv []string, err error) {
	base := filepath.Base(shell)
	if command == "" {
		return shell, []string{"-" + base}, nil
	}
	if rest, ok := strings.CutPrefix(command, "internal-sftp"); ok && (rest == "" || rest[0] == ' ') {
		server, err := SFTPServer()
		if err != nil {
			return "", nil, err
		}
		command = server + rest
	}
	return shell, []string{base, "-c", command}, nil
}

// sftpServers are where distributions install OpenSSH's sftp-server.
var sftpServers = []string{"/usr/lib/openssh/sftp-server", "/usr/libexec/openssh/sftp-server", "/usr/libexec/sftp-server", "/usr/lib/ssh/sftp-server", "/usr/lib/sftp-server"}

// SFTPServer finds OpenSSH's sftp-server program.
func SFTPServer() (string, error) {
	for _, p := range sftpServers {
		if fi, err := os.Stat(p); err == nil && fi.Mode().IsRegular() {
			return p, nil
		}
	}
	return "", errors.New("the client asked for internal-sftp but no sftp-server program was found: set 'Subsystem sftp /usr/lib/openssh/sftp-server' in sshd_config")
}

// Exec replaces the gate with the user's session: the login shell, or the
// command through the shell, in the environment sshd set up (without
// SSH_ORIGINAL_COMMAND, as if there had been no ForceCommand). The TTY,
// the working folder and, since the process is replaced, the exit status
// are the session's own. It returns only on failure.
func Exec(shell, command string, environ []string) error {
	path, argv, err := ShellArgs(shell, command)
	if err != nil {
		return err
	}
	env := make([]string, 0, len(environ))
	for _, kv := range environ {
		if !strings.HasPrefix(kv, "SSH_ORIGINAL_COMMAND=") {
			env = append(env, kv)
		}
	}
	err = syscall.Exec(path, argv, env)
	return fmt.Errorf("run the shell %s: %w", shell, err)
}
