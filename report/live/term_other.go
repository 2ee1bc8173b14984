//go:build !linux

package live

import "io"

// TerminalWidth reports no terminal outside Linux: etlhost prints its plain
// timestamped lines there.
func TerminalWidth(io.Writer) (int, bool) { return 0, false }
