//go:build linux

package live

import (
	"io"
	"os"
	"syscall"
	"unsafe"
)

// TerminalWidth says whether w is a terminal and how many columns it has
// (0 when unknown). It asks the kernel with the TCGETS and TIOCGWINSZ
// ioctls rather than adding golang.org/x/term for two system calls.
func TerminalWidth(w io.Writer) (cols int, ok bool) {
	f, isFile := w.(*os.File)
	if !isFile {
		return 0, false
	}
	var t syscall.Termios
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), syscall.TCGETS, uintptr(unsafe.Pointer(&t))); e != 0 {
		return 0, false
	}
	var ws struct{ Row, Col, X, Y uint16 }
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), syscall.TIOCGWINSZ, uintptr(unsafe.Pointer(&ws))); e != 0 {
		return 0, true
	}
	return int(ws.Col), true
}
