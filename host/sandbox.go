package host

import (
	"context"
	"fmt"
	"hash/maphash"
	"reflect"
	"sort"
	"strings"

	lua "github.com/yuin/gopher-lua"

	"github.com/etlhost/etlhost/luabind"
	"github.com/etlhost/etlhost/luabind/luaconv"
)

// Limits of one script's state.
const (
	// CallStackSize bounds Lua call depth (Go frames count too), per coroutine.
	CallStackSize = 200
	// MaxCoroutines bounds the coroutines one script may create.
	MaxCoroutines = 1000
	// MaxArrayIndex bounds the array part of every table. A store far past
	// the end of an array (t[67108863] = true) makes gopher-lua fill the gap
	// in one instruction, which no deadline can interrupt; with this bound
	// the worst gap costs 16M slots. Higher integer keys still work (they go
	// to the hash part); `#t` only counts the array part, so arrays longer
	// than this are not supported.
	MaxArrayIndex = 1 << 24
	// MaxStackValues bounds a state's value stack (gopher-lua's registry):
	// its growth copies the whole stack each step, so a far larger bound
	// makes one unpack of millions of values run for seconds inside Go.
	MaxStackValues = 128 * 1024
)

func init() {
	// Process-wide: gopher-lua reads this package variable on every store.
	lua.MaxArrayIndex = MaxArrayIndex
}

// allowedGlobals is the allow-list of the base library. Anything else that
// gopher-lua's base library defines (dofile, loadfile, load, loadstring,
// getfenv, setfenv, module, newproxy, _printregs, require) is dropped:
// they reach files, replace environments or run unchecked source.
var allowedGlobals = map[string]bool{
	"assert": true, "error": true, "ipairs": true, "next": true, "pairs": true,
	"pcall": true, "rawequal": true, "rawget": true, "rawset": true, "select": true,
	"setmetatable": true, "tonumber": true, "tostring": true, "type": true,
	"unpack": true, "xpcall": true, "_G": true, "_VERSION": true,
	// replaced below
	"print": true, "getmetatable": true, "collectgarbage": true, "require": true,
	// libraries
	"string": true, "table": true, "math": true, "os": true, "coroutine": true,
}

var allowedOS = map[string]bool{"time": true, "clock": true, "date": true, "difftime": true}

// sandbox is what a state needs from the host to build its globals.
type sandbox struct {
	env     *luabind.Env
	modules map[string]luabind.Module
	lib     *libLoader // may be nil: no scripts/lib
	loading map[string]bool
	concat  *lua.LFunction // what compiled chunks call for `..`
	globals bool           // modules are globals too (Runner.ModuleGlobals)
}

// libraries is the sandbox's standard library, built once per process: the
// allowed functions of gopher-lua's libraries and etlhost's replacements.
// Go functions keep no state of their own, so every script's state shares
// them; each state gets tables of its own, so a script that changes its
// `string` table changes nobody else's. Building the libraries once cuts
// the cost of a state by about half: most of it went into creating the
// same functions and tables for every script.
var libraries = buildLibraries()

type stdEntry struct {
	key   string
	value lua.LValue
}

type stdTable struct {
	name    string
	entries []stdEntry
}

type stdLib struct {
	globals []stdEntry
	tables  []stdTable
}

func buildLibraries() *stdLib {
	L := lua.NewState(lua.Options{SkipOpenLibs: true})
	defer L.Close()
	for _, lib := range []struct {
		name string
		open lua.LGFunction
	}{
		{lua.BaseLibName, lua.OpenBase},
		{lua.TabLibName, lua.OpenTable},
		{lua.StringLibName, lua.OpenString},
		{lua.MathLibName, lua.OpenMath},
		{lua.OsLibName, lua.OpenOs},
		{lua.CoroutineLibName, lua.OpenCoroutine},
	} {
		L.Push(L.NewFunction(lib.open))
		L.Push(lua.LString(lib.name))
		L.Call(1, 0)
	}
	g := L.G.Global
	set := func(t *lua.LTable, name string, fn lua.LGFunction) { t.RawSetString(name, L.NewFunction(fn)) }
	strmod := g.RawGetString("string").(*lua.LTable)
	strmod.RawSetString("__index", lua.LNil) // strings index it through their own metatable
	// Functions that copy their subject: the copy is counted before it is
	// made, as every string the library builds.
	for _, name := range []string{"upper", "lower", "reverse"} {
		orig := stringArgs(1, strmod.RawGetString(name).(*lua.LFunction).GFunction)
		what := "string." + name
		set(strmod, name, func(L *lua.LState) int {
			if n := int64(len(checkString(L, 1))); n >= concatSmall {
				luabind.CheckBuild(L, what, n)
			}
			return orig(L)
		})
	}
	// The others that read a string argument: a number there is written
	// as Lua writes it (string.len(1e15) is 5).
	for _, name := range []string{"len", "sub", "byte"} {
		set(strmod, name, stringArgs(1, strmod.RawGetString(name).(*lua.LFunction).GFunction))
	}
	set(strmod, "rep", strRep)
	set(strmod, "format", strFormat)
	set(strmod, "dump", func(L *lua.LState) int { L.RaiseError("string.dump is not available"); return 0 })
	set(g.RawGetString("table").(*lua.LTable), "concat", tableConcat)
	set(g, "collectgarbage", func(L *lua.LState) int { L.Push(lua.LNumber(0)); return 1 })
	set(g, "unpack", unpack)
	set(g, "getmetatable", getMetatable)
	set(g, "setmetatable", setMetatable)
	set(g, "tostring", func(L *lua.LState) int { L.Push(toStringMeta(L, L.CheckAny(1))); return 1 })
	osmod := g.RawGetString("os").(*lua.LTable)
	set(osmod, "date", cappedDate(osmod.RawGetString("date").(*lua.LFunction).GFunction))

	libs := &stdLib{}
	g.ForEach(func(k, v lua.LValue) {
		name, ok := k.(lua.LString)
		switch {
		case !ok || !allowedGlobals[string(name)] || name == "_G" || name == "print" || name == "require":
			// dropped, or made for each state
		case v.Type() == lua.LTTable:
			lt := stdTable{name: string(name)}
			v.(*lua.LTable).ForEach(func(fk, fv lua.LValue) {
				if name == "os" && !allowedOS[fk.String()] {
					return
				}
				lt.entries = append(lt.entries, stdEntry{fk.String(), fv})
			})
			libs.tables = append(libs.tables, lt)
		default:
			libs.globals = append(libs.globals, stdEntry{string(name), v})
		}
	})
	return libs
}

// newState builds a fresh state whose globals come from the allow-list, with
// the host's modules and the script library reachable through require.
func (sb *sandbox) newState(ctx context.Context, mg *guard) *lua.LState {
	L := lua.NewState(lua.Options{
		SkipOpenLibs:        true,
		CallStackSize:       CallStackSize,
		RegistrySize:        1024,
		RegistryMaxSize:     MaxStackValues,
		RegistryGrowStep:    4096,
		MinimizeStackMemory: true,
	})
	g := L.G.Global
	for _, e := range libraries.globals {
		g.RawSetString(e.key, e.value)
	}
	g.RawSetString("_G", g)
	for _, lt := range libraries.tables {
		t := L.CreateTable(0, len(lt.entries)+4)
		for _, e := range lt.entries {
			t.RawSetString(e.key, e.value)
		}
		g.RawSetString(lt.name, t)
	}
	// The string metatable: strings index the string module through a
	// separate, protected metatable, so getmetatable("") gives nothing to
	// tamper with.
	strmod := g.RawGetString("string").(*lua.LTable)
	strmt := L.CreateTable(0, 2)
	strmt.RawSetString("__index", strmod)
	strmt.RawSetString("__metatable", lua.LFalse)
	L.SetMetatable(lua.LString(""), strmt)
	installPatternFuncs(L, strmod, ctx)

	g.RawSetString("print", L.NewFunction(sb.print))
	g.RawSetString("require", L.NewFunction(sb.require))
	sb.concat = L.NewFunction(luaConcat)
	sb.limitCoroutines(L, g.RawGetString("coroutine").(*lua.LTable))

	// The script's memory account: its limit when the runner has a
	// watchdog, none otherwise (the process-wide backstop still sees it).
	var limit int64
	cancel := sb.env.Stop
	if mg != nil {
		limit, cancel = mg.w.limit, mg.cancel
	}
	b := newBudget(limit, cancel, L)
	L.SetContext(&vmContext{Context: luabind.WithMemory(ctx, b), guard: mg})
	if mg != nil {
		mg.L, mg.b = L, b
		// The returned value is kept for the report: it must fit too.
		sb.env.OnSettle(func(ok bool) error {
			if !ok || L.GetTop() < 1 {
				return nil
			}
			return b.checkResult(L.Get(-1))
		})
	}
	forget := watchBackstop(b)
	sb.env.OnClose(forget)
	return L
}

// print writes to the script's log, never to the host's stdout.
func (sb *sandbox) print(L *lua.LState) int {
	n := L.GetTop()
	parts := make([]string, n)
	size := int64(n)
	for i := 1; i <= n; i++ {
		parts[i-1] = toStringMeta(L, L.Get(i)).String()
		size += int64(len(parts[i-1]))
	}
	if size > MaxStringBytes {
		L.RaiseError("print: a line of %d bytes is over the limit of %d bytes for one string (memory limit)", size, MaxStringBytes)
	}
	if err := luabind.MemoryOf(L).KeepLine(min(size, luabind.MaxLineBytes)); err != nil {
		L.RaiseError("print: %v", err)
	}
	sb.env.Log(luabind.LevelInfo, luabind.CutLine(strings.Join(parts, "\t")), nil)
	return 0
}

// idSeed keys the ids tostring shows for tables, functions, coroutines and
// userdata; it is drawn when the process starts.
var idSeed = maphash.MakeSeed()

// toStringMeta is tostring: L.ToStringMeta, except that a table, function,
// coroutine or userdata without a __tostring function prints as its type
// and an id ("table: 0x5d1c7a9e03b2f468") instead of its host address,
// which would tell a script about the host's memory. The id is a keyed
// hash of the object's identity: the same object gives the same id for the
// whole run, in every script (distinct objects collide with a chance of
// about n²/2⁶⁵), a collected object's id may come back for a new one, as
// addresses do in Lua, and the ids differ from run to run. It holds no
// state, so printing many tables keeps none of them alive. A number is
// written as Lua 5.1 writes it (luaconv.FormatNumber: 1234567.5, never
// 1.2345675e+06). print, string.format's %s and the message of an error
// value use it too.
func toStringMeta(L *lua.LState, v lua.LValue) lua.LValue {
	switch x := v.(type) {
	case lua.LNumber:
		return lua.LString(luaconv.NumberString(x)) // as Lua 5.1 writes it, not as fmt.Sprint does
	case *lua.LTable, *lua.LFunction, *lua.LUserData, *lua.LState, lua.LChannel:
	default:
		return L.ToStringMeta(v)
	}
	if _, ok := L.GetMetaField(v, "__tostring").(*lua.LFunction); ok {
		return L.ToStringMeta(v)
	}
	id := maphash.Comparable(idSeed, reflect.ValueOf(v).Pointer())
	return lua.LString(fmt.Sprintf("%s: 0x%016x", v.Type(), id))
}

// loadGlobals makes each module a global of its name when the runner asks
// for it (Runner.ModuleGlobals).
func (sb *sandbox) loadGlobals(L *lua.LState) error {
	if !sb.globals {
		return nil
	}
	for _, name := range sb.moduleNames() {
		err := L.CallByParam(lua.P{Fn: L.NewFunction(sb.require), NRet: 1, Protect: true}, lua.LString(name))
		if err != nil {
			return fmt.Errorf("loading module %s: %w", name, err)
		}
		L.SetGlobal(name, L.Get(-1))
		L.Pop(1)
	}
	return nil
}

// require resolves, in order: modules already loaded in this state, the
// host's modules, then Lua files of the script library by dotted name.
func (sb *sandbox) require(L *lua.LState) int {
	name := L.CheckString(1)
	if name == concatModule {
		L.Push(sb.concat)
		return 1
	}
	loaded := L.Get(lua.RegistryIndex).(*lua.LTable)
	key := lua.LString("etlhost.loaded." + name)
	if v := loaded.RawGet(key); v != lua.LNil {
		L.Push(v)
		return 1
	}
	var v lua.LValue
	if m, ok := sb.modules[name]; ok {
		v = m.Open(L, sb.env)
	} else {
		if sb.loading[name] {
			L.RaiseError("module %q: require cycle", name)
		}
		if !moduleNameRe.MatchString(name) {
			L.RaiseError("module %q: bad module name: use dotted Lua names like \"dates\" or \"fmt.money\", not paths", name)
		}
		if sb.lib == nil {
			L.RaiseError("module %q not found: it is not one of etlhost's modules (%s) and there is no library folder", name, strings.Join(sb.moduleNames(), ", "))
		}
		proto, err := sb.lib.load(name)
		if err != nil {
			L.RaiseError("module %q: %v (host modules: %s)", name, err, strings.Join(sb.moduleNames(), ", "))
		}
		if sb.loading == nil {
			sb.loading = map[string]bool{}
		}
		sb.loading[name] = true
		fn := L.NewFunctionFromProto(proto)
		L.Push(fn)
		L.Push(lua.LString(name))
		L.Call(1, 1)
		delete(sb.loading, name)
		v = L.Get(-1)
		L.Pop(1)
		if v == lua.LNil {
			v = lua.LTrue
		}
	}
	loaded.RawSet(key, v)
	L.Push(v)
	return 1
}

func (sb *sandbox) moduleNames() []string {
	names := make([]string, 0, len(sb.modules))
	for n := range sb.modules {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// limitCoroutines caps how many coroutines a script creates: each costs a
// call stack and a registry of its own.
func (sb *sandbox) limitCoroutines(L *lua.LState, co *lua.LTable) {
	count := 0
	for _, name := range []string{"create", "wrap"} {
		orig := co.RawGetString(name).(*lua.LFunction)
		fname := name
		co.RawSetString(name, L.NewFunction(func(L *lua.LState) int {
			count++
			if count > MaxCoroutines {
				L.RaiseError("coroutine.%s: more than %d coroutines in one script", fname, MaxCoroutines)
			}
			L.Push(orig)
			L.Push(L.Get(1))
			L.Call(1, 1)
			return 1
		}))
	}
}

// tableConcat is table.concat built with a strings.Builder and a size cap:
// gopher-lua's version pushes every item on the registry, which is slow
// for long lists and not interruptible.
func tableConcat(L *lua.LState) int {
	t := L.CheckTable(1)
	sep := optString(L, 2, "")
	i := L.OptInt(3, 1)
	j := L.OptInt(4, t.Len())
	// Size the result first: it is refused before anything is built.
	total := int64(0)
	for k := i; k <= j; k++ {
		switch s := t.RawGetInt(k).(type) {
		case lua.LString:
			total += int64(len(s))
		case lua.LNumber:
			total += int64(len(luaconv.NumberString(s)))
		default:
			L.RaiseError("invalid value (at index %d) in table for 'concat'", k)
		}
		if k < j {
			total += int64(len(sep))
		}
		if total > MaxStringBytes {
			L.RaiseError("table.concat: result over the limit of %d bytes for one string (memory limit)", MaxStringBytes)
		}
	}
	if total >= concatSmall {
		luabind.CheckBuild(L, "table.concat", total)
	}
	var b strings.Builder
	b.Grow(int(total))
	for k := i; k <= j; k++ {
		switch s := t.RawGetInt(k).(type) {
		case lua.LString:
			b.WriteString(string(s))
		case lua.LNumber:
			b.WriteString(luaconv.NumberString(s))
		}
		if k < j {
			b.WriteString(sep)
		}
	}
	L.Push(lua.LString(b.String()))
	return 1
}

// unpack refuses to push more values than the stack can take, instead of
// overflowing it half way.
func unpack(L *lua.LState) int {
	t := L.CheckTable(1)
	i := L.OptInt(2, 1)
	j := L.OptInt(3, t.Len())
	if i > j {
		return 0
	}
	n := int64(j) - int64(i) + 1
	if n > MaxStackValues/2 {
		L.RaiseError("unpack: %d values are more than a call can take (%d)", n, MaxStackValues/2)
	}
	for k := i; k <= j; k++ {
		L.Push(t.RawGetInt(k))
	}
	return int(n)
}

// getMetatable honours __metatable, as Lua 5.1 does and gopher-lua does not.
func getMetatable(L *lua.LState) int {
	mt := L.GetMetatable(L.CheckAny(1))
	if t, ok := mt.(*lua.LTable); ok {
		if p := t.RawGetString("__metatable"); p != lua.LNil {
			L.Push(p)
			return 1
		}
	}
	L.Push(mt)
	return 1
}

// setMetatable refuses to replace a protected metatable.
func setMetatable(L *lua.LState) int {
	t := L.CheckTable(1)
	mt := L.Get(2)
	if mt != lua.LNil {
		if _, ok := mt.(*lua.LTable); !ok {
			L.ArgError(2, "nil or table expected")
		}
	}
	if old, ok := t.Metatable.(*lua.LTable); ok && old.RawGetString("__metatable") != lua.LNil {
		L.RaiseError("cannot change a protected metatable")
	}
	L.SetMetatable(t, mt)
	L.Push(t)
	return 1
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
