package host

import (
	lua "github.com/yuin/gopher-lua"
)

// MaxDateFormat caps the format string of os.date, and MaxDateOutput what
// it returns. gopher-lua's os.date expands each directive (%c is 24 bytes)
// with no limit: an 8 MB format made a 76 MB string, out of the memory
// limit's sight. A format of 1 KiB is far more than any date needs, and
// its output stays under 16 KiB.
const (
	MaxDateFormat = 1 << 10
	MaxDateOutput = 64 << 10
)

// cappedDate is the sandbox's os.date (see buildLibraries): gopher-lua's,
// refusing a format longer than MaxDateFormat before it runs and an output
// longer than MaxDateOutput after.
func cappedDate(date lua.LGFunction) lua.LGFunction {
	return func(L *lua.LState) int {
		if f, ok := L.Get(1).(lua.LString); ok && len(f) > MaxDateFormat {
			L.ArgError(1, "format too long: "+FormatSize(int64(len(f)))+", os.date takes at most "+FormatSize(MaxDateFormat))
		}
		n := date(L)
		if s, ok := L.Get(-1).(lua.LString); ok && n == 1 && len(s) > MaxDateOutput {
			L.RaiseError("os.date: the result would be %s, more than the %s allowed", FormatSize(int64(len(s))), FormatSize(MaxDateOutput))
		}
		return n
	}
}
