//go:build linux

// Command sesame-gate puts a Sesame approval in front of SSH logins and sudo
// on a server, like Duo Unix's login_duo and pam_duo: as an sshd
// ForceCommand it runs the user's shell or command only after they typed
// the number it shows into Sesame; with --pam it does the same for
// pam_exec.so. The work is done by package approve/gate.
//
// It is a separate program from sesame so that what runs on servers, often
// with a group that can read the API key, links no vault, keyring or
// terminal UI code.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"log/syslog"
	"os"
	"os/signal"
	"os/user"
	"syscall"

	"github.com/sesame-auth/sesame/approve/gate"
	"github.com/sesame-auth/sesame/approve/rp"
	"github.com/sesame-auth/sesame/cmd/internal/version"
)

const usage = `Usage:
  sesame-gate [--config FILE]          as sshd's ForceCommand
  sesame-gate --pam [--config FILE]    from pam_exec.so (auth stack)

Asks the Sesame approval server for a sign-in, shows "type NN in Sesame",
and lets the login go on only when the user typed that number in Sesame.
Set-up: docs/ssh.md. Configuration: /etc/sesame/gate.toml by default.
`

func main() {
	os.Exit(run(os.Args[1:]))
}

func run(args []string) int {
	// Installed setgid so that only it can read the API key: the caller
	// must not steer where TLS trust comes from.
	privileged := os.Getuid() != os.Geteuid() || os.Getgid() != os.Getegid()
	if privileged {
		os.Unsetenv("SSL_CERT_FILE")
		os.Unsetenv("SSL_CERT_DIR")
	}
	fs := flag.NewFlagSet("sesame-gate", flag.ContinueOnError)
	fs.SetOutput(os.Stderr)
	fs.Usage = func() { fmt.Fprint(os.Stderr, usage) }
	config := fs.String("config", gate.DefaultConfigPath, "configuration file")
	pam := fs.Bool("pam", false, "run for pam_exec.so: read PAM_USER, PAM_RHOST, PAM_SERVICE, PAM_TYPE")
	showVersion := fs.Bool("version", false, "print the version")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "sesame-gate: unexpected argument %q: the command comes from SSH_ORIGINAL_COMMAND\n", fs.Arg(0))
		return 2
	}
	if *showVersion {
		fmt.Println("sesame-gate", version.String())
		return 0
	}
	log := logger()
	fail := func(err error) int {
		fmt.Fprintf(os.Stderr, "sesame-gate: %v\n", err)
		log.Error("login refused: the gate cannot run", "err", err)
		return 1
	}
	if *pam && os.Getuid() != 0 {
		return fail(errors.New("--pam runs only as root, from pam_exec.so with the seteuid option"))
	}
	cfg, err := gate.LoadConfig(*config, privileged)
	if err != nil {
		return fail(err)
	}
	key, err := gate.ReadAPIKey(cfg.APIKeyFile, privileged)
	if err != nil {
		return fail(err)
	}
	// The key is read: nothing else needs the gate's group, least of all the shell.
	if err := dropPrivileges(); err != nil {
		return fail(err)
	}
	client, err := rp.New(cfg.ServerURL, key, nil)
	if err != nil {
		return fail(fmt.Errorf("server_url: %w", err))
	}
	host, _ := os.Hostname()
	var login gate.Login
	if *pam {
		if login, err = gate.PAMLogin(os.Getenv, host); err != nil {
			return fail(err)
		}
	} else {
		u, err := user.LookupId(fmt.Sprint(os.Getuid()))
		if err != nil {
			return fail(fmt.Errorf("who is logging in: %w", err))
		}
		login = gate.SSHLogin(os.Getenv, u.Username, host)
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	defer stop()
	// A write to a dropped connection must fail, not kill the gate before
	// it withdraws the sign-in.
	signal.Ignore(syscall.SIGPIPE)
	out := io.Writer(os.Stderr)
	if *pam {
		out = os.Stdout // pam_exec's stdout option turns lines into PAM messages
	} else {
		ctx2, cancel := context.WithCancel(ctx)
		ctx = ctx2
		go gate.WatchHangup(ctx, cancel, 1, 2)
	}
	g := &gate.Gate{Config: cfg, Server: client, Out: out, Log: log, Groups: groupNames}
	res := g.Check(ctx, login)
	if !res.Allowed() {
		return 1
	}
	if *pam {
		return 0
	}
	stop()
	signal.Reset(syscall.SIGPIPE)
	shell, err := gate.LoginShell(os.Getuid())
	if err != nil {
		return fail(err)
	}
	return fail(gate.Exec(shell, login.Command, os.Environ()))
}

// dropPrivileges sets the effective and saved ids to the real ones.
func dropPrivileges() error {
	gid, uid := os.Getgid(), os.Getuid()
	if err := syscall.Setresgid(gid, gid, gid); err != nil {
		return fmt.Errorf("drop the gate's group: %w", err)
	}
	if err := syscall.Setresuid(uid, uid, uid); err != nil {
		return fmt.Errorf("drop the gate's user: %w", err)
	}
	return nil
}

// groupNames lists the names of a login's groups.
func groupNames(login string) ([]string, error) {
	u, err := user.Lookup(login)
	if err != nil {
		return nil, err
	}
	ids, err := u.GroupIds()
	if err != nil {
		return nil, err
	}
	names := make([]string, 0, len(ids))
	for _, id := range ids {
		if g, err := user.LookupGroupId(id); err == nil {
			names = append(names, g.Name)
		}
	}
	return names, nil
}

// logger writes to syslog (auth facility, journald on systemd machines), or
// to stderr where there is no syslog.
func logger() *slog.Logger {
	w, err := syslog.New(syslog.LOG_AUTHPRIV|syslog.LOG_INFO, "sesame-gate")
	if err != nil {
		return slog.New(slog.NewTextHandler(os.Stderr, nil))
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{
		ReplaceAttr: func(groups []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey && len(groups) == 0 {
				return slog.Attr{} // syslog stamps the time
			}
			return a
		},
	}))
}
