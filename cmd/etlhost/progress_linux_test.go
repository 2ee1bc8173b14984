//go:build linux

package main

import (
	"bytes"
	"context"
	"fmt"
	"github.com/etlhost/etlhost/odoo/odoosim"
	"io"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"unsafe"
)

// openPTY opens a pseudo-terminal pair the way posix_openpt, unlockpt and
// ptsname do, with the given size. The caller reads the terminal's output
// from master.
func openPTY(t *testing.T, cols, rows int) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open /dev/ptmx: %v", err)
	}
	unlock := int32(0)
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, m.Fd(), syscall.TIOCSPTLCK, uintptr(unsafe.Pointer(&unlock))); e != 0 {
		t.Fatalf("unlockpt: %v", e)
	}
	var n uint32
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, m.Fd(), syscall.TIOCGPTN, uintptr(unsafe.Pointer(&n))); e != 0 {
		t.Fatalf("ptsname: %v", e)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open the pty's slave: %v", err)
	}
	ws := struct{ Row, Col, X, Y uint16 }{uint16(rows), uint16(cols), 0, 0}
	if _, _, e := syscall.Syscall(syscall.SYS_IOCTL, s.Fd(), syscall.TIOCSWINSZ, uintptr(unsafe.Pointer(&ws))); e != 0 {
		t.Fatalf("set the window size: %v", e)
	}
	t.Cleanup(func() { m.Close(); s.Close() })
	return m, s
}

// runInPTY runs etlhost in process with stderr on a terminal and returns
// what the terminal received.
func runInPTY(t *testing.T, env map[string]string, args ...string) (code int, raw string, stdout string) {
	t.Helper()
	master, slave := openPTY(t, 100, 40)
	var buf bytes.Buffer
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		_, _ = io.Copy(&buf, master) // ends with EIO once the slave is closed
	}()
	var out bytes.Buffer
	app := &App{Stdin: strings.NewReader(""), Stdout: &out, Stderr: slave, Getenv: func(k string) string { return env[k] }}
	code = app.Run(context.Background(), append([]string{"etlhost"}, args...))
	slave.Close()
	wg.Wait()
	return code, buf.String(), out.String()
}

// screen replays terminal output on a grid the way a terminal shows it:
// text, \r, \n, cursor up (ESC[nA), erase below (ESC[J) and to the end of
// the line (ESC[K); colours are dropped. It returns the lines left visible.
func screen(t *testing.T, raw string) []string {
	t.Helper()
	var lines [][]rune
	row, col := 0, 0
	put := func(r rune) {
		for len(lines) <= row {
			lines = append(lines, nil)
		}
		for len(lines[row]) < col {
			lines[row] = append(lines[row], ' ')
		}
		if col < len(lines[row]) {
			lines[row][col] = r
		} else {
			lines[row] = append(lines[row], r)
		}
		col++
	}
	csi := regexp.MustCompile(`^\x1b\[([0-9;?]*)([A-Za-z])`)
	for i := 0; i < len(raw); {
		if m := csi.FindStringSubmatch(raw[i:]); m != nil {
			i += len(m[0])
			n, _ := strconv.Atoi(m[1])
			switch m[2] {
			case "A":
				row = max(0, row-max(n, 1))
			case "J":
				if row < len(lines) {
					if col < len(lines[row]) {
						lines[row] = lines[row][:col]
					}
					lines = lines[:row+1]
				}
			case "K":
				if row < len(lines) && col < len(lines[row]) {
					lines[row] = lines[row][:col]
				}
			case "m":
			default:
				t.Fatalf("unexpected escape sequence %q", m[0])
			}
			continue
		}
		r, size := []rune(raw[i:])[0], len(string([]rune(raw[i:])[0]))
		i += size
		switch r {
		case '\r':
			col = 0
		case '\n':
			row++
			for len(lines) <= row {
				lines = append(lines, nil)
			}
		case '\x1b':
			t.Fatalf("unknown escape at %q", raw[i-1:min(len(raw), i+10)])
		default:
			put(r)
		}
	}
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = strings.TrimRight(string(l), " ")
	}
	return out
}

// liveScripts are three scripts: one reporting progress, one logging, one
// failing after a while.
func liveScripts(t *testing.T) []string {
	dir := t.TempDir()
	return []string{
		write(t, dir, "progressive.lua", `
			local log, task = require("log"), require("task")
			for i = 1, 10 do log.progress(i, 10); task.sleep(0.08) end
			return {rows = 10}`),
		write(t, dir, "chatty.lua", `
			local log, task = require("log"), require("task")
			log.info("fetching partners", {page = 1})
			task.sleep(0.5)
			log.warn("slow page", {page = 2})
			task.sleep(0.3)
			return {rows = 3}`),
		write(t, dir, "doomed.lua", `
			require("task").sleep(0.4)
			error("the ledger does not balance")`),
	}
}

func TestLiveViewInTerminal(t *testing.T) {
	t.Parallel()
	code, raw, _ := runInPTY(t, map[string]string{"TERM": "xterm-256color"}, append([]string{"run"}, liveScripts(t)...)...)
	if code != ExitFailed {
		t.Fatalf("exit %d\n%q", code, raw)
	}
	// Redrawn in place: the cursor goes up over the block and clears it.
	if n := strings.Count(raw, "\x1b[J"); n < 5 {
		t.Errorf("only %d redraws", n)
	}
	if !regexp.MustCompile(`\x1b\[\d+A`).MatchString(raw) {
		t.Errorf("the cursor never moved up: no redraw in place")
	}
	plain := regexp.MustCompile(`\x1b\[[0-9;]*m`).ReplaceAllString(raw, "")
	for _, re := range []string{
		// a running script's line: spinner, name, elapsed, bar, percent, done/total
		`[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] progressive +\d+\.\ds  \[█+░*\] +\d+%  \d+/10`,
		// no progress: the last log line
		`[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏] chatty +\d+\.\ds  fetching partners page=1`,
		// the status line
		`\d running · \d ok · \d failed +\d+\.\ds|3 running +\d+\.\ds`,
		// log lines and outcomes above the block
		`\d\d:\d\d:\d\d chatty \| warn  slow page page=2`,
		`✗ failed doomed \(\d+ms\)  .*doomed.lua:3: the ledger does not balance`,
		`✓ ok progressive \((\d+ms|\d\.\ds)\)  rows=10`,
	} {
		if !regexp.MustCompile(re).MatchString(plain) {
			t.Errorf("the terminal never showed %s", re)
		}
	}
	// Colours: ok green, failed bold red.
	if !strings.Contains(raw, "\x1b[32mok") || !strings.Contains(raw, "\x1b[1;31mfailed") {
		t.Errorf("no coloured statuses in %q", raw)
	}
	// What stays on the screen: log lines, outcomes and the summary table,
	// and no live line left over.
	final := strings.Join(screen(t, raw), "\n")
	for _, want := range []string{
		"Summary (completion order)",
		"  STATUS     DURATION  SCRIPT       RESULT",
		"rows=10", "rows=3", "doomed.lua:3: the ledger does not balance",
		"2 ok, 1 failed",
	} {
		if !strings.Contains(final, want) {
			t.Errorf("final screen lacks %q:\n%s", want, final)
		}
	}
	if regexp.MustCompile(`[⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏]|running`).MatchString(final) {
		t.Errorf("a live line was left on the screen:\n%s", final)
	}
	if !regexp.MustCompile(`(?m)^  ok +(\d+ms|\d\.\ds)  progressive +rows=10$`).MatchString(final) {
		t.Errorf("summary row of progressive:\n%s", final)
	}
}

func TestLiveViewNoColor(t *testing.T) {
	t.Parallel()
	code, raw, _ := runInPTY(t, map[string]string{"NO_COLOR": "1"}, append([]string{"run"}, liveScripts(t)...)...)
	if code != ExitFailed {
		t.Fatalf("exit %d", code)
	}
	if regexp.MustCompile(`\x1b\[[0-9;]*m`).MatchString(raw) {
		t.Errorf("NO_COLOR: colours were printed: %q", raw)
	}
	if !regexp.MustCompile(`\x1b\[\d+A`).MatchString(raw) || !strings.Contains(raw, "progressive") {
		t.Errorf("NO_COLOR: the live view (without colour) is still expected")
	}
	if !strings.Contains(strings.Join(screen(t, raw), "\n"), "2 ok, 1 failed") {
		t.Errorf("no summary")
	}
}

// TestPlainOutput: with --no-progress, TERM=dumb, or when stderr is not a
// terminal, etlhost prints timestamped lines: no escape sequence. On a
// terminal they start with the time of day; in a file or a pipe, with the
// full ISO 8601 date and time (a cron run's log is read on another day).
func TestPlainOutput(t *testing.T) {
	t.Parallel()
	scripts := liveScripts(t)
	const short = `\d\d:\d\d:\d\d`
	check := func(t *testing.T, out, stamp string) {
		t.Helper()
		if strings.Contains(out, "\x1b") {
			t.Errorf("escape sequences in plain output: %q", out)
		}
		for _, re := range []string{
			`(?m)^` + stamp + ` start     progressive$`,
			`(?m)^` + stamp + ` chatty \| warn  slow page page=2$`,
			`(?m)^` + stamp + ` failed    doomed \(\d+ms\)  .*the ledger does not balance$`,
			`(?m)^Summary \(completion order\)$`,
			`(?m)^Wall time .*; 2 ok, 1 failed$`,
		} {
			if !regexp.MustCompile(re).MatchString(out) {
				t.Errorf("plain output lacks %s:\n%s", re, out)
			}
		}
	}
	t.Run("not a terminal", func(t *testing.T) {
		t.Parallel()
		out := run(t, nil, append([]string{"run"}, scripts...)...)
		check(t, out.stderr, isoStamp)
	})
	t.Run("--no-progress", func(t *testing.T) {
		t.Parallel()
		_, raw, _ := runInPTY(t, nil, append([]string{"run", "--no-progress"}, scripts...)...)
		check(t, strings.ReplaceAll(raw, "\r\n", "\n"), short)
	})
	t.Run("TERM=dumb", func(t *testing.T) {
		t.Parallel()
		_, raw, _ := runInPTY(t, map[string]string{"TERM": "dumb"}, append([]string{"run"}, scripts...)...)
		check(t, strings.ReplaceAll(raw, "\r\n", "\n"), short)
	})
}

func TestScreenEmulator(t *testing.T) {
	t.Parallel()
	// The pty turns \n into \r\n (ONLCR), as here.
	got := screen(t, "a\r\nline1\r\nline2\r\n\x1b[2A\r\x1b[Jb\r\nc\r\n")
	want := []string{"a", "b", "c", ""}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("got %q, want %q", got, want)
	}
}

// TestLiveViewShowsRows: a script that reports no progress of its own shows
// the rows its modules fetched so far.
func TestLiveViewShowsRows(t *testing.T) {
	t.Parallel()
	sim := odoosim.NewServer(odoosim.Options{Moves: 200, Seed: 3})
	t.Cleanup(sim.Close)
	dir := t.TempDir()
	script := write(t, dir, "fetcher.lua", `
		local erp, task = require("odoo").connect(), require("task")
		local n = 0
		for row in erp:iter("account.move", {}, {fields = {"name"}, batch = 20, concurrency = 1}) do
			n = n + 1
			if n % 20 == 0 then task.sleep(0.05) end
		end
		return {rows = n}`)
	env := map[string]string{"TERM": "xterm-256color", "ETLHOST_ODOO_URL": sim.URL, "ETLHOST_ODOO_DB": "demo",
		"ETLHOST_ODOO_USER": "admin", "ETLHOST_ODOO_PASSWORD": "admin"}
	code, raw, _ := runInPTY(t, env, "run", script)
	if code != ExitOK {
		t.Fatalf("exit %d\n%q", code, raw)
	}
	plain := regexp.MustCompile(`\x1b\[[0-9;]*m`).ReplaceAllString(raw, "")
	if !regexp.MustCompile(`fetcher +\d+\.\ds  [1-9]\d* rows fetched, 0 loaded`).MatchString(plain) {
		t.Errorf("the live view never showed the rows fetched:\n%q", plain)
	}
}
