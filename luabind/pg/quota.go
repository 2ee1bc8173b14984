package pg

import (
	"context"
	"fmt"
	"sync"

	lua "github.com/yuin/gopher-lua"
)

// quota counts the connections of one pool a script holds (Conn.ScriptConns):
// one script cannot take every connection of the pool and starve the
// others (ten db:iter loops left open, say).
//
// Each connection is counted against the light thread that took it. At the
// quota, a thread that holds one of them gets a quotaError at once: the
// connection it would wait for may be its own (a db:query inside db:tx, a
// loop inside a loop), which would never come back. A thread that holds
// none waits, under the script's deadline, for one of the script's other
// threads to give one back.
type quota struct {
	mu    sync.Mutex
	n     int                 // connections held
	by    map[*lua.LState]int // of which, by thread (nil: cleanup code)
	freed chan struct{}       // closed when one is given back
}

// take counts one more connection for L, limit at most.
func (q *quota) take(ctx context.Context, L *lua.LState, limit int, name string) error {
	for {
		q.mu.Lock()
		if q.n < limit {
			q.n++
			if q.by == nil {
				q.by = map[*lua.LState]int{}
			}
			q.by[L]++
			q.mu.Unlock()
			return nil
		}
		if q.by[L] > 0 || L == nil {
			held := q.n
			q.mu.Unlock()
			return &quotaError{name: name, limit: limit, held: held}
		}
		if q.freed == nil {
			q.freed = make(chan struct{})
		}
		wait := q.freed
		q.mu.Unlock()
		select {
		case <-wait:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// give counts one connection of L back.
func (q *quota) give(L *lua.LState) {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.n--
	if q.by[L]--; q.by[L] <= 0 {
		delete(q.by, L)
	}
	if q.freed != nil {
		close(q.freed)
		q.freed = nil
	}
}

// quotaError is a script asking for a connection beyond its quota (kind
// "usage").
type quotaError struct {
	name        string
	limit, held int
}

func (e *quotaError) Error() string {
	return fmt.Sprintf("connection quota exceeded: this script already holds %d of the connections to %q, its per-script quota "+
		"(%d; by default half the pool, at least 2), and this call needs one more while this thread holds one of them. "+
		"End a db:tx or finish a db:iter loop before starting another (a loop left early keeps its connection until the script ends), "+
		"inside db:tx(function(tx) ... end) run statements on tx rather than db, build the rows of a copy before calling it, "+
		"or have the quota raised (ScriptConns)", e.held, e.name, e.limit)
}
