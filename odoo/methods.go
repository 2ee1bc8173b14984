package odoo

import (
	"context"
	"fmt"
)

// SearchOptions are the optional arguments of Search and SearchRead.
type SearchOptions struct {
	// Fields to read (SearchRead). Always name them: reading every field
	// computes Odoo's expensive non-stored ones.
	Fields []string
	// Offset and Limit page the result; Limit 0 means no limit (Odoo has no
	// default limit).
	Offset, Limit int
	// Order is an SQL-like order ("id", "date desc, id"); empty means the
	// model's _order, which is not unique: page by id instead of by offset.
	Order string
	// Context is Odoo's context (lang, tz, active_test, allowed_company_ids).
	Context map[string]any
}

func (o SearchOptions) kwargs(withFields bool) map[string]any {
	kw := map[string]any{}
	if withFields && len(o.Fields) > 0 {
		kw["fields"] = o.Fields
	}
	if o.Offset > 0 {
		kw["offset"] = o.Offset
	}
	if o.Limit > 0 {
		kw["limit"] = o.Limit
	}
	if o.Order != "" {
		kw["order"] = o.Order
	}
	if o.Context != nil {
		kw["context"] = o.Context
	}
	return kw
}

func domainArg(domain []any) []any {
	if domain == nil {
		return []any{}
	}
	return domain
}

// SearchRead returns the rows matching domain, as Odoo sends them (False for
// empty values, [id, name] for many2one).
func (c *Client) SearchRead(ctx context.Context, model string, domain []any, opts SearchOptions) ([]map[string]any, error) {
	v, err := c.Call(ctx, model, "search_read", []any{domainArg(domain)}, opts.kwargs(true))
	if err != nil {
		return nil, err
	}
	return asRows(model, "search_read", v)
}

// Search returns the ids matching domain (Fields is ignored).
func (c *Client) Search(ctx context.Context, model string, domain []any, opts SearchOptions) ([]int64, error) {
	v, err := c.Call(ctx, model, "search", []any{domainArg(domain)}, opts.kwargs(false))
	if err != nil {
		return nil, err
	}
	return AsIDs(v)
}

// SearchCount returns the number of records matching domain.
func (c *Client) SearchCount(ctx context.Context, model string, domain []any) (int64, error) {
	v, err := c.Call(ctx, model, "search_count", []any{domainArg(domain)}, nil)
	if err != nil {
		return 0, err
	}
	n, ok := v.(int64)
	if !ok {
		return 0, fmt.Errorf("odoo: %s.search_count: expected an integer, got %T", model, v)
	}
	return n, nil
}

// Read returns the given records. Odoo silently drops ids that no longer
// exist, so the result may be shorter than ids.
func (c *Client) Read(ctx context.Context, model string, ids []int64, fields []string) ([]map[string]any, error) {
	kw := map[string]any{}
	if len(fields) > 0 {
		kw["fields"] = fields
	}
	v, err := c.Call(ctx, model, "read", []any{ids}, kw)
	if err != nil {
		return nil, err
	}
	return asRows(model, "read", v)
}

// FieldsGet describes the model's fields: name -> attribute -> value. Pass
// the attributes wanted (for example "string", "type", "relation"): without
// them Odoo sends every attribute of every field.
func (c *Client) FieldsGet(ctx context.Context, model string, attributes []string) (map[string]map[string]any, error) {
	kw := map[string]any{}
	if len(attributes) > 0 {
		kw["attributes"] = attributes
	}
	v, err := c.Call(ctx, model, "fields_get", nil, kw)
	if err != nil {
		return nil, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("odoo: %s.fields_get: expected a struct, got %T", model, v)
	}
	out := make(map[string]map[string]any, len(m))
	for name, a := range m {
		attrs, ok := a.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("odoo: %s.fields_get: field %s: expected a struct, got %T", model, name, a)
		}
		out[name] = attrs
	}
	return out, nil
}

// Create creates one record and returns its id. It is sent once, never
// retried.
func (c *Client) Create(ctx context.Context, model string, vals map[string]any) (int64, error) {
	v, err := c.Call(ctx, model, "create", []any{vals}, nil)
	if err != nil {
		return 0, err
	}
	if l, ok := v.([]any); ok && len(l) == 1 {
		v = l[0]
	}
	id, ok := v.(int64)
	if !ok {
		return 0, fmt.Errorf("odoo: %s.create: expected an id, got %T", model, v)
	}
	return id, nil
}

// CreateMulti creates several records in one call and returns their ids.
func (c *Client) CreateMulti(ctx context.Context, model string, vals []map[string]any) ([]int64, error) {
	list := make([]any, len(vals))
	for i, m := range vals {
		list[i] = m
	}
	v, err := c.Call(ctx, model, "create", []any{list}, nil)
	if err != nil {
		return nil, err
	}
	return AsIDs(v)
}

// Write sets vals on the records. A nil value is sent as False (empties the
// field).
func (c *Client) Write(ctx context.Context, model string, ids []int64, vals map[string]any) error {
	_, err := c.Call(ctx, model, "write", []any{ids, vals}, nil)
	return err
}

// Unlink deletes the records.
func (c *Client) Unlink(ctx context.Context, model string, ids []int64) error {
	_, err := c.Call(ctx, model, "unlink", []any{ids}, nil)
	return err
}

// NameSearchOptions are the optional arguments of NameSearch.
type NameSearchOptions struct {
	Domain   []any
	Operator string // default "ilike"
	Limit    int    // default 100 (Odoo's)
}

// NamePair is one result of NameSearch.
type NamePair struct {
	ID   int64
	Name string
}

// NameSearch finds records by display name.
func (c *Client) NameSearch(ctx context.Context, model, name string, opts NameSearchOptions) ([]NamePair, error) {
	kw := map[string]any{"name": name}
	if opts.Domain != nil {
		kw["domain"] = opts.Domain
	}
	if opts.Operator != "" {
		kw["operator"] = opts.Operator
	}
	if opts.Limit > 0 {
		kw["limit"] = opts.Limit
	}
	v, err := c.Call(ctx, model, "name_search", nil, kw)
	if err != nil {
		return nil, err
	}
	l, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("odoo: %s.name_search: expected a list, got %T", model, v)
	}
	out := make([]NamePair, 0, len(l))
	for _, e := range l {
		p, ok := e.([]any)
		if !ok || len(p) != 2 {
			return nil, fmt.Errorf("odoo: %s.name_search: expected [id, name] pairs, got %v", model, e)
		}
		id, _ := p[0].(int64)
		n, _ := p[1].(string)
		out = append(out, NamePair{ID: id, Name: n})
	}
	return out, nil
}

func asRows(model, method string, v any) ([]map[string]any, error) {
	l, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("odoo: %s.%s: expected a list of records, got %T", model, method, v)
	}
	rows := make([]map[string]any, len(l))
	for i, e := range l {
		m, ok := e.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("odoo: %s.%s: record %d is a %T, not a struct", model, method, i+1, e)
		}
		rows[i] = m
	}
	return rows, nil
}

// AsIDs converts a decoded list of ids (or a single id) to []int64.
func AsIDs(v any) ([]int64, error) {
	switch x := v.(type) {
	case int64:
		return []int64{x}, nil
	case []any:
		out := make([]int64, len(x))
		for i, e := range x {
			switch n := e.(type) {
			case int64:
				out[i] = n
			case float64:
				if n != float64(int64(n)) {
					return nil, fmt.Errorf("odoo: id %v is not an integer", n)
				}
				out[i] = int64(n)
			default:
				return nil, fmt.Errorf("odoo: expected ids, found a %T", e)
			}
		}
		return out, nil
	}
	return nil, fmt.Errorf("odoo: expected a list of ids, got %T", v)
}
