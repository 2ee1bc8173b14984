package scripttest

import (
	"regexp"
	"sort"
	"strings"
	"testing"

	lua "github.com/yuin/gopher-lua"
)

// TestStubComplete checks the methods of t against Stub, both ways: each
// method t has is declared on class etlhost.T, and each declared one
// exists.
func TestStubComplete(t *testing.T) {
	t.Parallel()
	if !strings.HasPrefix(Stub, "---@meta") {
		t.Error("etlhost_testing.lua does not start with ---@meta")
	}
	var (
		classRe = regexp.MustCompile(`^---@class\s+([\w.]+)`)
		localRe = regexp.MustCompile(`^local\s+([A-Za-z_]\w*)\s*=\s*\{\s*\}`)
		funcRe  = regexp.MustCompile(`^function\s+([A-Za-z_]\w*)\s*[.:]\s*([A-Za-z_]\w*)\s*\(`)
	)
	class, local := "", ""
	declared := map[string]bool{}
	for _, line := range strings.Split(Stub, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case classRe.MatchString(line):
			class = classRe.FindStringSubmatch(line)[1]
		case strings.HasPrefix(line, "---") || line == "":
		case localRe.MatchString(line):
			if class == "etlhost.T" {
				local = localRe.FindStringSubmatch(line)[1]
			}
			class = ""
		case funcRe.MatchString(line):
			if m := funcRe.FindStringSubmatch(line); local != "" && m[1] == local {
				declared[m[2]] = true
			}
			class = ""
		default:
			class = ""
		}
	}
	if len(declared) == 0 {
		t.Fatal("etlhost_testing.lua declares no methods for class etlhost.T")
	}

	L := lua.NewState()
	defer L.Close()
	var exposed []string
	newTMeta(L).RawGetString("__index").(*lua.LTable).ForEach(func(k, v lua.LValue) {
		if _, isFn := v.(*lua.LFunction); isFn {
			exposed = append(exposed, lua.LVAsString(k))
		}
	})
	sort.Strings(exposed)
	var problems []string
	seen := map[string]bool{}
	for _, f := range exposed {
		seen[f] = true
		if !declared[f] {
			problems = append(problems, "etlhost test's t."+f+" is exposed to Lua but missing from the stub")
		}
	}
	for f := range declared {
		if !seen[f] {
			problems = append(problems, "etlhost test's t."+f+" is declared in the stub but not exposed to Lua")
		}
	}
	sort.Strings(problems)
	for _, p := range problems {
		t.Error(p)
	}
}
