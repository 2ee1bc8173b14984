package odoo

import (
	"encoding/json"
	"fmt"

	"strings"

	"github.com/etlhost/etlhost/luabind"
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

// plan logs a write that a dry run does not send. The message starts with
// "plan: "; the fields carry the model, method, ids and values for tools.
func (st *state) plan(model, method string, ids []int64, values any, result string) {
	msg, fields := writeLine("plan: ", model, method, ids, values, result)
	if st.env.Log != nil {
		st.env.Log.Log(luabind.LevelInfo, msg, fields)
	}
	st.applyPlanned(model, method, ids, values)
}

// sent logs a write that was sent to Odoo, in any run that is not a dry
// run: a line at level info starting with "sent: ", with the same fields as
// a plan line plus the connection. Odoo has no transaction across calls, so
// `etlhost exec --commit` lists these lines when a script fails half way
// (the writes before the failure stay applied) and keeps them in its audit
// trail. A call that failed is logged at level warn with the error in the
// field "error": Odoo may have applied it all the same (a method returning
// None faults after its transaction committed; a timeout says nothing).
func (st *state) sent(conn, model, method string, ids []int64, values any, result string, err error) {
	msg, fields := writeLine("sent: ", model, method, ids, values, result)
	fields["connection"] = conn
	level := luabind.LevelInfo
	if err != nil {
		level = luabind.LevelWarn
		msg += " failed"
		fields["error"] = err.Error()
	}
	if st.env.Log != nil {
		st.env.Log.Log(level, msg, fields)
	}
}

// writeLine builds the message and fields of a plan or sent line.
func writeLine(prefix, model, method string, ids []int64, values any, result string) (string, map[string]any) {
	var b strings.Builder
	b.WriteString(prefix)
	b.WriteString(method)
	b.WriteString(" ")
	b.WriteString(model)
	if ids != nil {
		b.WriteString(" ids=")
		b.WriteString(idsString(ids))
	}
	if values != nil {
		b.WriteString(" values=")
		b.WriteString(compactJSON(values))
	}
	if result != "" {
		b.WriteString(" -> ")
		b.WriteString(result)
	}
	fields := map[string]any{"model": model, "method": method}
	if ids != nil {
		fields["ids"] = ids
	}
	if values != nil {
		fields["values"] = values
	}
	if result != "" {
		fields["result"] = result
	}
	return b.String(), fields
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

func idsString(ids []int64) string {
	parts := make([]string, len(ids))
	for i, id := range ids {
		parts[i] = fmt.Sprint(id)
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// compactJSON renders values for a plan line (map keys sorted by
// encoding/json).
func compactJSON(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	const max = 2000
	if len(b) > max {
		return string(b[:max]) + "..."
	}
	return string(b)
}

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
