package odoo

import (
	"context"
	"fmt"

	lua "github.com/yuin/gopher-lua"

	"github.com/etlhost/etlhost/odoo"
)

// DefaultConcurrency is how many pages search_read and iter fetch at once
// when a script pages with opts.batch. The client's MaxInFlight still
// bounds the requests of the whole run on each connection.
const DefaultConcurrency = 4

func (p *pager) concurrency() int {
	if p.o.concurrency > 0 {
		return p.o.concurrency
	}
	return DefaultConcurrency
}

// firstPageWithIDs fetches the first page and, side by side, the ids of
// every matching row (with the same offset and limit), and keeps the ids
// for startConcurrent. It saves the round trip a search after the first
// page would cost.
func (p *pager) firstPageWithIDs(L *lua.LState, offset, lim int, order string) []map[string]any {
	kwPage := map[string]any{"order": order, "limit": lim}
	kwIDs := map[string]any{"order": order}
	if fields := withID(p.o.fields); len(fields) > 0 {
		kwPage["fields"] = fields
	}
	if offset > 0 {
		kwPage["offset"], kwIDs["offset"] = offset, offset
	}
	if p.o.limit > 0 {
		kwIDs["limit"] = p.o.limit
	}
	if p.o.context != nil {
		kwPage["context"], kwIDs["context"] = p.o.context, p.o.context
	}
	var pageV, idsV any
	var idsErr error
	err := p.c.st.env.Block(func(ctx context.Context) error {
		done := make(chan struct{})
		go func() {
			defer close(done)
			idsV, idsErr = p.c.client.Call(ctx, p.model, "search", []any{p.domain}, kwIDs)
		}()
		var err error
		pageV, err = p.c.client.Call(ctx, p.model, "search_read", []any{p.domain}, kwPage)
		<-done
		return err
	})
	if err != nil {
		p.c.fail(L, p.model, "search_read", err)
	}
	rows, err := plainRows(pageV)
	if err != nil {
		raisef(L, "odoo: search_read %s: %v", p.model, err)
	}
	if len(rows) == lim {
		if idsErr != nil {
			p.c.fail(L, p.model, "search", idsErr)
		}
		if p.ids, err = odoo.AsIDs(idsV); err != nil {
			p.c.fail(L, p.model, "search", err)
		}
	}
	return rows
}

// startConcurrent switches the pager, after a full first page, to fetching
// the remaining rows side by side. Paging by id is sequential by nature
// (each page starts after the last id of the one before), so the ids of the
// remaining rows come first (fetched with the first page), then the rows
// in chunks of the batch size, each with search_read on domain + {{"id",
// "in", chunk}}: the domain is checked again when each chunk is read, and
// since the chunks split the ids after the first page's last one, no row
// comes twice or goes missing.
func (p *pager) startConcurrent(L *lua.LState) {
	order := "id"
	if p.desc {
		order = "id desc"
	}
	// The remaining ids: those after the first page's last id. A row added
	// after the ids were read comes no more than it would by keyset paging.
	var ids []int64
	for i, id := range p.ids {
		if (!p.desc && id > p.last) || (p.desc && id < p.last) {
			ids = p.ids[i:]
			break
		}
	}
	p.ids = nil
	if p.o.limit > 0 && len(ids) > p.o.limit-p.fetched {
		ids = ids[:p.o.limit-p.fetched]
	}
	var chunks [][]int64
	for len(ids) > 0 {
		n := min(p.size, len(ids))
		chunks = append(chunks, ids[:n])
		ids = ids[n:]
	}
	kwPage := map[string]any{"order": order}
	if fields := withID(p.o.fields); len(fields) > 0 {
		kwPage["fields"] = fields
	}
	if p.o.context != nil {
		kwPage["context"] = p.o.context
	}
	p.pages = newPageFetcher(p.c, p.model, p.domain, kwPage, chunks, p.concurrency())
	if len(chunks) == 0 {
		p.done = true
	}
}

type pageResult struct {
	rows []map[string]any
	err  error
}

// pageFetcher fetches chunks of ids in the background, at most window of
// them fetched but not yet consumed, and hands them over in order.
type pageFetcher struct {
	c       *conn
	model   string
	results []chan pageResult
	pos     int
	window  chan struct{}
	cancel  context.CancelFunc
}

func newPageFetcher(c *conn, model string, domain []any, kw map[string]any, chunks [][]int64, window int) *pageFetcher {
	ctx, cancel := context.WithCancel(c.st.env.Ctx)
	f := &pageFetcher{c: c, model: model, results: make([]chan pageResult, len(chunks)),
		window: make(chan struct{}, window), cancel: cancel}
	for i := range f.results {
		f.results[i] = make(chan pageResult, 1)
	}
	c.st.env.OnClose(cancel)
	go func() {
		for i, chunk := range chunks {
			select {
			case f.window <- struct{}{}:
			case <-ctx.Done():
				return
			}
			ids := make([]any, len(chunk))
			for j, id := range chunk {
				ids[j] = id
			}
			dom := append(append(make([]any, 0, len(domain)+1), domain...), []any{"id", "in", ids})
			go func(i int) {
				v, err := c.client.Call(ctx, model, "search_read", []any{dom}, kw)
				var rows []map[string]any
				if err == nil {
					rows, err = plainRows(v)
				}
				f.results[i] <- pageResult{rows, err}
			}(i)
		}
	}()
	return f
}

func (f *pageFetcher) finished() bool { return f.pos >= len(f.results) }

// next waits for the next chunk in order (other light threads run meanwhile).
func (f *pageFetcher) next(L *lua.LState) []map[string]any {
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
	<-f.window
	if f.finished() {
		f.cancel()
	}
	if err == nil {
		err = r.err
	}
	if err != nil {
		f.cancel()
		f.c.fail(L, f.model, "search_read", err)
	}
	f.c.st.env.CountRows(int64(len(r.rows)), 0)
	return r.rows
}

// plainRows is rowsOf without a Lua state, for fetches in the background.
func plainRows(v any) ([]map[string]any, error) {
	l, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("expected a list of records, got %T", v)
	}
	rows := make([]map[string]any, len(l))
	for i, e := range l {
		m, ok := e.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("record %d is not a struct", i+1)
		}
		rows[i] = m
	}
	return rows, nil
}
