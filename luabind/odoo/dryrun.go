package odoo

import (
	"github.com/etlhost/etlhost/event"
)

// plannedRecord is a record a dry run would have created: reads of its
// placeholder id return these values.
type plannedRecord struct {
	model string
	vals  map[string]any
}

// placeholder returns the next placeholder id (-1, -2, ...) of the script.
func (st *state) placeholder(model string, vals map[string]any) int64 {
	st.nextPlaceholder--
	id := st.nextPlaceholder
	if st.planned == nil {
		st.planned = map[int64]*plannedRecord{}
	}
	copied := make(map[string]any, len(vals))
	for k, v := range vals {
		copied[k] = v
	}
	st.planned[id] = &plannedRecord{model: model, vals: copied}
	return id
}

// plan reports a write that a dry run does not send (an OdooWrite event,
// Planned), and applies it to the planned records.
func (st *state) plan(model, method string, ids []int64, values any, result string) {
	st.env.Emit(event.OdooWrite{Model: model, Method: method, IDs: ids, Values: values, Result: result, Planned: true})
	st.applyPlanned(model, method, ids, values)
}

// sent reports a write that was sent to Odoo, in any run that is not a dry
// run, failed or not (an OdooWrite event). Odoo has no transaction across
// calls, so `etlhost exec --commit` lists these when a script fails half way
// (the writes before the failure stay applied) and keeps them in its audit
// trail.
func (st *state) sent(conn, model, method string, ids []int64, values any, result string, err error) {
	w := event.OdooWrite{Connection: conn, Model: model, Method: method, IDs: ids, Values: values, Result: result}
	if err != nil {
		w.Err = err.Error()
	}
	st.env.Emit(w)
}

// applyPlanned makes planned writes and unlinks of planned records show in
// later reads of them.
func (st *state) applyPlanned(model, method string, ids []int64, values any) {
	if method == "write" {
		if m, ok := values.(map[string]any); ok {
			for _, id := range ids {
				if p := st.planned[id]; p != nil && p.model == model {
					for k, v := range m {
						p.vals[k] = v
					}
				}
			}
		}
	}
	if method == "unlink" {
		for _, id := range ids {
			if p := st.planned[id]; p != nil && p.model == model {
				delete(st.planned, id)
			}
		}
	}
}

func idsString(ids []int64) string { return event.IDs(ids) }

// plannedRows returns the planned records among ids, as read would show
// them (with only the requested fields when fields is not empty).
func (st *state) plannedRow(model string, id int64, fields []string) (map[string]any, bool) {
	p := st.planned[id]
	if p == nil || p.model != model {
		return nil, false
	}
	row := map[string]any{"id": id}
	if len(fields) == 0 {
		for k, v := range p.vals {
			row[k] = v
		}
	} else {
		for _, f := range fields {
			if v, ok := p.vals[f]; ok {
				row[f] = v
			}
		}
	}
	return row, true
}
