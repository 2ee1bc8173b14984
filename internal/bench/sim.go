package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os/exec"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// Counters are the simulator's work counters (GET /sim/stats), for the
// whole server or for one (model, method).
type Counters struct {
	// Calls is the number of XML-RPC/JSON-2 calls served.
	Calls int64 `json:"calls"`
	// Examined is the records a search looked at to answer (the server's
	// scan), Read the records whose fields it returned.
	Examined int64 `json:"examined"`
	Read     int64 `json:"read"`
	// ResponseBytes is the size of the response bodies.
	ResponseBytes int64 `json:"response_bytes"`
	// ServingSeconds is the time calls held a worker of the simulator
	// (decoding, running, the simulated costs, writing the response; not
	// the latency nor the wait for a worker), summed over calls.
	ServingSeconds float64 `json:"serving_seconds"`
}

// CallStats are the counters of one (model, method).
type CallStats struct {
	Model  string `json:"model"`
	Method string `json:"method"`
	Counters
}

// SimStats is the body of GET /sim/stats and POST /sim/stats/reset.
type SimStats struct {
	Counters
	ByCall []CallStats `json:"by_call"`
}

// statsClient reads the counters of a simulator at base (http://host:port).
type statsClient struct {
	base string
	http *http.Client
}

func newStatsClient(base string) *statsClient {
	return &statsClient{base: strings.TrimRight(base, "/"), http: &http.Client{Timeout: 30 * time.Second}}
}

// Get returns the counters since the last reset.
func (c *statsClient) Get(ctx context.Context) (SimStats, error) {
	return c.do(ctx, http.MethodGet, "/sim/stats")
}

// Reset zeroes the counters and returns them as they were.
func (c *statsClient) Reset(ctx context.Context) (SimStats, error) {
	return c.do(ctx, http.MethodPost, "/sim/stats/reset")
}

func (c *statsClient) do(ctx context.Context, method, path string) (SimStats, error) {
	req, err := http.NewRequestWithContext(ctx, method, c.base+path, nil)
	if err != nil {
		return SimStats{}, err
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return SimStats{}, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return SimStats{}, fmt.Errorf("%s %s: %w", method, path, err)
	}
	if resp.StatusCode != http.StatusOK {
		return SimStats{}, &statusError{method: method, path: path, status: resp.Status, body: truncate(string(body), 200)}
	}
	var s SimStats
	if err := json.Unmarshal(body, &s); err != nil {
		return SimStats{}, fmt.Errorf("%s %s: %w", method, path, err)
	}
	return s, nil
}

// simProcess is an `etlhost odoo-sim` running in a process of its own, so
// the CPU it spends serving is not the client's.
type simProcess struct {
	URL   string
	Stats *statsClient
	pid   int
	cmd   *exec.Cmd
	out   *syncBuffer
	// exited is closed when the process has ended; waitErr is then its
	// Wait error.
	exited  chan struct{}
	waitErr error
}

// simArgs are the flags of `etlhost odoo-sim` for opts; zero costs give a
// simulator without latency or costs (the one verify.py reads).
func simArgs(addr string, o *Options, costs bool) []string {
	args := []string{"odoo-sim", "--addr", addr,
		"--moves", strconv.Itoa(o.Moves), "--seed", strconv.FormatInt(o.Seed, 10)}
	if costs {
		args = append(args,
			"--latency", o.Latency.String(), "--workers", strconv.Itoa(o.Workers),
			"--cost-call", o.CostCall.String(), "--cost-examine", o.CostExamine.String(),
			"--cost-read", o.CostRead.String())
	} else {
		args = append(args, "--latency", "0s", "--cost-call", "0s", "--cost-examine", "0s", "--cost-read", "0s")
	}
	return args
}

// startSim starts `exe odoo-sim` on a free port of 127.0.0.1 with the
// arguments of simArgs and waits until GET /sim/stats answers. The server
// dies with this process (parent-death signal) even if it is killed.
func startSim(ctx context.Context, exe string, o *Options, costs bool) (*simProcess, error) {
	var lastErr error
	for attempt := 0; attempt < 3; attempt++ {
		port, err := freePort()
		if err != nil {
			return nil, err
		}
		addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		sp, err := launchSim(ctx, exe, simArgs(addr, o, costs))
		if err == nil {
			return sp, nil
		}
		lastErr = err
		// Someone took the port between our probe and the server's
		// listen: try another one.
		if !strings.Contains(err.Error(), "cannot listen") {
			break
		}
	}
	return nil, lastErr
}

func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

func launchSim(ctx context.Context, exe string, args []string) (*simProcess, error) {
	addr := args[2]
	sp := &simProcess{URL: "http://" + addr, Stats: newStatsClient("http://" + addr),
		out: &syncBuffer{}, exited: make(chan struct{})}
	cmd := exec.Command(exe, args...)
	cmd.Stdout, cmd.Stderr = sp.out, sp.out
	// SIGTERM, not the terminal's SIGINT, stops it (stop): its own group.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	sp.cmd = cmd
	started := make(chan error, 1)
	go func() {
		// The parent-death signal fires when the thread that forked the
		// child exits: keep this goroutine on its thread, blocked in Wait,
		// for the server's lifetime (as pgcluster does for postgres).
		runtime.LockOSThread()
		if err := cmd.Start(); err != nil {
			started <- err
			close(sp.exited)
			runtime.UnlockOSThread()
			return
		}
		started <- nil
		sp.waitErr = cmd.Wait()
		close(sp.exited)
	}()
	if err := <-started; err != nil {
		return nil, fmt.Errorf("start %s odoo-sim: %w", exe, err)
	}
	sp.pid = cmd.Process.Pid

	// Generating 200000 moves takes a while: wait as long as the server
	// is alive, up to a bound.
	deadline := time.Now().Add(5 * time.Minute)
	for {
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		_, err := sp.Stats.Get(pctx)
		cancel()
		if err == nil {
			return sp, nil
		}
		select {
		case <-sp.exited:
			return nil, fmt.Errorf("odoo-sim exited during start (%v): %s", sp.waitErr, truncate(string(sp.out.Bytes()), 2000))
		case <-ctx.Done():
			sp.stop()
			return nil, context.Cause(ctx)
		case <-time.After(50 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			sp.stop()
			return nil, fmt.Errorf("odoo-sim on %s did not answer GET /sim/stats within 5 minutes: %v\n%s",
				addr, err, truncate(string(sp.out.Bytes()), 2000))
		}
		var se *statusError
		if errors.As(err, &se) {
			sp.stop()
			return nil, fmt.Errorf("odoo-sim on %s: %w (an etlhost without the simulator's counters?)", addr, err)
		}
	}
}

// statusError is an answer of the simulator other than 200 OK: a server
// that answers but has no /sim/stats fails the start at once.
type statusError struct {
	method, path, status, body string
}

func (e *statusError) Error() string {
	return fmt.Sprintf("%s %s: %s: %s", e.method, e.path, e.status, e.body)
}

// CPU is the CPU time the simulator process has used so far.
func (sp *simProcess) CPU() (time.Duration, error) { return processCPU(sp.pid) }

// stop ends the simulator: SIGTERM (it shuts down gracefully), SIGKILL
// after 5 seconds.
func (sp *simProcess) stop() {
	select {
	case <-sp.exited:
		return
	default:
	}
	_ = sp.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-sp.exited:
	case <-time.After(5 * time.Second):
		_ = sp.cmd.Process.Kill()
		<-sp.exited
	}
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
