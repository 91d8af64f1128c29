//go:build unix

package gate

import (
	"context"
	"errors"

	"golang.org/x/sys/unix"
)

// WatchHangup calls hangup once when the reading end of one of fds goes away,
// which is how a gate without a TTY (ssh host command, scp, git) learns that
// the SSH connection dropped: sshd closes the session's pipes (with a TTY,
// the kernel sends SIGHUP instead). It returns when ctx is done.
func WatchHangup(ctx context.Context, hangup func(), fds ...int) {
	pfds := make([]unix.PollFd, len(fds))
	for i, fd := range fds {
		// No events asked for: poll still reports POLLHUP and POLLERR.
		pfds[i] = unix.PollFd{Fd: int32(fd)}
	}
	for ctx.Err() == nil {
		_, err := unix.Poll(pfds, 250)
		if err != nil && !errors.Is(err, unix.EINTR) {
			return
		}
		open := 0
		for i, p := range pfds {
			switch {
			case p.Revents&(unix.POLLHUP|unix.POLLERR) != 0:
				hangup()
				return
			case p.Revents&unix.POLLNVAL != 0:
				pfds[i].Fd = -1 // not open: poll ignores negative descriptors
			}
			if pfds[i].Fd >= 0 {
				open++
			}
		}
		if open == 0 {
			return
		}
	}
}
