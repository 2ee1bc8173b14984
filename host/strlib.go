package host

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unsafe"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/pm"

	"github.com/etlhost/etlhost/luabind"
	"github.com/etlhost/etlhost/luabind/luaconv"
)

// Caps on what one string function call may build. gopher-lua's own
// implementations hand sizes and formats straight to Go, and a Lua context
// check never runs inside a builtin, so a single call could otherwise
// allocate gigabytes or run for minutes past a deadline.
const (
	MaxStringBytes = luabind.MaxStringBytes // string.rep, table.concat, gsub, `..` results
	maxFormatWidth = 99                     // Lua's own limit on widths and precisions
	// Patterns on subjects longer than this run on a helper goroutine so the
	// call can return at the script's deadline: Lua patterns backtrack, and
	// a bad one on a long subject runs for minutes. Shorter subjects run
	// inline (the common case: a field of a row).
	inlinePatternBytes = 256
)

// installPatternFuncs replaces the pattern functions with ones that stop
// waiting at the script's deadline (see patternFuncs); they hold the
// script's context, so each state has its own.
func installPatternFuncs(L *lua.LState, strmod *lua.LTable, ctx context.Context) {
	set := func(name string, fn lua.LGFunction) { strmod.RawSetString(name, L.NewFunction(fn)) }
	pf := patternFuncs{ctx: ctx}
	set("find", pf.find)
	set("match", pf.match)
	set("gsub", pf.gsub)
	gm := L.NewFunction(pf.gmatch)
	strmod.RawSetString("gmatch", gm)
	strmod.RawSetString("gfind", gm)
}

// Numbers where the string library wants a string.
//
// gopher-lua's L.CheckString turns a number into text with LNumber.String
// (fmt.Sprint: 1.2345675e+06); Lua 5.1 writes it with "%.14g" (1234567.5).
// etlhost's own string functions read their string arguments with
// checkString and optString, and the functions kept from gopher-lua get
// their number arguments converted first (stringArgs), so that
// string.len(1e15) is 5, as #tostring(1e15) is.

// checkString is L.CheckString with numbers written as Lua writes them.
func checkString(L *lua.LState, n int) string {
	if s, ok := luaconv.ToString(L.Get(n)); ok {
		return s
	}
	return L.CheckString(n) // raises the argument error
}

// optString is checkString with a default for nil or no value (Lua's
// luaL_optstring, which takes numbers too).
func optString(L *lua.LState, n int, d string) string {
	if L.Get(n) == lua.LNil {
		return d
	}
	return checkString(L, n)
}

// stringArgs wraps a gopher-lua string function whose string arguments are
// the first n: a number there is replaced by its text before the function
// reads it.
func stringArgs(n int, fn lua.LGFunction) lua.LGFunction {
	return func(L *lua.LState) int {
		for i := 1; i <= n && i <= L.GetTop(); i++ {
			if num, ok := L.Get(i).(lua.LNumber); ok {
				L.Replace(i, lua.LString(luaconv.NumberString(num)))
			}
		}
		return fn(L)
	}
}

// valueString is the text of a string or number (a capture, a
// replacement): LVAsString with numbers written as Lua writes them.
func valueString(v lua.LValue) string {
	s, _ := luaconv.ToString(v)
	return s
}

func strRep(L *lua.LState) int {
	s := checkString(L, 1)
	n := L.CheckInt(2)
	sep := optString(L, 3, "")
	if n <= 0 {
		L.Push(lua.LString(""))
		return 1
	}
	unit := len(s) + len(sep)
	if unit > 0 && n > MaxStringBytes/unit {
		L.RaiseError("string.rep: result of %d x %d bytes is over the limit of %d bytes for one string (memory limit)", n, unit, MaxStringBytes)
	}
	luabind.CheckBuild(L, "string.rep", int64(n)*int64(unit))
	if sep == "" {
		L.Push(lua.LString(strings.Repeat(s, n)))
		return 1
	}
	var b strings.Builder
	b.Grow(n * unit)
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(sep)
		}
		b.WriteString(s)
	}
	L.Push(lua.LString(b.String()))
	return 1
}

// strFormat implements Lua 5.1's string.format: only Lua's conversions
// (%d %i %u %c %o %x %X %e %E %f %g %G %q %s %a %A %%), flags "-+ #0",
// widths and precisions of at most two digits. Go's own verbs (%v %T %p)
// would print host types and pointers.
func strFormat(L *lua.LState) int {
	f := checkString(L, 1)
	var b strings.Builder
	arg := 2
	for i := 0; i < len(f); i++ {
		c := f[i]
		if c != '%' {
			b.WriteByte(c)
			continue
		}
		i++
		if i >= len(f) {
			L.RaiseError("invalid option '%%' at the end of the format string")
		}
		if f[i] == '%' {
			b.WriteByte('%')
			continue
		}
		start := i
		for i < len(f) && strings.IndexByte("-+ #0", f[i]) >= 0 {
			i++
		}
		if i-start > 5 {
			L.RaiseError("invalid format (repeated flags)")
		}
		digits := func() {
			n := 0
			for i < len(f) && f[i] >= '0' && f[i] <= '9' {
				i++
				n++
			}
			if n > 2 {
				L.RaiseError("invalid format (width or precision over %d)", maxFormatWidth)
			}
		}
		digits()
		if i < len(f) && f[i] == '.' {
			i++
			digits()
		}
		if i >= len(f) {
			L.RaiseError("invalid format string %q", f)
		}
		spec := "%" + f[start:i]
		verb := f[i]
		if arg > L.GetTop() {
			L.ArgError(arg, "no value")
		}
		v := L.Get(arg)
		switch verb {
		case 'd', 'i':
			b.WriteString(fmt.Sprintf(spec+"d", int64(L.CheckNumber(arg))))
		case 'u':
			b.WriteString(fmt.Sprintf(spec+"d", uint64(int64(L.CheckNumber(arg)))))
		case 'c':
			b.WriteByte(byte(L.CheckInt(arg)))
		case 'o', 'x', 'X':
			b.WriteString(fmt.Sprintf(spec+string(verb), int64(L.CheckNumber(arg))))
		case 'e', 'E', 'f', 'g', 'G':
			b.WriteString(formatFloat(spec, verb, float64(L.CheckNumber(arg))))
		case 'a', 'A':
			s := strconv.FormatFloat(float64(L.CheckNumber(arg)), 'x', -1, 64)
			if verb == 'A' {
				s = strings.ToUpper(s)
			}
			b.WriteString(s)
		case 'q':
			q := checkString(L, arg)
			if int64(b.Len())+2*int64(len(q))+2 > MaxStringBytes {
				L.RaiseError("string.format: result over the limit of %d bytes for one string (memory limit)", MaxStringBytes)
			}
			b.WriteString(luaQuote(q))
		case 's':
			s := toStringMeta(L, v).String()
			if b.Len()+len(s) > MaxStringBytes {
				L.RaiseError("string.format: result over the limit of %d bytes for one string (memory limit)", MaxStringBytes)
			}
			b.WriteString(fmt.Sprintf(spec+"s", s))
		default:
			L.RaiseError("invalid option '%%%c' to 'format'", verb)
		}
		arg++
		if b.Len() > MaxStringBytes {
			L.RaiseError("string.format: result over the limit of %d bytes for one string (memory limit)", MaxStringBytes)
		}
	}
	if b.Len() >= concatSmall {
		luabind.CheckBuild(L, "string.format", int64(b.Len()))
	}
	L.Push(lua.LString(b.String()))
	return 1
}

// formatFloat is C's printf of f with the conversion spec+verb (%e %E %f
// %g %G with their flags, width and precision), where Go's fmt differs:
// %g with no precision is %.6g in C (Go writes the shortest exact form),
// and infinities and NaN are inf, -inf and nan (INF, NAN for %E and %G),
// padded with spaces, never zeros (Go writes +Inf and NaN).
func formatFloat(spec string, verb byte, f float64) string {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		s := "inf"
		if math.IsNaN(f) {
			s = "nan"
		}
		flags := strings.TrimLeft(spec[1:], "-+ #0")
		width, _, _ := strings.Cut(flags, ".")
		switch {
		case f < 0:
			s = "-" + s
		case strings.Contains(spec, "+"):
			s = "+" + s
		case strings.Contains(spec, " "):
			s = " " + s
		}
		if verb == 'E' || verb == 'G' {
			s = strings.ToUpper(s)
		}
		if strings.Contains(spec, "-") {
			return fmt.Sprintf("%-"+width+"s", s)
		}
		return fmt.Sprintf("%"+width+"s", s)
	}
	if (verb == 'g' || verb == 'G') && !strings.Contains(spec, ".") {
		spec += ".6"
	}
	return fmt.Sprintf(spec+string(verb), f)
}

// luaQuote quotes like Lua's %q: a string Lua reads back to the same bytes.
func luaQuote(s string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"', '\\':
			b.WriteByte('\\')
			b.WriteByte(c)
		case '\n':
			b.WriteString("\\n")
		case '\r':
			b.WriteString("\\r")
		case 0:
			b.WriteString("\\000")
		default:
			b.WriteByte(c)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// patternFuncs are string.find/match/gmatch/gsub on gopher-lua's pattern
// engine, with matching of long subjects moved off the state's goroutine so
// that it stops waiting at the script's deadline (the abandoned match ends
// on its own; strings are immutable, so it shares nothing mutable).
type patternFuncs struct {
	ctx context.Context
}

// patternBatch is how many matches gmatch and gsub ask the engine for at
// once: pm.Find returns every match of a subject together, and the empty
// pattern on a 64 MiB string has 64M of them (gigabytes of match data).
const patternBatch = 1024

// bytesOf is a read-only view of s: the pattern engine only reads its
// subject, and a copy of a 64 MiB subject per call adds up.
func bytesOf(s string) []byte { return unsafe.Slice(unsafe.StringData(s), len(s)) }

// nextStart is where pm.Find goes on after md, as its own loop does.
func nextStart(md *pm.MatchData) int { return max(int(md.Capture(0))+1, int(md.Capture(1))) }

func (p patternFuncs) run(L *lua.LState, pattern, subject string, init, limit int) []*pm.MatchData {
	if init > len(subject) {
		return nil
	}
	if len(subject) <= inlinePatternBytes {
		mds, err := pm.Find(pattern, bytesOf(subject), init, limit)
		if err != nil {
			L.RaiseError("malformed pattern %q: %s", pattern, err.Error())
		}
		return mds
	}
	type result struct {
		mds []*pm.MatchData
		err error
	}
	ch := make(chan result, 1)
	go func() {
		defer func() {
			if r := recover(); r != nil {
				ch <- result{err: fmt.Errorf("pattern error: %v", r)}
			}
		}()
		mds, err := pm.Find(pattern, bytesOf(subject), init, limit)
		if err != nil {
			err = fmt.Errorf("malformed pattern %q: %w", pattern, err)
		}
		ch <- result{mds, err}
	}()
	select {
	case r := <-ch:
		if r.err != nil {
			L.RaiseError("%s", r.err.Error())
		}
		return r.mds
	case <-p.ctx.Done():
		L.RaiseError("pattern matching stopped: %v", context.Cause(p.ctx))
		return nil
	}
}

func startIndex(s string, i int) int {
	if i < 0 {
		i = len(s) + i + 1
	}
	if i < 1 {
		i = 1
	}
	if i > len(s)+1 {
		i = len(s) + 1
	}
	return i - 1
}

func pushCaptures(L *lua.LState, s string, md *pm.MatchData, wholeIfNone bool) int {
	n := md.CaptureLength()
	if n == 2 {
		if wholeIfNone {
			L.Push(lua.LString(s[md.Capture(0):md.Capture(1)]))
			return 1
		}
		return 0
	}
	for i := 2; i < n; i += 2 {
		if md.IsPosCapture(i) {
			L.Push(lua.LNumber(md.Capture(i)))
		} else {
			L.Push(lua.LString(s[md.Capture(i):md.Capture(i+1)]))
		}
	}
	return n/2 - 1
}

func (p patternFuncs) find(L *lua.LState) int {
	s := checkString(L, 1)
	pat := checkString(L, 2)
	init := startIndex(s, L.OptInt(3, 1))
	if init > len(s) && len(s) > 0 {
		L.Push(lua.LNil)
		return 1
	}
	if lua.LVAsBool(L.Get(4)) || !strings.ContainsAny(pat, "^$*+?.([%-") {
		pos := strings.Index(s[init:], pat)
		if pos < 0 {
			L.Push(lua.LNil)
			return 1
		}
		L.Push(lua.LNumber(init + pos + 1))
		L.Push(lua.LNumber(init + pos + len(pat)))
		return 2
	}
	mds := p.run(L, pat, s, init, 1)
	if len(mds) == 0 {
		L.Push(lua.LNil)
		return 1
	}
	md := mds[0]
	L.Push(lua.LNumber(md.Capture(0) + 1))
	L.Push(lua.LNumber(md.Capture(1)))
	return 2 + pushCaptures(L, s, md, false)
}

func (p patternFuncs) match(L *lua.LState) int {
	s := checkString(L, 1)
	pat := checkString(L, 2)
	init := startIndex(s, L.OptInt(3, 1))
	mds := p.run(L, pat, s, init, 1)
	if len(mds) == 0 {
		L.Push(lua.LNil)
		return 1
	}
	return pushCaptures(L, s, mds[0], true)
}

// gmatch finds matches a batch at a time, as the loop asks for them.
func (p patternFuncs) gmatch(L *lua.LState) int {
	s := checkString(L, 1)
	pat := checkString(L, 2)
	anchored := strings.HasPrefix(pat, "^")
	var mds []*pm.MatchData
	i, next, done := 0, 0, false
	L.Push(L.NewFunction(func(L *lua.LState) int {
		if i >= len(mds) {
			if done {
				return 0
			}
			mds, i = p.run(L, pat, s, next, patternBatch), 0
			if len(mds) < patternBatch || anchored {
				done = true
			}
			if len(mds) == 0 {
				return 0
			}
			next = nextStart(mds[len(mds)-1])
		}
		md := mds[i]
		i++
		return pushCaptures(L, s, md, true)
	}))
	return 1
}

func (p patternFuncs) gsub(L *lua.LState) int {
	s := checkString(L, 1)
	pat := checkString(L, 2)
	L.CheckTypes(3, lua.LTString, lua.LTNumber, lua.LTTable, lua.LTFunction)
	repl := L.Get(3)
	limit := L.OptInt(4, -1)
	anchored := strings.HasPrefix(pat, "^")
	var b strings.Builder
	last, count := 0, 0
	tooLong := func(more int) {
		if int64(b.Len())+int64(more) > MaxStringBytes {
			L.RaiseError("string.gsub: result over the limit of %d bytes for one string (memory limit)", MaxStringBytes)
		}
	}
	for next := 0; limit < 0 || count < limit; {
		batch := patternBatch
		if limit >= 0 {
			batch = min(batch, limit-count)
		}
		mds := p.run(L, pat, s, next, batch)
		for _, md := range mds {
			p.gsubOne(L, s, md, repl, &b, last, tooLong)
			last = int(md.Capture(1))
		}
		count += len(mds)
		if len(mds) < batch || anchored || len(mds) == 0 {
			break
		}
		next = nextStart(mds[len(mds)-1])
	}
	tooLong(len(s) - last)
	if int64(b.Len()+len(s)-last) >= concatSmall {
		luabind.CheckBuild(L, "string.gsub", int64(b.Len()+len(s)-last))
	}
	b.WriteString(s[last:])
	L.Push(lua.LString(b.String()))
	L.Push(lua.LNumber(count))
	return 2
}

// gsubOne writes the subject up to md and md's replacement, each checked
// against the limit of one string before it is written.
func (p patternFuncs) gsubOne(L *lua.LState, s string, md *pm.MatchData, repl lua.LValue, b *strings.Builder, last int, tooLong func(int)) {
	capture := func(idx int) lua.LValue {
		if md.CaptureLength() == 2 && idx == 2 {
			idx = 0 // %1 with no captures is the whole match
		}
		if idx >= md.CaptureLength() {
			L.RaiseError("invalid capture index %%%d", idx/2)
		}
		if md.IsPosCapture(idx) {
			return lua.LNumber(md.Capture(idx))
		}
		return lua.LString(s[md.Capture(idx):md.Capture(idx+1)])
	}
	start, end := int(md.Capture(0)), int(md.Capture(1))
	tooLong(start - last)
	b.WriteString(s[last:start])
	whole := s[start:end]
	var out lua.LValue
	switch r := repl.(type) {
	case lua.LString, lua.LNumber:
		rs := valueString(r)
		if strings.IndexByte(rs, '%') < 0 {
			out = r
			break
		}
		// Size the replacement before building it: "%0%0%0" of a huge
		// match would otherwise grow past any cap first.
		size := 0
		for i := 0; i < len(rs); i++ {
			c := rs[i]
			if c != '%' || i+1 >= len(rs) {
				size++
				continue
			}
			i++
			d := rs[i]
			switch {
			case d == '0':
				size += len(whole)
			case d >= '1' && d <= '9':
				size += len(valueString(capture(2 * int(d-'0'))))
			default:
				size++
			}
		}
		tooLong(size)
		var rb strings.Builder
		rb.Grow(size)
		for i := 0; i < len(rs); i++ {
			c := rs[i]
			if c != '%' || i+1 >= len(rs) {
				rb.WriteByte(c)
				continue
			}
			i++
			d := rs[i]
			switch {
			case d == '0':
				rb.WriteString(whole)
			case d >= '1' && d <= '9':
				rb.WriteString(valueString(capture(2 * int(d-'0'))))
			default:
				rb.WriteByte(d)
			}
		}
		out = lua.LString(rb.String())
	case *lua.LTable:
		out = L.GetTable(r, capture(2))
	case *lua.LFunction:
		L.Push(r)
		n := 0
		if md.CaptureLength() == 2 {
			L.Push(lua.LString(whole))
			n = 1
		} else {
			for i := 2; i < md.CaptureLength(); i += 2 {
				L.Push(capture(i))
				n++
			}
		}
		L.Call(n, 1)
		out = L.Get(-1)
		L.Pop(1)
	}
	switch o := out.(type) {
	case *lua.LNilType:
		tooLong(len(whole))
		b.WriteString(whole)
	case lua.LBool:
		if o {
			L.RaiseError("invalid replacement value (a boolean)")
		}
		tooLong(len(whole))
		b.WriteString(whole)
	case lua.LString, lua.LNumber:
		str := valueString(o)
		tooLong(len(str))
		b.WriteString(str)
	default:
		L.RaiseError("invalid replacement value (a %s)", out.Type())
	}
}
