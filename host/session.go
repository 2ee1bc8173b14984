package host

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"strings"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"

	"github.com/etlhost/etlhost/luabind"
	"github.com/etlhost/etlhost/luabind/luaconv"
)

// ErrIncomplete is returned by Session.Eval for code that ends inside a
// statement (a missing `end`, an open bracket or long string): an
// interactive prompt reads another line and tries again.
var ErrIncomplete = errors.New("incomplete input")

// ErrSessionClosed is returned by Session.Eval after Close, or once the
// session's context has ended.
var ErrSessionClosed = errors.New("the session has ended")

// Session is one long-lived sandboxed Lua state, built like a script's (the
// same allow-listed globals and limits, the runner's modules and script
// library), in which code is evaluated piece by piece: what `etlhost repl`
// runs its inputs in. Globals and module state (connections, a dry run's
// transaction) persist from one input to the next.
//
// The session's Env carries the runner's DryRun and Atomic flags. After
// each input the session settles its work (luabind.Env.Settle): as a
// success when the input ran without error, as a failure otherwise, so in
// an Atomic session each input's database work commits on its own, or not
// at all. Light threads spawned by an input and not waited for go on (they
// run while a later input waits); Close stops them.
//
// A session has no per-input time limit and no memory watchdog: it is
// interactive, and cancelling the context given to NewSession (Ctrl+C)
// stops the running evaluation and ends the session. Use it from one
// goroutine.
type Session struct {
	name   string
	env    *luabind.Env
	L      *lua.LState
	lib    *libLoader
	ctx    context.Context
	cancel context.CancelCauseFunc
	closed bool
}

// NewSession builds a session named name (its chunk name in error
// positions, and the script name modules see, as in etlhost_state). Its
// log lines and prints go to the runner's Observer as those of a Script
// named name.
func (r *Runner) NewSession(ctx context.Context, name string) (*Session, error) {
	lib, err := r.openLib()
	if err != nil {
		return nil, err
	}
	modules := map[string]luabind.Module{}
	for _, m := range r.Modules {
		modules[m.Name()] = m
	}
	ctx, cancel := context.WithCancelCause(ctx)
	s := &Script{Name: name, Path: name, Header: map[string]string{}}
	env := &luabind.Env{Ctx: ctx, Script: name, Path: name, Args: r.Args, Header: s.Header,
		Events: &scriptLog{r: r, s: s, nowFun: r.now}, DryRun: r.DryRun, Atomic: r.Atomic, Stop: cancel}
	sb := &sandbox{env: env, modules: modules, lib: lib, globals: r.ModuleGlobals}
	L := sb.newState(ctx, nil)
	if err := sb.loadGlobals(L); err != nil {
		cancel(nil)
		L.Close()
		lib.close()
		return nil, err
	}
	return &Session{name: name, env: env, L: L, lib: lib, ctx: ctx, cancel: cancel}, nil
}

// Eval compiles and runs code in the session. Code that is an expression
// list returns its values (as `return code` would); other code runs as a
// chunk and returns what its return statement gives. The values stay valid
// until the next Eval; read them on the caller's goroutine.
//
// Errors: ErrIncomplete when code ends inside a statement; a *SourceError
// for other syntax errors; an *EvalError when the code raised (the
// session goes on); ErrSessionClosed once the session has ended.
func (s *Session) Eval(code string) (vals []lua.LValue, err error) {
	if s.closed || s.ctx.Err() != nil {
		return nil, ErrSessionClosed
	}
	proto, cerr := compile(s.name, []byte("return "+code))
	if cerr != nil {
		if proto, cerr = compile(s.name, []byte(code)); cerr != nil {
			// A trailing newline makes an unterminated short string an
			// error rather than "more input needed", as in Lua's prompt.
			// An expression cut short ("1 +") is incomplete only as the
			// `return` form is.
			if incomplete(code+"\n") || incomplete("return "+code+"\n") {
				return nil, ErrIncomplete
			}
			return nil, cerr
		}
	}
	L := s.L
	top := L.GetTop()
	defer func() {
		if p := recover(); p != nil {
			_ = s.env.Settle(false)
			vals, err = nil, &EvalError{Msg: fmt.Sprintf("internal error in the Lua VM: %v\n%s", p, firstLines(string(debug.Stack()), 12))}
		}
		L.SetTop(top)
	}()
	L.Push(L.NewFunctionFromProto(proto))
	if perr := L.PCall(0, lua.MultRet, L.NewFunction(explainer(s.name, code))); perr != nil {
		_ = s.env.Settle(false)
		if s.ctx.Err() != nil {
			return nil, fmt.Errorf("%w: %w", ErrSessionClosed, context.Cause(s.ctx))
		}
		var ae *lua.ApiError
		if errors.As(perr, &ae) {
			return nil, &EvalError{Msg: ae.Object.String()}
		}
		return nil, &EvalError{Msg: perr.Error()}
	}
	for i := top + 1; i <= L.GetTop(); i++ {
		vals = append(vals, L.Get(i))
	}
	if err := s.env.Settle(true); err != nil {
		return nil, &EvalError{Msg: err.Error()}
	}
	return vals, nil
}

// Tostring is tostring(v) for a value Eval returned: what its __tostring
// metamethod gives, with custom true, when it has one (an error in the
// metamethod is shown in the string); v.String() otherwise, but for a
// number, written as Lua 5.1 writes it (luaconv.FormatNumber: 1234567.5).
// A REPL uses it to show values of modules (connections, error tables) as
// they describe themselves.
func (s *Session) Tostring(v lua.LValue) (str string, custom bool) {
	if n, ok := v.(lua.LNumber); ok {
		return luaconv.NumberString(n), false
	}
	mm := s.L.GetMetaField(v, "__tostring")
	if mm == lua.LNil || s.closed {
		return v.String(), false
	}
	top := s.L.GetTop()
	defer s.L.SetTop(top)
	if err := s.L.CallByParam(lua.P{Fn: mm, NRet: 1, Protect: true}, v); err != nil {
		return "<__tostring failed: " + firstLines(err.Error(), 1) + ">", true
	}
	return lua.LVAsString(s.L.Get(-1)), true
}

// Err is why the session ended (nil while it goes on).
func (s *Session) Err() error {
	if s.ctx.Err() != nil {
		return context.Cause(s.ctx)
	}
	return nil
}

// Close ends the session: unsettled work is settled as a failure, modules
// release their connections (a dry run's transaction is rolled back),
// light threads stop. It is safe to call twice.
func (s *Session) Close() {
	if s.closed {
		return
	}
	s.closed = true
	s.env.Close()
	s.L.Close()
	s.lib.close()
	s.cancel(ErrSessionClosed)
}

// EvalError is an error raised by code evaluated in a session: the message
// with the position ("repl:1: ...") and, when the error came from inside a
// function, a Lua traceback.
type EvalError struct{ Msg string }

func (e *EvalError) Error() string { return e.Msg }

// Short is the message without a traceback that only names the input
// itself.
func (e *EvalError) Short() string {
	msg, tb, ok := strings.Cut(e.Msg, "\nstack traceback:\n")
	if !ok {
		return e.Msg
	}
	for _, line := range strings.Split(tb, "\n") {
		line = strings.TrimSpace(line)
		if !strings.HasPrefix(line, "[G") && !strings.HasSuffix(line, "in main chunk") {
			return e.Msg
		}
	}
	return msg
}

// incomplete reports whether src fails to parse only because it ends too
// soon.
func incomplete(src string) bool {
	_, err := parse.Parse(strings.NewReader(src), "input")
	var perr *parse.Error
	return errors.As(err, &perr) && perr.Pos.Line == parse.EOF && perr.Message != "unterminated string"
}
