//go:build !linux

package main

import "io"

// terminalWidth reports no terminal outside Linux: etlhost prints its plain
// timestamped lines there.
func terminalWidth(io.Writer) (int, bool) { return 0, false }
