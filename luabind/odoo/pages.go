package odoo

import (
	"context"
	"strings"
	"sync"

	lua "github.com/yuin/gopher-lua"

	"github.com/etlhost/etlhost/luabind"
	"github.com/etlhost/etlhost/odoo"
)

// DefaultConcurrency is how many pages search_read and iter fetch at once
// when a script pages with opts.batch. The client's MaxInFlight still
// bounds the requests of the whole run on each connection.
const DefaultConcurrency = 4

// pager reads the rows of search_read and iter page by page, asking the
// server for the least work. With opts.batch (a script expecting many rows)
// one search evaluates the domain once and returns the ids of every
// matching record in the requested order (with opts.offset and
// opts.limit); then read fetches those ids in chunks of the batch size, up
// to the concurrency side by side, handed over in order. A read by id makes
// the server test no domain, so no record is examined twice, and each row
// comes exactly once.
//
// Without opts.batch (reference data, small results) the first page is one
// search_read in id order: a result that fits it costs one call. When the
// page is full, the ids of the rest come from a search bounded by the last
// id of the page (the primary key narrows it: no record is tested twice),
// and are read as above.
//
// What a row holds when records change during the read: the set of rows is
// the records that matched when the search ran; each row's values are those
// of the moment its chunk was read. A record changed in between comes with
// its new values even if it no longer matches the domain; a record deleted
// in between is left out (Odoo's read skips missing records); a record that
// starts matching after the search is not seen.
type pager struct {
	c      *conn
	model  string
	domain []any
	o      searchOpts
	size   int
	pages  *pageFetcher
	first  *odoo.Records // the first page, when it came with search_read
	done   bool
}

func (c *conn) newPager(model string, domain []any, o searchOpts) *pager {
	size := o.batch
	if size == 0 {
		size = DefaultBatch
	}
	return &pager{c: c, model: model, domain: domain, o: o, size: size}
}

func (p *pager) concurrency() int {
	if p.o.concurrency > 0 {
		return p.o.concurrency
	}
	return DefaultConcurrency
}

// next returns the next page of rows (nil once done).
func (p *pager) next(L *lua.LState) *odoo.Records {
	if p.done {
		return nil
	}
	if p.pages == nil {
		p.start(L)
		if first := p.first; first != nil {
			p.first = nil
			p.done = p.pages.finished()
			return first
		}
		if p.pages.finished() {
			p.done = true
			return nil
		}
	}
	rows := p.pages.next(L)
	if p.pages.finished() {
		p.done = true
	}
	return rows
}

// start runs the search (after the first page without opts.batch) and
// sets the reads of its ids going.
func (p *pager) start(L *lua.LState) {
	order := p.o.order
	if order == "" {
		order = "id" // Odoo's default order is the model's _order, not the id
	}
	domain, offset, limit := p.domain, p.o.offset, p.o.limit
	if byID, desc := idOrder(order); byID && p.o.batch == 0 {
		lim := p.size
		if limit > 0 {
			lim = min(lim, limit)
		}
		p.first = p.c.searchReadCall(L, p.model, domain, withID(p.o.fields), offset, lim, order, p.o.context)
		n := p.first.Len()
		p.c.st.env.CountRows(int64(n), 0)
		if n < lim || limit == lim {
			p.pages = newPageFetcher(L, p.c, p.model, nil, nil, 1)
			return
		}
		v, _ := p.first.Value(n-1, p.first.Column("id"))
		last, ok := v.(int64)
		if !ok {
			raisef(L, "odoo: search_read %s: a row came back without an integer id; cannot page", p.model)
		}
		op := cond(desc, "<", ">")
		domain = append(append(make([]any, 0, len(domain)+1), domain...), []any{"id", op, last})
		offset = 0
		if limit > 0 {
			limit -= n
		}
	}
	kw := map[string]any{"order": order}
	if offset > 0 {
		kw["offset"] = offset
	}
	if limit > 0 {
		kw["limit"] = limit
	}
	if p.o.context != nil {
		kw["context"] = p.o.context
	}
	v := p.c.do(L, p.model, "search", []any{domain}, kw)
	ids, err := odoo.AsIDs(v)
	if err != nil {
		p.c.fail(L, p.model, "search", err)
	}
	var chunks [][]int64
	for len(ids) > 0 {
		n := min(p.size, len(ids))
		chunks = append(chunks, ids[:n:n])
		ids = ids[n:]
	}
	kwRead := map[string]any{}
	if fields := withID(p.o.fields); len(fields) > 0 {
		kwRead["fields"] = fields
	}
	if p.o.context != nil {
		kwRead["context"] = p.o.context
	}
	p.pages = newPageFetcher(L, p.c, p.model, kwRead, chunks, p.concurrency())
}

// idOrder tells whether order sorts by id alone, and whether descending.
func idOrder(order string) (byID, desc bool) {
	switch strings.ToLower(strings.Join(strings.Fields(order), " ")) {
	case "id", "id asc":
		return true, false
	case "id desc":
		return true, true
	}
	return false, false
}

func cond[T any](c bool, a, b T) T {
	if c {
		return a
	}
	return b
}

type pageResult struct {
	rows   *odoo.Records
	err    error
	charge *answerCharge // released once the page is handed over
}

// answerCost is what an Odoo answer costs the script's memory per byte
// while it is read and decoded: the body, the decoded records, then their
// Lua rows (measured by the host once they are Lua values).
const answerCost = 3

// answerCharge charges the answers of a call to the script's memory
// account as they are read, so an answer too big for the script's limit
// stops being read, until release.
type answerCharge struct {
	mem     luabind.Memory
	mu      sync.Mutex
	charged int64
}

func newAnswerCharge(mem luabind.Memory) *answerCharge { return &answerCharge{mem: mem} }

func (a *answerCharge) context(ctx context.Context) context.Context {
	return odoo.WithCharge(ctx, func(n int64) error {
		n *= answerCost
		a.mu.Lock()
		a.charged += n
		a.mu.Unlock()
		return a.mem.Keep(n)
	})
}

// release returns what the call charged.
func (a *answerCharge) release() {
	if a == nil {
		return
	}
	a.mu.Lock()
	n := a.charged
	a.charged = 0
	a.mu.Unlock()
	if n > 0 {
		a.mem.Release(n)
	}
}

// pageFetcher reads chunks of ids in the background, at most window of
// them requested but not yet consumed, and hands them over in order. With a
// window of 1 it sends one request at a time.
type pageFetcher struct {
	c       *conn
	model   string
	results []chan pageResult
	pos     int
	window  chan struct{}
	cancel  context.CancelFunc
}

func newPageFetcher(L *lua.LState, c *conn, model string, kw map[string]any, chunks [][]int64, window int) *pageFetcher {
	mem := luabind.MemoryOf(L)
	ctx, cancel := context.WithCancel(c.st.env.Ctx)
	f := &pageFetcher{c: c, model: model, results: make([]chan pageResult, len(chunks)),
		window: make(chan struct{}, window), cancel: cancel}
	for i := range f.results {
		f.results[i] = make(chan pageResult, 1)
	}
	if len(chunks) == 0 {
		cancel()
		return f
	}
	c.st.env.OnClose(func() {
		cancel()
		// Pages fetched ahead and never handed over give their charge back.
		for _, ch := range f.results {
			select {
			case r := <-ch:
				r.charge.release()
			default:
			}
		}
	})
	go func() {
		for i, chunk := range chunks {
			select {
			case f.window <- struct{}{}:
			case <-ctx.Done():
				return
			}
			go func(i int, chunk []int64) {
				charge := newAnswerCharge(mem)
				rows, err := c.client.CallRecords(charge.context(ctx), model, "read", []any{chunk}, kw)
				f.results[i] <- pageResult{rows, err, charge}
			}(i, chunk)
		}
	}()
	return f
}

func (f *pageFetcher) finished() bool { return f.pos >= len(f.results) }

// next waits for the next chunk in order (other light threads run meanwhile).
func (f *pageFetcher) next(L *lua.LState) *odoo.Records {
	if f.finished() {
		return nil
	}
	var r pageResult
	err := f.c.st.env.Block(func(ctx context.Context) error {
		select {
		case r = <-f.results[f.pos]:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	f.pos++
	if err != nil {
		// The script's context ended first: the page may never have been
		// asked for (the dispatcher stops at the same moment), so its
		// window slot is not ours to wait for.
		f.cancel()
		f.c.fail(L, f.model, "read", err)
		return nil
	}
	r.charge.release()
	<-f.window // a result received was asked for: it holds a slot
	if f.finished() {
		f.cancel()
	}
	if err = r.err; err != nil {
		f.cancel()
		f.c.fail(L, f.model, "read", err)
	}
	f.c.st.env.CountRows(int64(r.rows.Len()), 0)
	return r.rows
}
