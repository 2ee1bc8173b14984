//go:build linux

package main

import (
	"os"
	"syscall"
	"unsafe"
)

// isTTY reports whether f is a terminal (isatty: the TCGETS ioctl works on
// it). /dev/null, pipes and files are not, so cron jobs and scripts piping
// input are never prompted.
func isTTY(f *os.File) bool {
	var t syscall.Termios
	_, _, e := syscall.Syscall(syscall.SYS_IOCTL, f.Fd(), syscall.TCGETS, uintptr(unsafe.Pointer(&t)))
	return e == 0
}
