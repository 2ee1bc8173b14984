package bench

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// sampleInterval is how often the process tree of a child is sampled for
// peak RSS: short enough that a process ending between two samples loses
// only a few milliseconds of growth.
const sampleInterval = 5 * time.Millisecond

// Measure is what one child run cost the client machine.
type Measure struct {
	Wall time.Duration
	// User and Sys are the child's CPU time, with that of the descendants
	// it waited for (wait4's rusage): for run_all_etls.py its three ETL
	// processes are included.
	User, Sys time.Duration
	// PeakRSS is in bytes: the child's own peak (Maxrss) for a single
	// process, or, for a tree, the sum of the peaks (VmHWM) of the child's
	// direct children.
	PeakRSS int64
	// RootRSS is the tree root's own peak (the asyncio runner of the
	// baseline), apart from PeakRSS; Children is how many direct children
	// were summed. Both zero for a single process.
	RootRSS  int64
	Children int
}

// CPU is User+Sys.
func (m Measure) CPU() time.Duration { return m.User + m.Sys }

// childSpec is a child process to run and measure.
type childSpec struct {
	Path string
	Args []string
	Env  []string
	Dir  string
	// Tree: the child is a runner of other processes (run_all_etls.py);
	// its peak RSS is the sum of its direct children's, sampled from /proc.
	Tree bool
}

// runMeasured runs spec to its end and measures it. The output (stdout and
// stderr together) is returned in every case; a child that does not exit
// 0 is an error. When ctx ends the child's process group gets SIGTERM
// (run_all_etls.py and etlhost both stop their work on it), and the child
// SIGKILL 10 seconds later.
func runMeasured(ctx context.Context, spec childSpec) (Measure, []byte, error) {
	var out syncBuffer
	cmd := exec.CommandContext(ctx, spec.Path, spec.Args...)
	cmd.Env = spec.Env
	cmd.Dir = spec.Dir
	cmd.Stdout, cmd.Stderr = &out, &out
	// Its own process group: a Ctrl+C at the terminal reaches the bench,
	// which stops the child itself, with whatever it started (the whole
	// group gets SIGTERM). The child dies with the bench too.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGTERM) }
	cmd.WaitDelay = 10 * time.Second

	start := time.Now()
	if err := cmd.Start(); err != nil {
		return Measure{}, nil, err
	}
	var sampler *treeSampler
	if spec.Tree {
		sampler = startTreeSampler(cmd.Process.Pid, sampleInterval)
	}
	err := cmd.Wait()
	m := Measure{Wall: time.Since(start)}
	if sampler != nil {
		root, children, n := sampler.stop()
		m.RootRSS, m.PeakRSS, m.Children = root, children, n
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		m.User = time.Duration(ru.Utime.Nano())
		m.Sys = time.Duration(ru.Stime.Nano())
		if !spec.Tree {
			m.PeakRSS = ru.Maxrss * 1024 // kilobytes on Linux
		}
	}
	if err != nil {
		if ctx.Err() != nil {
			return m, out.Bytes(), context.Cause(ctx)
		}
		return m, out.Bytes(), fmt.Errorf("%s: %w", filepath.Base(spec.Path), err)
	}
	return m, out.Bytes(), nil
}

// syncBuffer is a bytes.Buffer safe for the two copying goroutines of
// exec (when stdout and stderr are not the same *os.File).
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}

// treeSampler polls the processes under a root every interval and keeps
// each one's latest VmHWM (its peak resident set so far). The latest, not
// the largest: a child's first reading may still be its parent's memory,
// between fork and exec.
type treeSampler struct {
	root     int
	interval time.Duration
	quit     chan struct{}
	done     chan struct{}

	mu    sync.Mutex
	procs map[int]procPeak
}

// procPeak is the latest reading of one process.
type procPeak struct {
	PPid int
	HWM  int64 // bytes
}

func startTreeSampler(root int, interval time.Duration) *treeSampler {
	s := &treeSampler{root: root, interval: interval, quit: make(chan struct{}), done: make(chan struct{}),
		procs: map[int]procPeak{}}
	s.sample() // at once: a short child may be gone by the first tick
	go s.loop()
	return s
}

func (s *treeSampler) loop() {
	defer close(s.done)
	t := time.NewTicker(s.interval)
	defer t.Stop()
	for {
		select {
		case <-s.quit:
			return
		case <-t.C:
			s.sample()
		}
	}
}

// sample reads the peak of the root and of every process under it.
func (s *treeSampler) sample() {
	seen := map[int]bool{}
	queue := []int{s.root}
	for len(queue) > 0 {
		pid := queue[0]
		queue = queue[1:]
		if seen[pid] {
			continue
		}
		seen[pid] = true
		if p, ok := readPeak(pid); ok {
			s.mu.Lock()
			s.procs[pid] = p
			s.mu.Unlock()
		}
		queue = append(queue, childPids(pid)...)
	}
}

// stop ends the sampling and returns the root's peak, the sum of its
// direct children's and how many there were.
func (s *treeSampler) stop() (root, children int64, n int) {
	close(s.quit)
	<-s.done
	s.mu.Lock()
	defer s.mu.Unlock()
	for pid, p := range s.procs {
		switch {
		case pid == s.root:
			root = p.HWM
		case p.PPid == s.root:
			children += p.HWM
			n++
		}
	}
	return root, children, n
}

// readPeak reads PPid and VmHWM from /proc/PID/status. A process that has
// exited (a zombie has no memory left to report) or is gone reads as not
// ok, and its last reading stands.
func readPeak(pid int) (procPeak, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		return procPeak{}, false
	}
	var p procPeak
	hwm := false
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		key, val, ok := strings.Cut(sc.Text(), ":")
		if !ok {
			continue
		}
		f := strings.Fields(val)
		if len(f) == 0 {
			continue
		}
		switch key {
		case "PPid":
			p.PPid, _ = strconv.Atoi(f[0])
		case "VmHWM": // "  12345 kB"
			kb, err := strconv.ParseInt(f[0], 10, 64)
			if err == nil {
				p.HWM, hwm = kb*1024, true
			}
		}
	}
	return p, hwm
}

// procChildren says whether /proc/PID/task/TID/children exists on this
// kernel (CONFIG_PROC_CHILDREN); without it childPids scans /proc.
var procChildren = sync.OnceValue(func() bool {
	_, err := os.Stat(fmt.Sprintf("/proc/%d/task/%d/children", os.Getpid(), os.Getpid()))
	return err == nil
})

// childPids lists the direct children of pid.
func childPids(pid int) []int {
	if !procChildren() {
		return scanChildren(pid)
	}
	tasks, _ := filepath.Glob("/proc/" + strconv.Itoa(pid) + "/task/*/children")
	var out []int
	for _, t := range tasks {
		b, err := os.ReadFile(t)
		if err != nil {
			continue
		}
		for _, f := range strings.Fields(string(b)) {
			if c, err := strconv.Atoi(f); err == nil {
				out = append(out, c)
			}
		}
	}
	return out
}

// scanChildren finds the children of pid by the PPid of every process.
func scanChildren(pid int) []int {
	entries, err := os.ReadDir("/proc")
	if err != nil {
		return nil
	}
	var out []int
	for _, e := range entries {
		c, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		if p, err := readPPid(c); err == nil && p == pid {
			out = append(out, c)
		}
	}
	return out
}

// readPPid reads the parent of pid from /proc/PID/stat, whose second
// field (the command name, in parentheses) may hold spaces.
func readPPid(pid int) (int, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, err
	}
	f, err := statFields(b)
	if err != nil {
		return 0, err
	}
	return strconv.Atoi(f[1])
}

// statFields returns the fields of /proc/PID/stat after the command name:
// field 3 of proc(5) (the state) is [0], the parent [1], utime [11], stime
// [12].
func statFields(b []byte) ([]string, error) {
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return nil, errors.New("malformed /proc stat")
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return nil, errors.New("malformed /proc stat")
	}
	return f, nil
}

// clockTicks is USER_HZ, the unit of /proc/PID/stat's times: 100 on every
// Linux architecture Go supports (sysconf(_SC_CLK_TCK) would need cgo).
const clockTicks = 100

// processCPU is the CPU time (user+sys) pid has used so far, from
// /proc/PID/stat: the simulator's own, measured around each run.
func processCPU(pid int) (time.Duration, error) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return 0, fmt.Errorf("process %d is gone", pid)
		}
		return 0, err
	}
	f, err := statFields(b)
	if err != nil {
		return 0, err
	}
	u, err1 := strconv.ParseInt(f[11], 10, 64)
	s, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0, errors.New("malformed /proc stat")
	}
	return time.Duration(u+s) * time.Second / clockTicks, nil
}
