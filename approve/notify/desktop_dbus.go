//go:build linux || freebsd || openbsd || netbsd

package notify

import (
	"context"
	"fmt"
	"html"
	"slices"
	"sync"

	"github.com/godbus/dbus/v5"
)

const (
	fdoName  = "org.freedesktop.Notifications"
	fdoPath  = dbus.ObjectPath("/org/freedesktop/Notifications")
	urgentLv = byte(2) // critical: stays until closed
)

// FreeDesktop shows notifications through the freedesktop.org
// Notifications service on the D-Bus session bus (GNOME, KDE, dunst, mako,
// xfce4-notifyd...). It connects on first use and again after the bus or
// the service went away.
type FreeDesktop struct {
	// AppName is the application name sent with every notification.
	AppName string

	mu      sync.Mutex
	conn    *dbus.Conn
	markup  bool
	actions chan ID
	ours    map[uint32]bool
}

// Desktop returns the desktop's notifier.
func Desktop() Notifier {
	return &FreeDesktop{AppName: "Sesame", actions: make(chan ID, 16), ours: map[uint32]bool{}}
}

// Actions delivers the notifications whose "Answer" action was pressed.
func (f *FreeDesktop) Actions() <-chan ID { return f.actions }

// connect returns the bus connection, making it if needed. Caller holds mu.
func (f *FreeDesktop) connect(ctx context.Context) (*dbus.Conn, error) {
	if f.conn != nil && f.conn.Connected() {
		return f.conn, nil
	}
	// Not dbus.WithContext(ctx): that would close the connection, and lose
	// the action signals, when this one call's context ends.
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		return nil, fmt.Errorf("%w: no D-Bus session bus (%v)", ErrUnavailable, err)
	}
	obj := conn.Object(fdoName, fdoPath)
	var caps []string
	if err := obj.CallWithContext(ctx, fdoName+".GetCapabilities", 0).Store(&caps); err != nil {
		conn.Close()
		return nil, fmt.Errorf("%w: %s does not answer on the session bus (%v)", ErrUnavailable, fdoName, err)
	}
	f.markup = slices.Contains(caps, "body-markup")
	if err := conn.AddMatchSignal(dbus.WithMatchSender(fdoName), dbus.WithMatchObjectPath(fdoPath), dbus.WithMatchInterface(fdoName)); err != nil {
		conn.Close()
		return nil, fmt.Errorf("watch the notification service: %w", err)
	}
	sig := make(chan *dbus.Signal, 16)
	conn.Signal(sig)
	go f.signals(sig)
	f.conn = conn
	return conn, nil
}

// signals turns ActionInvoked into Actions and forgets closed notifications.
func (f *FreeDesktop) signals(sig <-chan *dbus.Signal) {
	for s := range sig {
		if len(s.Body) < 2 {
			continue
		}
		id, ok := s.Body[0].(uint32)
		if !ok {
			continue
		}
		switch s.Name {
		case fdoName + ".ActionInvoked":
			f.mu.Lock()
			ours := f.ours[id]
			f.mu.Unlock()
			if key, _ := s.Body[1].(string); ours && (key == "answer" || key == "default") {
				select {
				case f.actions <- ID(id):
				default:
				}
			}
		case fdoName + ".NotificationClosed":
			f.mu.Lock()
			delete(f.ours, id)
			f.mu.Unlock()
		}
	}
}

// Show sends Notify with urgency critical and no timeout: the caller closes
// the notification when its request is answered or expires.
func (f *FreeDesktop) Show(ctx context.Context, n Notification) (ID, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	conn, err := f.connect(ctx)
	if err != nil {
		return 0, err
	}
	body := n.Body
	if f.markup {
		body = html.EscapeString(body)
	}
	actions := []string{}
	if n.Action != "" {
		actions = []string{"default", n.Action, "answer", n.Action}
	}
	hints := map[string]dbus.Variant{"urgency": dbus.MakeVariant(urgentLv), "category": dbus.MakeVariant("im.received")}
	var id uint32
	err = conn.Object(fdoName, fdoPath).CallWithContext(ctx, fdoName+".Notify", 0,
		f.AppName, uint32(n.Replaces), "dialog-password", n.Title, body, actions, hints, int32(0)).Store(&id)
	if err != nil {
		conn.Close()
		return 0, fmt.Errorf("%w: Notify failed (%v)", ErrUnavailable, err)
	}
	f.ours[id] = true
	return ID(id), nil
}

// Close withdraws the notification.
func (f *FreeDesktop) Close(ctx context.Context, id ID) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.ours, uint32(id))
	conn, err := f.connect(ctx)
	if err != nil {
		return err
	}
	return conn.Object(fdoName, fdoPath).CallWithContext(ctx, fdoName+".CloseNotification", 0, uint32(id)).Err
}
