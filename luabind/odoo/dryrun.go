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
	var b strings.Builder
	b.WriteString("plan: ")
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
	if st.env.Log != nil {
		st.env.Log.Log(luabind.LevelInfo, b.String(), fields)
	}
	// Writes to planned records update what reads of them return.
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
