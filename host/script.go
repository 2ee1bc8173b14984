package host

import (
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	lua "github.com/yuin/gopher-lua"
	"github.com/yuin/gopher-lua/parse"
)

// Limits on source text, checked before the parser sees it: gopher-lua's
// parser recurses once per nesting level, and a file of a million `{`
// overflows the Go stack, which is a fatal error no recover can catch.
const (
	MaxSourceBytes = 4 << 20
	MaxNesting     = 200
)

// Script is a compiled script, ready to run any number of times.
type Script struct {
	Name   string            // file name without .lua
	Path   string            // as given on the command line
	Header map[string]string // `--! key = value` lines
	// Timeout from the header (zero: none given), and the header's line
	// that gave it.
	Timeout     time.Duration
	TimeoutLine int
	// After names the jobs this one runs after (the header's `after`), in
	// the order given; AfterLine is that header line.
	After     []string
	AfterLine int
	// Retries from the header (RetriesSet: given), and its line.
	Retries     int
	RetriesSet  bool
	RetriesLine int
	// Schedule from the header (nil: none), when workers enqueue the job
	// (see package queue), and its line.
	Schedule     Schedule
	ScheduleLine int
	proto        *lua.FunctionProto
	src          string // for the hints of runtime errors (hints.go)
	// err is why a script of a run cannot run (it does not compile, its
	// header is wrong, it cannot be read): it fails alone (see Runner.Load).
	err error
	// skip is why a script given to a run is not run (a test file).
	skip string
}

// Err is why the script cannot run (nil: it can): it does not compile, its
// header is wrong, it cannot be read.
func (s *Script) Err() error { return s.err }

// SourceError is a script that cannot be compiled or whose header is wrong:
// a usage error, reported as file:line: message.
type SourceError struct {
	Path string
	Line int
	Msg  string
}

func (e *SourceError) Error() string {
	if e.Line > 0 {
		return fmt.Sprintf("%s:%d: %s", e.Path, e.Line, e.Msg)
	}
	return fmt.Sprintf("%s: %s", e.Path, e.Msg)
}

// HostHeaderKeys are the header keys the host itself reads.
var HostHeaderKeys = []string{"timeout", "description", "after", "retries", "schedule"}

// MaxRetries bounds a job's retries (header, flag or configuration).
const MaxRetries = 10

// LoadScript reads, checks and compiles the script at path. knownKeys are
// the header keys modules accept besides the host's own.
func LoadScript(path string, knownKeys []string) (*Script, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("cannot read script: %w", err)
	}
	name := ScriptName(path)
	return CompileScript(name, path, src, knownKeys)
}

// CompileScript checks and compiles source text; path names the chunk in
// error positions and tracebacks.
func CompileScript(name, path string, src []byte, knownKeys []string) (*Script, error) {
	h, err := parseHeader(path, src, knownKeys)
	if err != nil {
		return nil, err
	}
	proto, err := compile(path, src)
	if err != nil {
		return nil, err
	}
	return &Script{Name: name, Path: path, Header: h.values, Timeout: h.timeout, TimeoutLine: h.timeoutLine,
		After: h.after, AfterLine: h.afterLine, Retries: h.retries, RetriesSet: h.retriesSet, RetriesLine: h.retriesLine,
		Schedule: h.schedule, ScheduleLine: h.scheduleLine,
		proto: proto, src: string(src)}, nil
}

// compile checks the source limits, parses and compiles it.
func compile(chunk string, src []byte) (*lua.FunctionProto, error) {
	if len(src) > MaxSourceBytes {
		return nil, &SourceError{Path: chunk, Msg: fmt.Sprintf("source is %d bytes, more than the limit of %d", len(src), MaxSourceBytes)}
	}
	if line, depth := nestingDepth(src); depth > MaxNesting {
		return nil, &SourceError{Path: chunk, Line: line, Msg: fmt.Sprintf("nesting deeper than %d levels", MaxNesting)}
	}
	text := string(src)
	if strings.HasPrefix(text, "#!") {
		// Keep line numbers: the shebang line becomes a comment.
		text = "--" + text
	}
	chunkAST, err := parse.Parse(strings.NewReader(text), chunk)
	if err != nil {
		return nil, explain(chunk, text, err)
	}
	// `..` becomes a call of the host's capped concatenation (concat.go).
	chunkAST = rewriteConcat(chunkAST)
	proto, err := lua.Compile(chunkAST, chunk)
	if err != nil {
		return nil, syntaxError(chunk, text, err)
	}
	return proto, nil
}

var parseErrRe = regexp.MustCompile(`line:(\d+)\(column:\d+\) (.*)$`)
var compileErrRe = regexp.MustCompile(`^.*?line:(\d+)(?:\(column:\d+\))?:? ?(.*)$`)

// syntaxError turns gopher-lua's "chunk line:3(column:5) near 'x': syntax
// error" into file:line: message.
func syntaxError(chunk, src string, err error) error {
	msg := err.Error()
	var perr *parse.Error
	if errors.As(err, &perr) {
		line := perr.Pos.Line
		if line == parse.EOF {
			// The error is at the end of the file (a missing `end`).
			line = strings.Count(strings.TrimRight(src, "\n"), "\n") + 1
			return &SourceError{Path: chunk, Line: line, Msg: strings.TrimSpace(perr.Message + " at the end of the file (a missing `end` or closing bracket?)")}
		}
		return &SourceError{Path: chunk, Line: line, Msg: strings.TrimSpace(perr.Message + nearToken(perr.Token))}
	}
	if m := parseErrRe.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &SourceError{Path: chunk, Line: line, Msg: m[2]}
	}
	if m := compileErrRe.FindStringSubmatch(msg); m != nil {
		line, _ := strconv.Atoi(m[1])
		return &SourceError{Path: chunk, Line: line, Msg: m[2]}
	}
	return &SourceError{Path: chunk, Msg: msg}
}

func nearToken(tok string) string {
	if tok == "" {
		return ""
	}
	return fmt.Sprintf(" near '%s'", tok)
}

// nestingDepth scans the source the way the lexer would (skipping strings
// and comments) and returns the deepest nesting of brackets and blocks and
// the line where it occurs. It is conservative, not exact: it only has to
// keep the recursive parser away from pathological inputs.
func nestingDepth(src []byte) (line, max int) {
	depth, ln := 0, 1
	n := len(src)
	for i := 0; i < n; i++ {
		c := src[i]
		switch {
		case c == '\n':
			ln++
		case c == '-' && i+1 < n && src[i+1] == '-':
			i += 2
			if lvl, ok := longBracket(src, i); ok {
				i = skipLong(src, i, lvl, &ln)
			} else {
				for i < n && src[i] != '\n' {
					i++
				}
				i-- // let the loop see the newline
			}
		case c == '"' || c == '\'':
			i++
			for i < n && src[i] != c && src[i] != '\n' {
				if src[i] == '\\' {
					i++
					if i < n && src[i] == '\n' {
						ln++
					}
				}
				i++
			}
		case c == '[':
			if lvl, ok := longBracket(src, i); ok {
				i = skipLong(src, i, lvl, &ln)
			} else {
				depth++
			}
		case c == '(' || c == '{':
			depth++
		case c == ')' || c == '}' || c == ']':
			depth--
		case isIdentStart(c) && (i == 0 || !isIdent(src[i-1])):
			j := i
			for j < n && isIdent(src[j]) {
				j++
			}
			switch string(src[i:j]) {
			case "function", "do", "if", "repeat":
				depth++
			case "end", "until":
				depth--
			}
			i = j - 1
		}
		if depth > max {
			max, line = depth, ln
			if max > MaxNesting {
				return line, max
			}
		}
	}
	return line, max
}

// longBracket reports whether src[i:] starts a long bracket [==[ and its level.
func longBracket(src []byte, i int) (int, bool) {
	if i >= len(src) || src[i] != '[' {
		return 0, false
	}
	j := i + 1
	for j < len(src) && src[j] == '=' {
		j++
	}
	if j < len(src) && src[j] == '[' {
		return j - i - 1, true
	}
	return 0, false
}

func skipLong(src []byte, i, lvl int, ln *int) int {
	closeSeq := "]" + strings.Repeat("=", lvl) + "]"
	for j := i + lvl + 2; j < len(src); j++ {
		if src[j] == '\n' {
			*ln++
		}
		if src[j] == ']' && strings.HasPrefix(string(src[j:min(len(src), j+len(closeSeq))]), closeSeq) {
			return j + len(closeSeq) - 1
		}
	}
	return len(src)
}

func isIdentStart(c byte) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
}

func isIdent(c byte) bool { return isIdentStart(c) || (c >= '0' && c <= '9') }

// parseHeader reads the script header: the `--!` lines among the comment
// lines at the top of the file (a `#!` first line is allowed), in the form
// `--! key = value`. It stops at the first line that is not a comment or
// blank.
// jobNameRe is a job's name as `after` gives it: a file name without .lua.
var jobNameRe = regexp.MustCompile(`^[^\s,/\\\p{Cc}]+$`)

// header is what parseHeader read.
type header struct {
	values       map[string]string
	timeout      time.Duration
	timeoutLine  int
	after        []string
	afterLine    int
	retries      int
	retriesSet   bool
	retriesLine  int
	schedule     Schedule
	scheduleLine int
}

func parseHeader(path string, src []byte, knownKeys []string) (*header, error) {
	known := map[string]bool{}
	for _, k := range HostHeaderKeys {
		known[k] = true
	}
	for _, k := range knownKeys {
		known[k] = true
	}
	h := &header{values: map[string]string{}}
	hdr := h.values
	lines := strings.Split(string(src), "\n")
	for i, raw := range lines {
		lineNo := i + 1
		line := strings.TrimSpace(strings.TrimSuffix(raw, "\r"))
		if line == "" || (i == 0 && strings.HasPrefix(line, "#!")) {
			continue
		}
		if !strings.HasPrefix(line, "--") || strings.HasPrefix(line, "--[[") || strings.HasPrefix(line, "--[=") {
			break
		}
		if !strings.HasPrefix(line, "--!") {
			continue
		}
		body := strings.TrimSpace(line[3:])
		key, value, ok := strings.Cut(body, "=")
		key, value = strings.TrimSpace(key), strings.TrimSpace(value)
		if !ok || key == "" {
			return nil, &SourceError{Path: path, Line: lineNo, Msg: fmt.Sprintf("bad header line %q: expected `--! key = value`", line)}
		}
		if !known[key] {
			return nil, &SourceError{Path: path, Line: lineNo, Msg: fmt.Sprintf("unknown header key %q (known: %s)", key, strings.Join(sortedKeys(known), ", "))}
		}
		if _, dup := hdr[key]; dup {
			return nil, &SourceError{Path: path, Line: lineNo, Msg: fmt.Sprintf("header key %q given twice", key)}
		}
		if key == "timeout" {
			d, err := time.ParseDuration(value)
			if err != nil || d <= 0 {
				return nil, &SourceError{Path: path, Line: lineNo, Msg: fmt.Sprintf("bad timeout %q: expected a positive duration like 90s, 15m or 1h30m", value)}
			}
			h.timeout, h.timeoutLine = d, lineNo
		}
		if key == "after" {
			for _, name := range strings.Split(value, ",") {
				name = strings.TrimSpace(name)
				if !jobNameRe.MatchString(name) {
					return nil, &SourceError{Path: path, Line: lineNo, Msg: fmt.Sprintf("bad after %q: expected job names separated by commas, as the report names them (achat_importation_upsert, ventes_locales_upsert)", value)}
				}
				if !slices.Contains(h.after, name) {
					h.after = append(h.after, name)
				}
			}
			h.afterLine = lineNo
		}
		if key == "retries" {
			n, err := strconv.Atoi(value)
			if err != nil || n < 0 || n > MaxRetries {
				return nil, &SourceError{Path: path, Line: lineNo, Msg: fmt.Sprintf("bad retries %q: expected a whole number from 0 to %d", value, MaxRetries)}
			}
			h.retries, h.retriesSet, h.retriesLine = n, true, lineNo
		}
		if key == "schedule" {
			sched, err := ParseSchedule(value)
			if err != nil {
				return nil, &SourceError{Path: path, Line: lineNo, Msg: err.Error()}
			}
			h.schedule, h.scheduleLine = sched, lineNo
		}
		hdr[key] = value
	}
	return h, nil
}
