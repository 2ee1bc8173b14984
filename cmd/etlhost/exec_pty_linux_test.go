//go:build linux

package main

import (
	"bytes"
	"context"
	"io"
	"strings"
	"testing"
)

// TestExecConfirmOnTerminal: with stdin on a terminal a commit asks
// without --confirm; the answer typed there decides.
func TestExecConfirmOnTerminal(t *testing.T) {
	t.Parallel()
	for _, answer := range []string{"n", "y"} {
		t.Run(answer, func(t *testing.T) {
			t.Parallel()
			b := setupFix(t)
			master, slave := openPTY(t, 100, 40)
			if !isTTY(slave) {
				t.Fatal("the pty's slave is not seen as a terminal")
			}
			go func() { _, _ = io.Copy(io.Discard, master) }() // the echo
			if _, err := master.Write([]byte(answer + "\n")); err != nil {
				t.Fatal(err)
			}
			var stdout, stderr bytes.Buffer
			app := &App{Stdin: slave, Stdout: &stdout, Stderr: &stderr, Getenv: func(k string) string { return b.env[k] }}
			code := app.Run(context.Background(), []string{"etlhost", "exec", "--commit", "--confirm-over", "5", "--audit-file", b.audit, b.script(t)})
			if !strings.Contains(stderr.String(), "Apply these 6 changes? [y/N]") {
				t.Fatalf("not asked on a terminal:\n%s", stderr.String())
			}
			applied := b.partnerNamed("Fix SARL") != nil
			if answer == "y" && (code != ExitOK || !applied) || answer == "n" && (code != ExitFailed || applied || b.report(t) != reportBefore) {
				t.Fatalf("answer %s: exit %d, applied %v\n%s\n%s", answer, code, applied, stdout.String(), stderr.String())
			}
		})
	}
}
