package clipboard

import (
	"io"
	"os"
	"os/exec"
	"runtime"
	"strings"
	"sync"
)

// Env is what Detect looks at. The zero value of each field means "the real
// one": the process environment, $PATH, the running OS.
type Env struct {
	Getenv   func(string) string
	LookPath func(string) (string, error)
	GOOS     string
	// Terminal receives OSC 52 sequences; without it OSC 52 is not used.
	Terminal io.Writer
	// TerminalMu, if set, serialises OSC 52 writes with other writers of Terminal.
	TerminalMu *sync.Mutex
	// Run runs tmux inside tmux; nil runs the real one.
	Run Runner
}

// Detect picks how to reach the user's clipboard:
//
//   - over SSH (SSH_TTY, SSH_CONNECTION or SSH_CLIENT set) the system
//     clipboard belongs to the remote machine, so only OSC 52 is used;
//   - otherwise the system clipboard (wl-copy on Wayland, xclip then xsel on
//     X11, pbcopy on macOS, clip.exe on Windows and WSL), falling back to
//     OSC 52 when no helper works;
//   - with neither a display (DISPLAY, WAYLAND_DISPLAY) nor a terminal,
//     NoDisplay, whose error says so rather than suggest installing xclip;
//   - inside tmux or screen, whose session may be attached from another
//     machine whatever the environment says, the code goes to both the
//     system clipboard and the terminal's: inside tmux through
//     `tmux load-buffer -w` (see Tmux), falling back to OSC 52.
func Detect(e Env) Clipboard {
	getenv := e.Getenv
	if getenv == nil {
		getenv = os.Getenv
	}
	lookPath := e.LookPath
	if lookPath == nil {
		lookPath = exec.LookPath
	}
	goos := e.GOOS
	if goos == "" {
		goos = runtime.GOOS
	}
	var osc Clipboard
	tmux := getenv("TMUX") != ""
	if e.Terminal != nil {
		screen := !tmux && (getenv("STY") != "" || strings.HasPrefix(getenv("TERM"), "screen"))
		osc = OSC52{W: e.Terminal, Mu: e.TerminalMu, Tmux: tmux, Screen: screen}
	}
	if _, err := lookPath("tmux"); tmux && err == nil {
		// With tmux's stock options a program's own OSC 52 never leaves
		// tmux: ask tmux to copy, and keep OSC 52 for when that fails.
		if osc == nil {
			osc = Tmux{Run: e.Run}
		} else {
			osc = Fallback{Tmux{Run: e.Run}, osc}
		}
	}
	ssh := getenv("SSH_TTY") != "" || getenv("SSH_CONNECTION") != "" || getenv("SSH_CLIENT") != ""
	if ssh {
		if osc == nil {
			return Fallback(nil)
		}
		return osc
	}
	var system Fallback
	for _, c := range systemHelpers(goos, getenv) {
		if _, err := lookPath(c.CopyArgs[0]); err == nil {
			system = append(system, c)
		}
	}
	switch {
	case osc == nil && len(system) == 0 && goos != "darwin" && goos != "windows" &&
		getenv("DISPLAY") == "" && getenv("WAYLAND_DISPLAY") == "" && getenv("WSL_DISTRO_NAME") == "":
		return NoDisplay{}
	case osc == nil:
		return system
	case len(system) == 0:
		return osc
	case getenv("TMUX") != "" || getenv("STY") != "":
		return Both{system, osc}
	}
	return append(system, osc)
}

func systemHelpers(goos string, getenv func(string) string) []Command {
	switch goos {
	case "darwin":
		return []Command{Pbcopy}
	case "windows":
		return []Command{ClipExe}
	}
	var cs []Command
	if getenv("WAYLAND_DISPLAY") != "" {
		cs = append(cs, WlCopy)
	}
	if getenv("DISPLAY") != "" {
		cs = append(cs, Xclip, Xsel)
	}
	if getenv("WSL_DISTRO_NAME") != "" {
		cs = append(cs, ClipExe)
	}
	return cs
}
