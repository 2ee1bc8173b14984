package odoo

import (
	"context"
	"fmt"
	"slices"
)

// Records is a list of records as read and search_read return it, decoded
// without a map per record: the member names in the order they first
// appear, and the values row by row in one flat slice. A large page thus
// costs a few allocations for its structure instead of one map (and its
// buckets) per record.
type Records struct {
	// Fields are the member names, in the order they first appear.
	Fields []string
	index  map[string]int
	values []any // row-major, len(Fields) values a row
	n      int
	open   bool // a record is being decoded
}

// absent marks a member a record did not have.
type absent struct{}

// Len is the number of records.
func (r *Records) Len() int { return r.n }

// Column returns the position of field in each row, or -1.
func (r *Records) Column(field string) int {
	if i, ok := r.index[field]; ok {
		return i
	}
	return -1
}

// Value returns record i's value of column j (see Column), and whether the
// record has that member.
func (r *Records) Value(i, j int) (any, bool) {
	if j < 0 {
		return nil, false
	}
	v := r.values[i*len(r.Fields)+j]
	if _, missing := v.(absent); missing {
		return nil, false
	}
	return v, true
}

// Map returns record i as a map, for callers that want one.
func (r *Records) Map(i int) map[string]any {
	m := make(map[string]any, len(r.Fields))
	for j, f := range r.Fields {
		if v, ok := r.Value(i, j); ok {
			m[f] = v
		}
	}
	return m
}

// column returns the position of name, adding a column when it is new.
// A new column widens the rows decoded so far: during the first record,
// and in the rare answer whose records do not all have the same members.
func (r *Records) column(name string) int {
	if j, ok := r.index[name]; ok {
		return j
	}
	if r.index == nil {
		r.index = make(map[string]int, 16)
	}
	w := len(r.Fields)
	r.index[name] = w
	r.Fields = append(r.Fields, name)
	rows := r.n
	if r.open {
		rows++
	}
	if rows > 0 {
		old := r.values
		r.values = make([]any, rows*(w+1))
		for i := 0; i < rows; i++ {
			copy(r.values[i*(w+1):i*(w+1)+w], old[i*w:(i+1)*w])
			r.values[i*(w+1)+w] = absent{}
		}
	}
	return w
}

// beginRecord appends a row of absent values.
func (r *Records) beginRecord() {
	r.open = true
	for range r.Fields {
		r.values = append(r.values, absent{})
	}
}

// set stores the current record's value of name.
func (r *Records) set(name string, v any) {
	j := r.column(name)
	r.values[r.n*len(r.Fields)+j] = v
}

func (r *Records) endRecord() {
	r.n++
	r.open = false
}

// Append adds a record given as a map.
func (r *Records) Append(m map[string]any) {
	r.beginRecord()
	for k, v := range m {
		r.set(k, v)
	}
	r.endRecord()
}

// AppendRecords adds the records of o.
func (r *Records) AppendRecords(o *Records) {
	if r.n == 0 && len(r.Fields) == 0 {
		*r = *o
		return
	}
	if slices.Equal(r.Fields, o.Fields) {
		r.values = append(r.values, o.values...)
		r.n += o.n
		return
	}
	for i := 0; i < o.n; i++ {
		r.Append(o.Map(i))
	}
}

// RecordsFromList converts a decoded list of structs (a JSON-2 answer) to
// Records.
func RecordsFromList(v any) (*Records, error) {
	l, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("expected a list of records, got %T", v)
	}
	r := &Records{}
	for i, e := range l {
		m, ok := e.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("record %d is not a struct", i+1)
		}
		r.Append(m)
	}
	return r, nil
}

// CallRecords is Call for methods that return a list of records (read,
// search_read): the answer is decoded into Records, without a map per
// record on XML-RPC.
func (c *Client) CallRecords(ctx context.Context, model, method string, args []any, kwargs map[string]any) (*Records, error) {
	x, isXMLRPC := c.tr.(*xmlrpcTransport)
	if !isXMLRPC {
		v, err := c.Call(ctx, model, method, args, kwargs)
		if err != nil {
			return nil, err
		}
		return RecordsFromList(v)
	}
	v, err := c.execute(ctx, model, method, func(ctx context.Context, uid int64) (any, error) {
		return x.executeRecords(ctx, uid, model, method, args, kwargs)
	})
	if err != nil {
		return nil, err
	}
	return v.(*Records), nil
}
