package odoosim

import (
	"context"
	"math"
	"net/http"
	"time"
)

// The cost model: a real Odoo serves a call on one of a few workers, and
// the time the call holds it grows with what the ORM does. The simulator
// answers in microseconds whatever the call does; with Options.Workers and
// the Cost* options the wall time of a run on it responds to the calls and
// records a script asks for the way it does on a real server.

// onWorker serves one call on a worker: it waits for a free one
// (Options.Workers), runs serve on it with a writer that counts the
// response's bytes, and adds the call to the stats before letting the
// worker go, so that a client that has read its whole response finds its
// call counted. A call whose client goes away, or whose simulator closes,
// while it waits is not served and not counted. wk is the call's work,
// which serve fills in (model, method, records).
func (s *Sim) onWorker(w http.ResponseWriter, r *http.Request, wk *work, serve func(http.ResponseWriter)) {
	if err := s.acquire(r.Context()); err != nil {
		s.abandon(w, err)
		return
	}
	s.serving.Add(1)
	start := time.Now()
	cw := &countingWriter{ResponseWriter: w}
	defer func() {
		s.stats.add(wk, cw.n, time.Since(start))
		s.serving.Add(-1)
		s.release()
	}()
	serve(cw)
}

// acquire takes a worker, waiting until one is free, ctx ends or the
// simulator closes.
func (s *Sim) acquire(ctx context.Context) error {
	if s.workers == nil {
		return nil
	}
	select {
	case s.workers <- struct{}{}:
		return nil
	default:
	}
	s.waiting.Add(1)
	defer s.waiting.Add(-1)
	select {
	case s.workers <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	case <-s.closed:
		return errClosed
	}
}

func (s *Sim) release() {
	if s.workers != nil {
		<-s.workers
	}
}

// SetCost sets the busy time of a call (see Options.CostPerCall,
// CostPerExamined and CostPerRead); calls that start after it pay it.
// Negative durations count as 0.
func (s *Sim) SetCost(perCall, perExamined, perRead time.Duration) {
	s.costCall.Store(int64(max(perCall, 0)))
	s.costExamined.Store(int64(max(perExamined, 0)))
	s.costRead.Store(int64(max(perRead, 0)))
}

// busyFor is the time a call that did wk keeps its worker busy after it
// ran: CostPerCall + examined×CostPerExamined + read×CostPerRead, capped
// rather than overflowing.
func (s *Sim) busyFor(wk *work) time.Duration {
	d := satAdd(time.Duration(s.costCall.Load()), satMul(wk.examined, time.Duration(s.costExamined.Load())))
	return satAdd(d, satMul(wk.read, time.Duration(s.costRead.Load())))
}

// busy keeps the worker for the call's busy time, before the response is
// written; it returns early when the client goes away or the simulator
// closes.
func (s *Sim) busy(ctx context.Context, wk *work) error {
	return s.wait(ctx, s.busyFor(wk))
}

func satMul(n int64, d time.Duration) time.Duration {
	if n <= 0 || d <= 0 {
		return 0
	}
	if n > math.MaxInt64/int64(d) {
		return math.MaxInt64
	}
	return time.Duration(n) * d
}

func satAdd(a, b time.Duration) time.Duration {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}
