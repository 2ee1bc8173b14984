package main

import (
	"strings"
	"testing"
)

// TestReplNumbers: the REPL shows numbers it returns, prints and logs as
// Lua writes them (1234567.5, 20000000.01), never in Go's exponent form
// (1.2345675e+06), as values and as table keys.
func TestReplNumbers(t *testing.T) {
	t.Parallel()
	input := strings.Join([]string{
		`1234567.5`,
		`20000000.01, 2e7, 3.0, -0.0`,
		`1e15, 1e100, 0.1, 1/3, 2^53`,
		`1/0, -1/0, 0/0`,
		`{amount = 1234567.5, [2^53] = 1}`,
		`print(1234567.5, 20000000.01 .. "")`,
		`require("log").info("paid", {amount = 1234567.5, total = 20000000.01})`,
		`tostring(1e15) .. "|" .. string.format("%s", 1/3)`,
		`error(20000000.01)`,
	}, "\n") + "\n"
	out := runIn(t, nil, input, "repl")
	if out.code != ExitOK {
		t.Fatalf("exit %d\n%s\n%s", out.code, out.stdout, out.stderr)
	}
	mustContain(t, "stdout", out.stdout,
		"1234567.5\n",
		"20000000.01\t20000000\t3\t-0\n",
		"1e+15\t1e+100\t0.1\t0.33333333333333\t9.007199254741e+15\n",
		"inf\t-inf\tnan\n",
		"{[9.007199254741e+15] = 1, amount = 1234567.5}\n",
		"1234567.5\t20000000.01\n",
		"paid amount=1234567.5 total=20000000.01\n",
		`"1e+15|0.33333333333333"`+"\n",
	)
	mustContain(t, "stderr", out.stderr, "repl:1: 20000000.01\n")
	if strings.Contains(out.stdout+out.stderr, "e+06") || strings.Contains(out.stdout+out.stderr, "e+07") {
		t.Errorf("a number in Go's exponent form:\n%s\n%s", out.stdout, out.stderr)
	}
}
