package host

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/ast"
	"github.com/yuin/gopher-lua/parse"
)

// Hints for the mistakes of people who know Python.
//
// gopher-lua's messages are correct but say what went wrong in the VM's
// terms ("parse error near '+'", "attempt to call a non-function object"):
// an analyst who wrote `x += 1` or `for r in rows do` does not learn from
// them what to write instead. explain (compile errors) and the message
// handler built by explainer (runtime errors) recognise a few of those
// messages, look at the script's own source and its syntax tree at the
// error's line, and replace the message by one that names the fix,
// keeping the position and what Lua said:
//
//	job.lua:2: Lua has no +=: write x = x + 1 (Lua said: parse error near '+')
//
// A message that matches nothing, or whose line does not show the mistake
// unambiguously, is left as it was.

// explain turns err, the parser's error for chunk's source text src, into
// a *SourceError (see syntaxError), with a hint when it is one of the
// mistakes above. The hint keeps the error's file:line and appends the
// original message as "(Lua said: ...)".
func explain(chunk, src string, err error) (explained error) {
	e := syntaxError(chunk, src, err)
	defer func() {
		if recover() != nil {
			explained = e // a hint is never worth losing the error
		}
	}()
	se, ok := e.(*SourceError)
	if !ok || se.Line <= 0 {
		return e
	}
	var perr *parse.Error
	// At the end of the file, an unterminated long string or comment is
	// not a block left open.
	atEOF := errors.As(err, &perr) && perr.Pos.Line == parse.EOF && !strings.Contains(perr.Message, "unterminated")
	hint := syntaxHint(se, src, atEOF)
	if hint == "" {
		return e
	}
	said := se.Msg
	if atEOF {
		said = strings.TrimSpace(perr.Message) + " at the end of the file"
	}
	return &SourceError{Path: se.Path, Line: se.Line, Msg: hint + " (Lua said: " + said + ")"}
}

// luaSource is src as compile parses it: a `#!` first line is a comment.
func luaSource(src string) string {
	if strings.HasPrefix(src, "#!") {
		return "--" + src
	}
	return src
}

// syntaxHint is the hint for a syntax error, or "".
func syntaxHint(se *SourceError, src string, atEOF bool) string {
	toks := scanTokens(src)
	var line []token
	for _, t := range toks {
		if t.line == se.Line {
			line = append(line, t)
		}
	}
	for i, t := range line {
		switch t.text {
		case "!=":
			return `Lua writes "not equal" as ~=, not !=: ` + lineText(src, line, t, "~=")
		case "+=", "-=", "*=", "/=":
			if t.kind != tokPunct || i == 0 {
				continue
			}
			lhs, rhs := assignParts(src, line, i)
			if lhs == "" || rhs == "" {
				continue
			}
			return fmt.Sprintf("Lua has no %s: write %s = %s %s %s", t.text, lhs, lhs, t.text[:1], rhs)
		case "elif":
			if t.kind == tokName {
				return "Lua writes elseif, not elif: " + lineText(src, line, t, "elseif")
			}
		}
	}
	if atEOF {
		if open, ok := unclosed(toks); ok {
			return fmt.Sprintf("'%s' expected (to close '%s' at line %d)", closerOf(open.text), open.text, open.line)
		}
	}
	return ""
}

// lineText is the source of the tokens of a line (no comment), with token
// t replaced by repl.
func lineText(src string, line []token, t token, repl string) string {
	first, last := line[0], line[len(line)-1]
	return src[first.pos:t.pos] + repl + src[t.pos+len(t.text):last.pos+len(last.text)]
}

// assignParts are the source texts of the target before line[i] (an
// operator like +=) and of the value after it, each ending where its
// statement does: `if ok then total += n end` gives total and n.
func assignParts(src string, line []token, i int) (lhs, rhs string) {
	start, depth := i, 0
	for j := i - 1; j >= 0; j-- {
		t := line[j]
		switch {
		case t.text == ")" || t.text == "]":
			depth++
		case t.text == "(" || t.text == "[":
			depth--
		}
		if depth < 0 || depth == 0 && (t.text == ";" || t.kind == tokName && isKeyword(t.text)) {
			break
		}
		if depth == 0 && start < i && (t.kind == tokName || t.text == ")" || t.text == "]") && line[start].kind == tokName {
			break // two operands in a row: a statement boundary
		}
		start = j
	}
	end := i
	depth = 0
	for j := i + 1; j < len(line); j++ {
		t := line[j]
		switch t.text {
		case "(", "[", "{":
			depth++
		case ")", "]", "}":
			depth--
		}
		if depth < 0 || depth == 0 && (t.text == ";" || t.kind == tokName && isBlockWord(t.text)) {
			break
		}
		end = j
	}
	if start == i || end == i {
		return "", ""
	}
	return strings.TrimSpace(src[line[start].pos:line[i].pos]), src[line[i+1].pos : line[end].pos+len(line[end].text)]
}

// isBlockWord reports whether s ends an expression as the start of the
// next part of a statement.
func isBlockWord(s string) bool {
	switch s {
	case "end", "else", "elseif", "then", "do", "until", "local", "return", "if", "for", "while", "repeat", "function", "break", "goto":
		return true
	}
	return false
}

func closerOf(opener string) string {
	switch opener {
	case "(":
		return ")"
	case "{":
		return "}"
	case "[":
		return "]"
	case "repeat":
		return "until"
	}
	return "end"
}

// unclosed finds the innermost block or bracket still open at the end of
// the tokens, the way Lua 5.3 reports "'end' expected (to close 'function'
// at line 3)". ok is false when nothing is open, or when the nesting is
// broken before the end (then the error is not only a missing closer).
func unclosed(toks []token) (open token, ok bool) {
	type opener struct {
		token
		needDo bool // a for or while whose `do` is still to come
	}
	var stack []opener
	pop := func(want ...string) bool {
		if len(stack) == 0 {
			return false
		}
		top := stack[len(stack)-1].text
		for _, w := range want {
			if top == w {
				stack = stack[:len(stack)-1]
				return true
			}
		}
		return false
	}
	for _, t := range toks {
		if t.kind != tokName && t.kind != tokPunct {
			continue
		}
		switch t.text {
		case "function", "if", "repeat", "(", "{", "[":
			stack = append(stack, opener{token: t})
		case "for", "while":
			stack = append(stack, opener{token: t, needDo: true})
		case "do":
			if n := len(stack); n > 0 && stack[n-1].needDo {
				stack[n-1].needDo = false
			} else {
				stack = append(stack, opener{token: t})
			}
		case "end":
			if !pop("function", "if", "do", "for", "while") {
				return token{}, false
			}
		case "until":
			if !pop("repeat") {
				return token{}, false
			}
		case ")":
			if !pop("(") {
				return token{}, false
			}
		case "}":
			if !pop("{") {
				return token{}, false
			}
		case "]":
			if !pop("[") {
				return token{}, false
			}
		}
	}
	if len(stack) == 0 {
		return token{}, false
	}
	return stack[len(stack)-1].token, true
}

// A token of Lua source, as far as the hints need them.
type token struct {
	text string
	kind byte
	line int
	pos  int // byte offset in the source
}

const (
	tokName   = 'n' // names and keywords
	tokNumber = '0'
	tokString = 's'
	tokPunct  = 'p'
)

// twoChar are the two-character symbols the scanner keeps together: Lua's,
// and the operators of other languages the hints look for.
var twoChar = map[string]bool{
	"==": true, "~=": true, "<=": true, ">=": true, "..": true, "::": true,
	"!=": true, "+=": true, "-=": true, "*=": true, "/=": true,
}

// scanTokens splits src into tokens, skipping comments, the way Lua's
// lexer does closely enough for the hints; it never fails.
func scanTokens(src string) []token {
	var toks []token
	b := []byte(src)
	n := len(b)
	line := 1
	for i := 0; i < n; i++ {
		c := b[i]
		switch {
		case c == '\n':
			line++
		case c == ' ' || c == '\t' || c == '\r':
		case c == '-' && i+1 < n && b[i+1] == '-':
			i += 2
			if lvl, ok := longBracket(b, i); ok {
				i = skipLong(b, i, lvl, &line)
			} else {
				for i < n && b[i] != '\n' {
					i++
				}
				i--
			}
		case c == '"' || c == '\'':
			start, startLine := i, line
			i++
			for i < n && b[i] != c && b[i] != '\n' {
				if b[i] == '\\' {
					i++
					if i < n && b[i] == '\n' {
						line++
					}
				}
				i++
			}
			toks = append(toks, token{text: src[start:min(i+1, n)], kind: tokString, line: startLine, pos: start})
		case c == '[':
			if lvl, ok := longBracket(b, i); ok {
				start, startLine := i, line
				i = skipLong(b, i, lvl, &line)
				toks = append(toks, token{text: src[start:min(i+1, n)], kind: tokString, line: startLine, pos: start})
			} else {
				toks = append(toks, token{text: "[", kind: tokPunct, line: line, pos: i})
			}
		case isIdentStart(c):
			j := i
			for j < n && isIdent(b[j]) {
				j++
			}
			toks = append(toks, token{text: src[i:j], kind: tokName, line: line, pos: i})
			i = j - 1
		case c >= '0' && c <= '9' || (c == '.' && i+1 < n && b[i+1] >= '0' && b[i+1] <= '9'):
			j := i
			for j < n && (isIdent(b[j]) || b[j] == '.' ||
				((b[j] == '+' || b[j] == '-') && strings.ContainsRune("eEpP", rune(b[j-1])))) {
				j++
			}
			toks = append(toks, token{text: src[i:j], kind: tokNumber, line: line, pos: i})
			i = j - 1
		default:
			text := src[i : i+1]
			if i+1 < n && twoChar[src[i:i+2]] {
				text = src[i : i+2]
				if text == ".." && i+2 < n && b[i+2] == '.' {
					text = "..."
				}
			}
			toks = append(toks, token{text: text, kind: tokPunct, line: line, pos: i})
			i += len(text) - 1
		}
	}
	return toks
}

// Runtime errors.

// explainer returns the message handler of a chunk named chunk whose
// source is src: messageHandler's message and traceback, with a hint for
// the runtime errors above. It runs where the error happened, before the
// stack unwinds, so it can look at the values of the names on the line
// (which of `a.name .. b.name` is nil, whether `f` in `f()` is nil or a
// table).
func explainer(chunk, src string) lua.LGFunction {
	return func(L *lua.LState) int {
		n := messageHandler(L)
		msg, ok := L.Get(-1).(lua.LString)
		if !ok {
			return n
		}
		L.Pop(1)
		at := func(line int) evaluator { return newFrameEval(L, chunk, line) }
		L.Push(lua.LString(explainRuntime(string(msg), chunk, src, at)))
		return n
	}
}

var (
	runtimePosRe = regexp.MustCompile(`^([^\s:]+):(\d+): `)
	indexErrRe   = regexp.MustCompile(`^attempt to index a non-table object\((\w+)\) with key '(.*)'$`)
	addErrRe     = regexp.MustCompile(`^cannot perform add operation between (\w+) and (\w+)$`)
	colonErrRe   = regexp.MustCompile(`call it with a colon: (\w+):(\w+)\(\.\.\.\)`)
)

const callErr = "attempt to call a non-function object"

// explainRuntime returns msg ("file:line: message" and maybe a traceback)
// with a hint when the message is one of the mistakes above and the line
// is in chunk's source src; otherwise msg. evalAt gives the values of
// simple expressions at the error on a line (nil: values are unknown).
func explainRuntime(msg, chunk, src string, evalAt func(line int) evaluator) (explained string) {
	defer func() {
		if recover() != nil {
			explained = msg // a hint is never worth losing the error
		}
	}()
	first, rest, _ := strings.Cut(msg, "\n")
	m := runtimePosRe.FindStringSubmatch(first)
	if m == nil || m[1] != chunk {
		return msg
	}
	lineNo, _ := strconv.Atoi(m[2])
	text := first[len(m[0]):]
	var ev evaluator = noEval{}
	if evalAt != nil {
		ev = evalAt(lineNo)
	}
	var hint string
	var replaced string // a message of our own, rewritten in place
	switch {
	case text == callErr:
		hint = callHint(parseLines(src), lineNo, ev)
	case indexErrRe.MatchString(text):
		s := indexErrRe.FindStringSubmatch(text)
		hint = indexHint(parseLines(src), lineNo, s[1], s[2], ev)
	case addErrRe.MatchString(text):
		s := addErrRe.FindStringSubmatch(text)
		hint = addHint(parseLines(src), lineNo, s[1], s[2], ev)
	case colonErrRe.MatchString(text):
		s := colonErrRe.FindStringSubmatch(text)
		if obj := dotCallObject(parseLines(src), lineNo, s[2]); obj != "" && obj != s[1] {
			replaced = strings.Replace(text, s[1]+":"+s[2]+"(", obj+":"+s[2]+"(", 1)
		}
	}
	switch {
	case replaced != "":
		first = m[0] + replaced
	case hint != "":
		first = m[0] + hint + " (Lua said: " + text + ")"
	default:
		return msg
	}
	if rest != "" {
		return first + "\n" + rest
	}
	return first
}

// lines is a chunk's syntax tree, indexed by the line each expression and
// statement starts on.
type lines struct {
	exprs map[int][]exprAt
	fors  map[int][]*ast.GenericForStmt
}

// exprAt is an expression and how it is used.
type exprAt struct {
	e      ast.Expr
	target bool // assigned to
}

// parseLines parses src; a source that does not parse gives no lines.
func parseLines(src string) *lines {
	ls := &lines{exprs: map[int][]exprAt{}, fors: map[int][]*ast.GenericForStmt{}}
	chunk, err := parse.Parse(strings.NewReader(luaSource(src)), "hints")
	if err != nil {
		return ls
	}
	ls.stmts(chunk)
	return ls
}

func (ls *lines) stmts(list []ast.Stmt) {
	for _, s := range list {
		ls.stmt(s)
	}
}

func (ls *lines) stmt(s ast.Stmt) {
	switch x := s.(type) {
	case *ast.AssignStmt:
		for _, e := range x.Lhs {
			ls.expr(e, true)
		}
		ls.exprs2(x.Rhs)
	case *ast.LocalAssignStmt:
		ls.exprs2(x.Exprs)
	case *ast.FuncCallStmt:
		ls.expr(x.Expr, false)
	case *ast.DoBlockStmt:
		ls.stmts(x.Stmts)
	case *ast.WhileStmt:
		ls.expr(x.Condition, false)
		ls.stmts(x.Stmts)
	case *ast.RepeatStmt:
		ls.stmts(x.Stmts)
		ls.expr(x.Condition, false)
	case *ast.IfStmt:
		ls.expr(x.Condition, false)
		ls.stmts(x.Then)
		ls.stmts(x.Else)
	case *ast.NumberForStmt:
		ls.expr(x.Init, false)
		ls.expr(x.Limit, false)
		ls.expr(x.Step, false)
		ls.stmts(x.Stmts)
	case *ast.GenericForStmt:
		ls.fors[x.Line()] = append(ls.fors[x.Line()], x)
		ls.exprs2(x.Exprs)
		ls.stmts(x.Stmts)
	case *ast.FuncDefStmt:
		if x.Name != nil {
			ls.expr(x.Name.Func, false)
			ls.expr(x.Name.Receiver, false)
		}
		ls.expr(x.Func, false)
	case *ast.ReturnStmt:
		ls.exprs2(x.Exprs)
	}
}

func (ls *lines) exprs2(list []ast.Expr) {
	for _, e := range list {
		ls.expr(e, false)
	}
}

func (ls *lines) expr(e ast.Expr, target bool) {
	if e == nil {
		return
	}
	ls.exprs[e.Line()] = append(ls.exprs[e.Line()], exprAt{e, target})
	switch x := e.(type) {
	case *ast.AttrGetExpr:
		ls.expr(x.Object, false)
		ls.expr(x.Key, false)
	case *ast.TableExpr:
		for _, f := range x.Fields {
			ls.expr(f.Key, false)
			ls.expr(f.Value, false)
		}
	case *ast.FuncCallExpr:
		ls.expr(x.Func, false)
		ls.expr(x.Receiver, false)
		ls.exprs2(x.Args)
	case *ast.LogicalOpExpr:
		ls.expr(x.Lhs, false)
		ls.expr(x.Rhs, false)
	case *ast.RelationalOpExpr:
		ls.expr(x.Lhs, false)
		ls.expr(x.Rhs, false)
	case *ast.StringConcatOpExpr:
		ls.expr(x.Lhs, false)
		ls.expr(x.Rhs, false)
	case *ast.ArithmeticOpExpr:
		ls.expr(x.Lhs, false)
		ls.expr(x.Rhs, false)
	case *ast.UnaryMinusOpExpr:
		ls.expr(x.Expr, false)
	case *ast.UnaryNotOpExpr:
		ls.expr(x.Expr, false)
	case *ast.UnaryLenOpExpr:
		ls.expr(x.Expr, false)
	case *ast.FunctionExpr:
		ls.stmts(x.Stmts)
	}
}

// unique returns the one distinct string of list, or "".
func unique(list []string) string {
	if len(list) == 0 {
		return ""
	}
	for _, s := range list[1:] {
		if s != list[0] {
			return ""
		}
	}
	return list[0]
}

// indexHint names the expression that is nil (or another non-table) when
// the line reads or writes a field of it: "bill.partner is nil (reading
// bill.partner.name)".
func indexHint(ls *lines, line int, typ, key string, ev evaluator) string {
	var hints []string
	for _, x := range ls.exprs[line] {
		var obj ast.Expr
		var what string
		switch e := x.e.(type) {
		case *ast.AttrGetExpr:
			if !keyIs(e.Key, key, ev) {
				continue
			}
			obj = e.Object
			what = "reading " + exprText(e)
			if x.target {
				what = "setting " + exprText(e)
			}
		case *ast.FuncCallExpr:
			if e.Receiver == nil || e.Method != key {
				continue
			}
			obj = e.Receiver
			what = "calling " + exprText(e)
		default:
			continue
		}
		if v, ok := ev.value(obj); ok && v.Type().String() != typ {
			continue
		}
		hints = append(hints, fmt.Sprintf("%s %s (%s)", exprText(obj), isWhat(typ, "a table"), what))
	}
	return unique(hints)
}

// keyIs reports whether the key expression k is key (as the error message
// writes it): a constant, or a name whose value is known.
func keyIs(k ast.Expr, key string, ev evaluator) bool {
	switch c := k.(type) {
	case *ast.StringExpr:
		return c.Value == key
	case *ast.NumberExpr:
		if f, err := strconv.ParseFloat(c.Value, 64); err == nil {
			return lua.LNumber(f).String() == key
		}
		return c.Value == key
	}
	v, ok := ev.value(k)
	return ok && v.String() == key
}

// isWhat is "is nil" for nil, "is a number, not <want>" for other types.
func isWhat(typ, want string) string {
	if typ == "nil" {
		return "is nil"
	}
	return "is " + article(typ) + ", not " + want
}

func article(typ string) string {
	switch typ {
	case "userdata":
		return "a userdata value"
	}
	return "a " + typ
}

// callHint names what was called that is no function: a for-in over a
// table without ipairs or pairs, or a nil name ("erp.serch_read is nil: no
// such function").
func callHint(ls *lines, line int, ev evaluator) string {
	for _, f := range ls.fors[line] {
		if len(f.Exprs) != 1 {
			continue
		}
		if _, isCall := f.Exprs[0].(*ast.FuncCallExpr); isCall {
			continue
		}
		if v, ok := ev.value(f.Exprs[0]); ok && callable(v) {
			continue
		}
		t := exprText(f.Exprs[0])
		return fmt.Sprintf("for %s in %s do needs ipairs(%s) (a list) or pairs(%s) (a table with keys)",
			strings.Join(f.Names, ", "), t, t, t)
	}
	var known, unknown []string
	for _, x := range ls.exprs[line] {
		call, ok := x.e.(*ast.FuncCallExpr)
		if !ok {
			continue
		}
		var fn string
		if call.Receiver != nil {
			fn = exprText(call.Receiver) + ":" + call.Method
		} else {
			fn = exprText(call.Func)
		}
		v, ok := ev.callee(call)
		switch {
		case !ok:
			unknown = append(unknown, fn+" is not a function")
		case callable(v):
		case v == lua.LNil:
			known = append(known, fn+" is nil: no such function")
		default:
			known = append(known, fn+" is "+article(v.Type().String())+", not a function")
		}
	}
	if len(known) > 0 {
		return unique(known)
	}
	return unique(unknown)
}

func callable(v lua.LValue) bool {
	if v.Type() == lua.LTFunction {
		return true
	}
	// A value with a __call metamethod can be called: not the culprit.
	if mt, ok := metatableOf(v).(*lua.LTable); ok {
		return mt.RawGetString("__call") != lua.LNil
	}
	return false
}

// addHint suggests `..` for `+` on a string that is not a number.
func addHint(ls *lines, line int, lt, rt string, ev evaluator) string {
	if (lt != "string" && lt != "number") || (rt != "string" && rt != "number") {
		return ""
	}
	var hints []string
	for _, x := range ls.exprs[line] {
		a, ok := x.e.(*ast.ArithmeticOpExpr)
		if !ok || a.Operator != "+" || !typeMay(a.Lhs, lt, ev) || !typeMay(a.Rhs, rt, ev) {
			continue
		}
		hints = append(hints, "`..` joins strings: "+operand(a.Lhs, true)+" .. "+operand(a.Rhs, false))
	}
	return unique(hints)
}

// typeMay reports whether e may be of type typ: its type is unknown or typ.
func typeMay(e ast.Expr, typ string, ev evaluator) bool {
	switch e.(type) {
	case *ast.StringExpr:
		return typ == "string"
	case *ast.NumberExpr:
		return typ == "number"
	}
	if v, ok := ev.value(e); ok {
		return v.Type().String() == typ
	}
	return true
}

// operand is e as an operand of `..`, in brackets when it binds less
// tightly (or, for the left one, as tightly: `..` is right associative).
func operand(e ast.Expr, left bool) string {
	switch e.(type) {
	case *ast.LogicalOpExpr, *ast.RelationalOpExpr:
		return "(" + exprText(e) + ")"
	case *ast.StringConcatOpExpr:
		if left {
			return "(" + exprText(e) + ")"
		}
	}
	return exprText(e)
}

// dotCallObject is the object of the one call `obj.method(...)` (a dot,
// not a colon) on the line, as source text; "" when there is none or more
// than one.
func dotCallObject(ls *lines, line int, method string) string {
	var objs []string
	for _, x := range ls.exprs[line] {
		call, ok := x.e.(*ast.FuncCallExpr)
		if !ok || call.Receiver != nil {
			continue
		}
		if a, ok := call.Func.(*ast.AttrGetExpr); ok {
			if k, ok := a.Key.(*ast.StringExpr); ok && k.Value == method {
				objs = append(objs, exprText(a.Object))
			}
		}
	}
	return unique(objs)
}

var identRe = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*$`)

// exprText writes e back as Lua source, in the script's own terms where the
// tree allows (`bill.partner`, `rows[1]`, `f(...)`).
func exprText(e ast.Expr) string {
	switch x := e.(type) {
	case *ast.IdentExpr:
		return x.Value
	case *ast.NilExpr:
		return "nil"
	case *ast.TrueExpr:
		return "true"
	case *ast.FalseExpr:
		return "false"
	case *ast.Comma3Expr:
		return "..."
	case *ast.NumberExpr:
		return x.Value
	case *ast.StringExpr:
		return strconv.Quote(x.Value)
	case *ast.AttrGetExpr:
		if k, ok := x.Key.(*ast.StringExpr); ok && identRe.MatchString(k.Value) && !isKeyword(k.Value) {
			return exprText(x.Object) + "." + k.Value
		}
		return exprText(x.Object) + "[" + exprText(x.Key) + "]"
	case *ast.FuncCallExpr:
		if x.Receiver != nil {
			return exprText(x.Receiver) + ":" + x.Method + "(...)"
		}
		return exprText(x.Func) + "(...)"
	case *ast.TableExpr:
		return "{...}"
	case *ast.FunctionExpr:
		return "function(...) ... end"
	case *ast.LogicalOpExpr:
		return exprText(x.Lhs) + " " + x.Operator + " " + exprText(x.Rhs)
	case *ast.RelationalOpExpr:
		return exprText(x.Lhs) + " " + x.Operator + " " + exprText(x.Rhs)
	case *ast.StringConcatOpExpr:
		return exprText(x.Lhs) + " .. " + exprText(x.Rhs)
	case *ast.ArithmeticOpExpr:
		return exprText(x.Lhs) + " " + x.Operator + " " + exprText(x.Rhs)
	case *ast.UnaryMinusOpExpr:
		return "-" + exprText(x.Expr)
	case *ast.UnaryNotOpExpr:
		return "not " + exprText(x.Expr)
	case *ast.UnaryLenOpExpr:
		return "#" + exprText(x.Expr)
	}
	return "?"
}

func isKeyword(s string) bool {
	switch s {
	case "and", "break", "do", "else", "elseif", "end", "false", "for", "function", "goto", "if", "in",
		"local", "nil", "not", "or", "repeat", "return", "then", "true", "until", "while":
		return true
	}
	return false
}

// evaluator gives the values of simple expressions (names, fields with
// constant keys) at the point of an error, without running any Lua code:
// no metamethod but a table __index is followed. ok is false when the
// value is not known.
type evaluator interface {
	value(e ast.Expr) (v lua.LValue, ok bool)
	callee(call *ast.FuncCallExpr) (v lua.LValue, ok bool)
}

type noEval struct{}

func (noEval) value(ast.Expr) (lua.LValue, bool)           { return nil, false }
func (noEval) callee(*ast.FuncCallExpr) (lua.LValue, bool) { return nil, false }

// frameEval evaluates in the innermost Lua function of chunk on L's stack:
// its locals, its upvalues, then its globals.
type frameEval struct {
	L    *lua.LState
	dbg  *lua.Debug
	fn   *lua.LFunction
	line int
}

// newFrameEval evaluates in the innermost Lua function on L's stack when it
// is of chunk and stopped at line; otherwise nothing is known.
func newFrameEval(L *lua.LState, chunk string, line int) evaluator {
	for level := 1; level < 50; level++ {
		dbg, ok := L.GetStack(level)
		if !ok {
			break
		}
		f, err := L.GetInfo("Slf", dbg, lua.LNil)
		if err != nil {
			break
		}
		fn, ok := f.(*lua.LFunction)
		if !ok || fn.IsG {
			continue
		}
		if dbg.Source != chunk || dbg.CurrentLine != line {
			break
		}
		return &frameEval{L: L, dbg: dbg, fn: fn, line: line}
	}
	return noEval{}
}

func (f *frameEval) value(e ast.Expr) (lua.LValue, bool) {
	switch x := e.(type) {
	case *ast.IdentExpr:
		return f.name(x.Value)
	case *ast.StringExpr:
		return lua.LString(x.Value), true
	case *ast.NumberExpr:
		n, err := strconv.ParseFloat(x.Value, 64)
		return lua.LNumber(n), err == nil
	case *ast.NilExpr:
		return lua.LNil, true
	case *ast.AttrGetExpr:
		obj, ok := f.value(x.Object)
		if !ok {
			return nil, false
		}
		key, ok := f.value(x.Key)
		if !ok {
			return nil, false
		}
		return lookup(obj, key)
	}
	return nil, false
}

func (f *frameEval) callee(call *ast.FuncCallExpr) (lua.LValue, bool) {
	if call.Receiver != nil {
		obj, ok := f.value(call.Receiver)
		if !ok {
			return nil, false
		}
		return lookup(obj, lua.LString(call.Method))
	}
	return f.value(call.Func)
}

// name is the value of a name in the frame: the innermost local active at
// the start of the error's line, an upvalue, or a global.
//
// The locals are found from the function's debug information rather than
// with GetLocal's names: those miss a local declared by the instruction
// just before the one that failed (`local n = 3` then `"n is " + n`), and
// the frame's exact pc is not public. Registers are numbered as LocalName
// numbers them: the active locals in order.
func (f *frameEval) name(n string) (lua.LValue, bool) {
	p := f.fn.Proto
	pc := -1
	for i, l := range p.DbgSourcePositions {
		if l == f.line {
			pc = i
			break
		}
	}
	if pc >= 0 {
		reg, found := 0, 0
		for _, loc := range p.DbgLocals {
			if loc.StartPc <= pc && pc < loc.EndPc {
				reg++
				if loc.Name == n {
					found = reg
				}
			}
		}
		if found > 0 {
			if name, v := f.L.GetLocal(f.dbg, found); name != "" {
				return v, true
			}
			return nil, false
		}
	}
	for i := 1; i <= len(f.fn.Upvalues); i++ {
		if name, lv := f.L.GetUpvalue(f.fn, i); name == n {
			return lv, true
		}
	}
	if f.fn.Env == nil {
		return nil, false
	}
	if mt, ok := f.fn.Env.Metatable.(*lua.LTable); ok && mt.RawGetString("__index") != lua.LNil {
		return nil, false
	}
	return f.fn.Env.RawGetString(n), true
}

// lookup is obj[key] when no code has to run to know it: a table's raw
// field, then the table __index chain of its metatable (for userdata and
// strings too).
func lookup(obj, key lua.LValue) (lua.LValue, bool) {
	for range 10 {
		if t, ok := obj.(*lua.LTable); ok {
			if v := t.RawGet(key); v != lua.LNil {
				return v, true
			}
		}
		mt, ok := metatableOf(obj).(*lua.LTable)
		if !ok {
			_, isTable := obj.(*lua.LTable)
			return lua.LNil, isTable
		}
		idx := mt.RawGetString("__index")
		switch idx.(type) {
		case *lua.LNilType:
			_, isTable := obj.(*lua.LTable)
			return lua.LNil, isTable
		case *lua.LTable:
			obj = idx
		default:
			return nil, false
		}
	}
	return nil, false
}

func metatableOf(v lua.LValue) lua.LValue {
	switch x := v.(type) {
	case *lua.LTable:
		return x.Metatable
	case *lua.LUserData:
		return x.Metatable
	}
	return lua.LNil
}
