package luabind

import (
	"context"
	"fmt"

	lua "github.com/yuin/gopher-lua"
)

// MaxStringBytes bounds one string a script builds (concatenation, the
// string library, table.concat, json.encode, a log line): one call could
// otherwise allocate gigabytes before anything could stop it.
const MaxStringBytes = 64 << 20

// Memory is the host's account of the memory one script makes the host
// hold: its Lua values, what it is about to build, and what the host keeps
// for it on the Go side (log lines and results for the report, shared cache
// entries, rows being read). The host stops the script (status failed,
// "memory limit") when the total passes the script's limit. Bindings find
// it with MemoryOf.
type Memory interface {
	// Build is called on the state's goroutine before building n bytes
	// that become a Lua value (a string, an encoder's output). An error
	// means the script may not: the host has stopped it.
	Build(L *lua.LState, n int64) error
	// Keep charges n bytes the host keeps for the script until Release
	// (or the script's end). It may be called from any goroutine. An
	// error means the script is over its limit and has been stopped.
	Keep(n int64) error
	// Release returns bytes charged with Keep.
	Release(n int64)
	// KeepLine charges a log line of n bytes when the host keeps it for
	// the script's result (the first lines are kept, later ones only
	// shown).
	KeepLine(n int64) error
	// Thread registers a light thread of the script, so that its stack
	// counts; forget unregisters it once the thread has ended. Call both
	// on a goroutine that runs the script's Lua code.
	Thread(th *lua.LState) (forget func())
}

type memoryKey struct{}

// WithMemory returns ctx carrying m: the host gives a state this context,
// and MemoryOf finds m through the state.
func WithMemory(ctx context.Context, m Memory) context.Context {
	return context.WithValue(ctx, memoryKey{}, m)
}

// MemoryOf returns the memory account of the script running in L (its
// light threads and coroutines included), or one without a limit when the
// state has none (a state built outside the host).
func MemoryOf(L *lua.LState) Memory {
	if ctx := L.Context(); ctx != nil {
		if m, ok := ctx.Value(memoryKey{}).(Memory); ok {
			return m
		}
	}
	return unlimited{}
}

type unlimited struct{}

func (unlimited) Build(*lua.LState, int64) error     { return nil }
func (unlimited) Keep(int64) error                   { return nil }
func (unlimited) Release(int64)                      {}
func (unlimited) KeepLine(int64) error               { return nil }
func (unlimited) Thread(*lua.LState) (forget func()) { return func() {} }

// CheckBuild raises a Lua error unless the script may build a string of n
// bytes: n must fit MaxStringBytes and the script's memory limit. what
// names the operation in the message ("json.encode").
func CheckBuild(L *lua.LState, what string, n int64) {
	if n > MaxStringBytes || n < 0 {
		L.RaiseError("%s: result of %d bytes is over the limit of %d bytes for one string (memory limit)", what, n, MaxStringBytes)
	}
	if err := MemoryOf(L).Build(L, n); err != nil {
		L.RaiseError("%s: %v", what, err)
	}
}

// Holder is implemented by the Go values behind a module's userdata that
// keep Lua values alive (a light thread's results): the host's memory
// measurement walks them.
type Holder interface {
	HeldValues(yield func(lua.LValue))
}

// PlainSize estimates the bytes of v once converted to plain data and
// encoded (JSON, a report): every occurrence counts, so a 32 MiB string
// referenced 400 times counts 400 times, as it would be written. It stops
// counting soon after the total passes stopAt, so it is cheap on any value,
// cycles included.
func PlainSize(v lua.LValue, stopAt int64) int64 {
	p := &plainSizer{stopAt: stopAt}
	p.value(v, 0)
	return p.total
}

type plainSizer struct {
	total, stopAt int64
}

func (p *plainSizer) value(v lua.LValue, depth int) {
	if p.total > p.stopAt {
		return
	}
	switch x := v.(type) {
	case lua.LString:
		p.total += int64(len(x)) + 3
	case lua.LNumber:
		p.total += 8 // most numbers print shorter
	case *lua.LTable:
		if depth > 200 {
			return // a cycle: the conversion refuses it
		}
		p.total += 2
		x.ForEach(func(k, e lua.LValue) {
			if p.total > p.stopAt {
				return
			}
			p.total++
			if _, isNum := k.(lua.LNumber); !isNum {
				p.value(k, depth+1)
				p.total++
			}
			p.value(e, depth+1)
		})
	default:
		p.total += 5
	}
}

// MemoryFrom returns the account WithMemory put in ctx, or nil.
func MemoryFrom(ctx context.Context) Memory {
	m, _ := ctx.Value(memoryKey{}).(Memory)
	return m
}

// MaxLineBytes bounds the message of one log line (log.*, print): lines
// are kept for the report and shown on terminals, where a 32 MiB line
// helps nobody. The rest of a longer message is replaced by a note.
const MaxLineBytes = 1 << 20

// CutLine cuts msg to MaxLineBytes, saying how much was left out.
func CutLine(msg string) string {
	if len(msg) <= MaxLineBytes {
		return msg
	}
	return msg[:MaxLineBytes] + fmt.Sprintf("... (%d more bytes not logged)", len(msg)-MaxLineBytes)
}
