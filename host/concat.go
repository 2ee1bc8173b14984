package host

import (
	"strings"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/ast"

	"github.com/etlhost/etlhost/luabind"
	"github.com/etlhost/etlhost/luabind/luaconv"
)

// Concatenation with a size cap.
//
// gopher-lua's `..` joins its operands in one Go call (OP_CONCAT) that no
// limit sees: `s = s .. s` doubles a string until the kernel kills the
// host. The compiler is not ours, but its parser and AST are public, so
// compile rewrites every concatenation `a .. b .. c` into a call of a host
// function, `(concat)(a, b, c)`, which sizes the result first and builds it
// only when it fits the limit of one string and the script's memory
// limit. Each chunk fetches the function once, as a local its functions
// share as an upvalue: `local (concat) = require("\0concat")`. Neither
// name can be written in Lua source, so no script refers to them by
// accident; a script that calls require with that name only gets the same
// function.
//
// The same rewrite is what makes `..` write numbers as Lua 5.1 does
// (1234567.5 .. "" is "1234567.5", not gopher-lua's "1.2345675e+06"):
// the host function turns number operands into text with
// luaconv.FormatNumber, so gopher-lua stays unforked.

// concatModule is the name a chunk asks require for; concatLocal the local
// that holds the function. Neither is a Lua identifier or a usual module name.
const (
	concatModule = "\x00concat"
	concatLocal  = "(concat)"
)

// rewriteConcat rewrites the chunk's concatenations and adds the prologue
// that fetches the host function, when the chunk has any.
func rewriteConcat(chunk []ast.Stmt) []ast.Stmt {
	r := &concatRewriter{}
	r.stmts(chunk)
	if !r.found {
		return chunk
	}
	call := &ast.FuncCallExpr{Func: &ast.IdentExpr{Value: "require"}, Args: []ast.Expr{&ast.StringExpr{Value: concatModule}}, AdjustRet: true}
	call.SetLine(1)
	call.SetLastLine(1)
	pro := &ast.LocalAssignStmt{Names: []string{concatLocal}, Exprs: []ast.Expr{call}}
	pro.SetLine(1)
	pro.SetLastLine(1)
	return append([]ast.Stmt{pro}, chunk...)
}

type concatRewriter struct{ found bool }

func (r *concatRewriter) stmts(list []ast.Stmt) {
	for _, s := range list {
		r.stmt(s)
	}
}

func (r *concatRewriter) exprs(list []ast.Expr) {
	for i := range list {
		list[i] = r.expr(list[i])
	}
}

func (r *concatRewriter) stmt(s ast.Stmt) {
	switch x := s.(type) {
	case *ast.AssignStmt:
		r.exprs(x.Lhs)
		r.exprs(x.Rhs)
	case *ast.LocalAssignStmt:
		r.exprs(x.Exprs)
	case *ast.FuncCallStmt:
		x.Expr = r.expr(x.Expr)
	case *ast.DoBlockStmt:
		r.stmts(x.Stmts)
	case *ast.WhileStmt:
		x.Condition = r.expr(x.Condition)
		r.stmts(x.Stmts)
	case *ast.RepeatStmt:
		r.stmts(x.Stmts)
		x.Condition = r.expr(x.Condition)
	case *ast.IfStmt:
		x.Condition = r.expr(x.Condition)
		r.stmts(x.Then)
		r.stmts(x.Else)
	case *ast.NumberForStmt:
		x.Init = r.expr(x.Init)
		x.Limit = r.expr(x.Limit)
		x.Step = r.expr(x.Step)
		r.stmts(x.Stmts)
	case *ast.GenericForStmt:
		r.exprs(x.Exprs)
		r.stmts(x.Stmts)
	case *ast.FuncDefStmt:
		if x.Name != nil {
			x.Name.Func = r.expr(x.Name.Func)
			x.Name.Receiver = r.expr(x.Name.Receiver)
		}
		r.expr(x.Func)
	case *ast.ReturnStmt:
		r.exprs(x.Exprs)
	}
}

func (r *concatRewriter) expr(e ast.Expr) ast.Expr {
	switch x := e.(type) {
	case nil:
		return nil
	case *ast.StringConcatOpExpr:
		// a .. b .. c parses as a .. (b .. c): one call with every operand
		// of the chain, as the compiler makes one OP_CONCAT of it.
		var args []ast.Expr
		var cur ast.Expr = x
		for {
			c, ok := cur.(*ast.StringConcatOpExpr)
			if !ok {
				args = append(args, r.expr(cur))
				break
			}
			args = append(args, r.expr(c.Lhs))
			cur = c.Rhs
		}
		r.found = true
		fn := &ast.IdentExpr{Value: concatLocal}
		fn.SetLine(x.Line())
		fn.SetLastLine(x.LastLine())
		call := &ast.FuncCallExpr{Func: fn, Args: args, AdjustRet: true}
		call.SetLine(x.Line())
		call.SetLastLine(x.LastLine())
		return call
	case *ast.AttrGetExpr:
		x.Object = r.expr(x.Object)
		x.Key = r.expr(x.Key)
	case *ast.TableExpr:
		for _, f := range x.Fields {
			f.Key = r.expr(f.Key)
			f.Value = r.expr(f.Value)
		}
	case *ast.FuncCallExpr:
		x.Func = r.expr(x.Func)
		x.Receiver = r.expr(x.Receiver)
		r.exprs(x.Args)
	case *ast.LogicalOpExpr:
		x.Lhs = r.expr(x.Lhs)
		x.Rhs = r.expr(x.Rhs)
	case *ast.RelationalOpExpr:
		x.Lhs = r.expr(x.Lhs)
		x.Rhs = r.expr(x.Rhs)
	case *ast.ArithmeticOpExpr:
		x.Lhs = r.expr(x.Lhs)
		x.Rhs = r.expr(x.Rhs)
	case *ast.UnaryMinusOpExpr:
		x.Expr = r.expr(x.Expr)
	case *ast.UnaryNotOpExpr:
		x.Expr = r.expr(x.Expr)
	case *ast.UnaryLenOpExpr:
		x.Expr = r.expr(x.Expr)
	case *ast.FunctionExpr:
		r.stmts(x.Stmts)
	}
	return e
}

// concatSmall is the size under which a concatenation is not reported to
// the script's account (the watchdog still sees it).
const concatSmall = 4096

// luaConcat is `..` over its arguments, with Lua's semantics: strings and
// numbers join (numbers as tostring writes them, see concatString), other
// values go through their __concat metamethod, pairs taken from the right.
// The size of each run of strings is known before it is built.
func luaConcat(L *lua.LState) int {
	n := L.GetTop()
	if n == 0 {
		L.Push(lua.LString(""))
		return 1
	}
	rhs := L.Get(n)
	i := n - 1
	var parts []string
	for i >= 1 {
		lhs := L.Get(i)
		if !canConcat(lhs) || !canConcat(rhs) {
			op := L.GetMetaField(lhs, "__concat")
			if op == lua.LNil {
				op = L.GetMetaField(rhs, "__concat")
			}
			if op.Type() != lua.LTFunction {
				L.RaiseError("cannot perform concat operation between %v and %v", lhs.Type().String(), rhs.Type().String())
			}
			L.Push(op)
			L.Push(lhs)
			L.Push(rhs)
			L.Call(2, 1)
			rhs = L.Get(-1)
			L.Pop(1)
			i--
			continue
		}
		j := i
		for j > 1 && canConcat(L.Get(j-1)) {
			j--
		}
		parts = parts[:0]
		total := int64(0)
		for k := j; k <= i; k++ {
			s := concatString(L.Get(k))
			parts = append(parts, s)
			total += int64(len(s))
		}
		last := concatString(rhs)
		parts = append(parts, last)
		total += int64(len(last))
		if total > MaxStringBytes {
			L.RaiseError("string concatenation: result of %d bytes is over the limit of %d bytes for one string (memory limit)", total, MaxStringBytes)
		}
		if total >= concatSmall {
			if err := luabind.MemoryOf(L).Build(L, total); err != nil {
				L.RaiseError("string concatenation: %v", err)
			}
		}
		var b strings.Builder
		b.Grow(int(total))
		for _, s := range parts {
			b.WriteString(s)
		}
		rhs = lua.LString(b.String())
		i = j - 1
	}
	L.Push(rhs)
	return 1
}

// concatString is an operand of `..` as text: a number as Lua 5.1 writes
// it ("%.14g": 1234567.5), not as gopher-lua's LNumber.String does
// (1.2345675e+06). The compiled `..` never reaches gopher-lua's own
// OP_CONCAT, so this is the only number-to-text step of a concatenation.
func concatString(v lua.LValue) string {
	if s, ok := v.(lua.LString); ok {
		return string(s)
	}
	return luaconv.NumberString(v.(lua.LNumber))
}

func canConcat(v lua.LValue) bool {
	switch v.(type) {
	case lua.LString, lua.LNumber:
		return true
	}
	return false
}
