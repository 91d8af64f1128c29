//go:build unix

package gate

import (
	"errors"
	"fmt"
	"strings"
)

// SSHLogin describes a login that sshd handed to the gate as its
// ForceCommand: the client's address from SSH_CONNECTION and the command
// asked for from SSH_ORIGINAL_COMMAND. user is the login name (from the
// process's user id, never from the environment).
func SSHLogin(getenv func(string) string, user, host string) Login {
	ip, _, _ := strings.Cut(getenv("SSH_CONNECTION"), " ")
	return Login{User: user, Host: host, IP: clip(ip, 64), Service: "ssh", Command: getenv("SSH_ORIGINAL_COMMAND")}
}

// PAMLogin describes the login that pam_exec runs the gate for, from
// PAM_USER, PAM_RHOST, PAM_SERVICE and PAM_TYPE. Only the auth and account
// stacks are gated.
func PAMLogin(getenv func(string) string, host string) (Login, error) {
	switch t := getenv("PAM_TYPE"); t {
	case "auth", "account":
	case "":
		return Login{}, errors.New("PAM_TYPE is not set: --pam is for pam_exec.so")
	default:
		return Login{}, fmt.Errorf("PAM_TYPE is %q: put pam_exec.so with the gate in the auth (or account) stack only", clip(t, 40))
	}
	user := getenv("PAM_USER")
	if user == "" {
		return Login{}, errors.New("PAM_USER is not set: --pam is for pam_exec.so")
	}
	service := getenv("PAM_SERVICE")
	if service == "" {
		service = "pam"
	}
	return Login{User: user, Host: host, IP: clip(getenv("PAM_RHOST"), 64), Service: clip(service, 64)}, nil
}
