package pg

import (
	"database/sql/driver"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	lua "github.com/yuin/gopher-lua"

	"github.com/etlhost/etlhost/luabind"
	"github.com/etlhost/etlhost/luabind/luaconv"
)

// maxExactInt is the largest integer a Lua number (float64) holds exactly.
const maxExactInt = 1 << 53

// Formats of date and time values as Lua strings.
const (
	dateLayout        = "2006-01-02"
	timestamptzLayout = "2006-01-02T15:04:05.999999Z07:00" // always UTC: ends in Z
	timestampLayout   = "2006-01-02T15:04:05.999999"
)

// pgEpoch is PostgreSQL's zero for dates and timestamps in binary format.
var pgEpoch = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// colConv converts one non-NULL column value (as sent by the server) to Lua.
type colConv func(raw []byte) (lua.LValue, error)

// resultConv converts the rows of one result: the column names, one
// converter per column, and the metatable shared by all its rows.
type resultConv struct {
	names []string
	convs []colConv
	meta  *lua.LTable
}

// newResultConv prepares the conversion of a result with fields fds.
func newResultConv(L *lua.LState, m *pgtype.Map, fds []pgconn.FieldDescription) *resultConv {
	rc := &resultConv{names: make([]string, len(fds)), convs: make([]colConv, len(fds))}
	for i, fd := range fds {
		rc.names[i] = fd.Name
		rc.convs[i] = columnConv(L, m, fd.Name, fd.DataTypeOID, fd.Format)
	}
	rc.meta = rowMeta(L, rc.names)
	return rc
}

// row converts one row (RawValues) to a Lua row: an array of the values by
// position, whose metatable maps column names to positions.
func (rc *resultConv) row(L *lua.LState, raw [][]byte) (*lua.LTable, error) {
	t := L.CreateTable(len(raw), 0)
	for i, r := range raw {
		if r == nil {
			t.RawSetInt(i+1, lua.LNil)
			continue
		}
		v, err := rc.convs[i](r)
		if err != nil {
			return nil, err
		}
		t.RawSetInt(i+1, v)
	}
	t.Metatable = rc.meta
	return t, nil
}

// columnNames returns the names as a Lua array.
func (rc *resultConv) columnNames(L *lua.LState) *lua.LTable {
	t := L.CreateTable(len(rc.names), 0)
	for _, n := range rc.names {
		t.Append(lua.LString(n))
	}
	return t
}

// rowMeta builds the metatable of rows with the given columns: row.name
// reads (and row.name = v writes) the value at the column's position; a
// name that is not a column is an error, so typos do not read as NULL. With
// duplicate names (SELECT a.id, b.id) the first one wins.
func rowMeta(L *lua.LState, names []string) *lua.LTable {
	pos := make(map[string]int, len(names))
	cols := L.CreateTable(len(names), 0)
	for i, n := range names {
		if _, dup := pos[n]; !dup {
			pos[n] = i + 1
		}
		cols.Append(lua.LString(n))
	}
	mt := L.CreateTable(0, 4)
	mt.RawSetString("__index", L.NewFunction(func(L *lua.LState) int {
		t := L.CheckTable(1)
		k := L.Get(2)
		if s, ok := k.(lua.LString); ok {
			p, ok := pos[string(s)]
			if !ok {
				L.RaiseError("row has no column %q (columns: %s)", string(s), strings.Join(names, ", "))
			}
			L.Push(t.RawGetInt(p))
			return 1
		}
		L.Push(lua.LNil)
		return 1
	}))
	mt.RawSetString("__newindex", L.NewFunction(func(L *lua.LState) int {
		t := L.CheckTable(1)
		k := L.Get(2)
		if s, ok := k.(lua.LString); ok {
			if p, ok := pos[string(s)]; ok {
				t.RawSetInt(p, L.Get(3))
				return 0
			}
		}
		t.RawSet(k, L.Get(3))
		return 0
	}))
	mt.RawSetString("__columns", cols)
	return mt
}

// luaRecord implements pg.record(row): a table keyed by column name.
func luaRecord(L *lua.LState) int {
	row := L.CheckTable(1)
	mt, ok := row.Metatable.(*lua.LTable)
	var cols *lua.LTable
	if ok {
		cols, _ = mt.RawGetString("__columns").(*lua.LTable)
	}
	if cols == nil {
		L.ArgError(1, "not a row returned by pg")
	}
	out := L.CreateTable(0, cols.Len())
	for i := 1; i <= cols.Len(); i++ {
		name := cols.RawGetInt(i).(lua.LString)
		if out.RawGetString(string(name)) == lua.LNil {
			out.RawSetString(string(name), row.RawGetInt(i))
		}
	}
	L.Push(out)
	return 1
}

func colErr(col string, format string, args ...any) error {
	return &valueError{msg: fmt.Sprintf("column %q: ", col) + fmt.Sprintf(format, args...)}
}

// columnConv returns the converter for a column. The common types in
// binary format are decoded here directly; the others go through pgx's
// codec for the type and then decodedToLua.
func columnConv(L *lua.LState, m *pgtype.Map, col string, oid uint32, format int16) colConv {
	if format == pgx.BinaryFormatCode {
		switch oid {
		case pgtype.Int2OID:
			return func(r []byte) (lua.LValue, error) {
				if len(r) != 2 {
					return nil, colErr(col, "bad int2 of %d bytes", len(r))
				}
				return lua.LNumber(int16(binary.BigEndian.Uint16(r))), nil
			}
		case pgtype.Int4OID:
			return func(r []byte) (lua.LValue, error) {
				if len(r) != 4 {
					return nil, colErr(col, "bad int4 of %d bytes", len(r))
				}
				return lua.LNumber(int32(binary.BigEndian.Uint32(r))), nil
			}
		case pgtype.Int8OID:
			return func(r []byte) (lua.LValue, error) {
				if len(r) != 8 {
					return nil, colErr(col, "bad int8 of %d bytes", len(r))
				}
				v := int64(binary.BigEndian.Uint64(r))
				if v > maxExactInt || v < -maxExactInt {
					return nil, colErr(col, "integer %d is beyond 2^53 and would lose digits as a Lua number; cast it in SQL (%s::text)", v, col)
				}
				return lua.LNumber(v), nil
			}
		case pgtype.Float4OID:
			return func(r []byte) (lua.LValue, error) {
				if len(r) != 4 {
					return nil, colErr(col, "bad float4 of %d bytes", len(r))
				}
				return lua.LNumber(math.Float32frombits(binary.BigEndian.Uint32(r))), nil
			}
		case pgtype.Float8OID:
			return func(r []byte) (lua.LValue, error) {
				if len(r) != 8 {
					return nil, colErr(col, "bad float8 of %d bytes", len(r))
				}
				return lua.LNumber(math.Float64frombits(binary.BigEndian.Uint64(r))), nil
			}
		case pgtype.BoolOID:
			return func(r []byte) (lua.LValue, error) {
				if len(r) != 1 {
					return nil, colErr(col, "bad bool of %d bytes", len(r))
				}
				return lua.LBool(r[0] != 0), nil
			}
		case pgtype.TextOID, pgtype.VarcharOID, pgtype.BPCharOID, pgtype.NameOID, pgtype.JSONPathOID, pgtype.XMLOID:
			return textConv
		case pgtype.ByteaOID:
			return textConv
		case pgtype.DateOID:
			return func(r []byte) (lua.LValue, error) {
				if len(r) != 4 {
					return nil, colErr(col, "bad date of %d bytes", len(r))
				}
				return lua.LString(formatDate(int32(binary.BigEndian.Uint32(r)))), nil
			}
		case pgtype.TimestamptzOID, pgtype.TimestampOID:
			layout := timestampLayout
			if oid == pgtype.TimestamptzOID {
				layout = timestamptzLayout
			}
			return func(r []byte) (lua.LValue, error) {
				if len(r) != 8 {
					return nil, colErr(col, "bad timestamp of %d bytes", len(r))
				}
				return lua.LString(formatTimestamp(int64(binary.BigEndian.Uint64(r)), layout)), nil
			}
		case pgtype.JSONOID:
			return func(r []byte) (lua.LValue, error) { return jsonToLua(L, col, r) }
		case pgtype.JSONBOID:
			return func(r []byte) (lua.LValue, error) {
				if len(r) == 0 || r[0] != 1 {
					return nil, colErr(col, "unknown jsonb binary format")
				}
				return jsonToLua(L, col, r[1:])
			}
		case pgtype.NumericOID:
			return func(r []byte) (lua.LValue, error) {
				f, err := decodeNumeric(r)
				if err != nil {
					return nil, colErr(col, "%v", err)
				}
				return lua.LNumber(f), nil
			}
		case pgtype.UUIDOID:
			return func(r []byte) (lua.LValue, error) {
				if len(r) != 16 {
					return nil, colErr(col, "bad uuid of %d bytes", len(r))
				}
				return lua.LString(formatUUID(r)), nil
			}
		}
	} else {
		switch oid {
		case pgtype.TextOID, pgtype.VarcharOID, pgtype.BPCharOID, pgtype.NameOID, pgtype.UnknownOID,
			pgtype.JSONPathOID, pgtype.XMLOID:
			return textConv
		case pgtype.JSONOID, pgtype.JSONBOID:
			return func(r []byte) (lua.LValue, error) { return jsonToLua(L, col, r) }
		}
	}
	typ, ok := m.TypeForOID(oid)
	if !ok {
		if format == pgx.TextFormatCode {
			// Types pgx does not know (enums, citext, domains of them...)
			// arrive as text: that text is the value.
			return textConv
		}
		return func([]byte) (lua.LValue, error) {
			return nil, colErr(col, "values of type oid %d cannot be converted to Lua; cast the column in SQL (%s::text)", oid, col)
		}
	}
	elem := uint32(0)
	if ac, ok := typ.Codec.(*pgtype.ArrayCodec); ok && ac.ElementType != nil {
		elem = ac.ElementType.OID
	}
	return func(r []byte) (lua.LValue, error) {
		v, err := typ.Codec.DecodeValue(m, oid, format, r)
		if err != nil {
			return nil, colErr(col, "cannot decode %s: %v", typ.Name, err)
		}
		if elem != 0 {
			return decodedToLua(L, col, v, elem, 0)
		}
		return decodedToLua(L, col, v, oid, 0)
	}
}

// decodeNumeric reads a numeric in binary format (int16 ndigits, weight,
// sign, dscale, then ndigits base-10000 digits) as the nearest float64: the
// digits are written out as a decimal and parsed, which rounds correctly.
func decodeNumeric(r []byte) (float64, error) {
	if len(r) < 8 {
		return 0, fmt.Errorf("bad numeric of %d bytes", len(r))
	}
	ndigits := int(binary.BigEndian.Uint16(r[0:]))
	weight := int(int16(binary.BigEndian.Uint16(r[2:])))
	sign := binary.BigEndian.Uint16(r[4:])
	switch sign {
	case 0xC000:
		return math.NaN(), nil
	case 0xD000:
		return math.Inf(1), nil
	case 0xF000:
		return math.Inf(-1), nil
	}
	if len(r) != 8+2*ndigits {
		return 0, fmt.Errorf("bad numeric of %d bytes for %d digits", len(r), ndigits)
	}
	if ndigits == 0 {
		return 0, nil
	}
	var stack [64]byte
	buf := stack[:0]
	if sign == 0x4000 {
		buf = append(buf, '-')
	}
	for i := 0; i < ndigits; i++ {
		d := binary.BigEndian.Uint16(r[8+2*i:])
		buf = append(buf, byte('0'+d/1000), byte('0'+d/100%10), byte('0'+d/10%10), byte('0'+d%10))
	}
	buf = append(buf, 'e')
	buf = strconv.AppendInt(buf, int64(4*(weight-ndigits+1)), 10)
	return strconv.ParseFloat(string(buf), 64)
}

func textConv(r []byte) (lua.LValue, error) { return lua.LString(r), nil }

// jsonToLua decodes JSON text to Lua values (objects to tables, arrays to
// arrays, null to nil, numbers to Lua numbers).
func jsonToLua(L *lua.LState, col string, r []byte) (lua.LValue, error) {
	var v any
	if err := json.Unmarshal(r, &v); err != nil {
		return nil, colErr(col, "invalid JSON: %v", err)
	}
	return jsonValueToLua(L, v), nil
}

func jsonValueToLua(L *lua.LState, v any) lua.LValue {
	switch x := v.(type) {
	case nil:
		return lua.LNil
	case bool:
		return lua.LBool(x)
	case float64:
		return lua.LNumber(x)
	case string:
		return lua.LString(x)
	case []any:
		t := L.CreateTable(len(x), 0)
		for i, e := range x {
			t.RawSetInt(i+1, jsonValueToLua(L, e))
		}
		return t
	case map[string]any:
		t := L.CreateTable(0, len(x))
		for k, e := range x {
			t.RawSetString(k, jsonValueToLua(L, e))
		}
		return t
	}
	return lua.LString(fmt.Sprint(v))
}

func formatDate(days int32) string {
	switch days {
	case math.MaxInt32:
		return "infinity"
	case math.MinInt32:
		return "-infinity"
	}
	return pgEpoch.AddDate(0, 0, int(days)).Format(dateLayout)
}

func formatTimestamp(us int64, layout string) string {
	switch us {
	case math.MaxInt64:
		return "infinity"
	case math.MinInt64:
		return "-infinity"
	}
	sec := us / 1e6
	frac := us % 1e6
	if frac < 0 {
		sec--
		frac += 1e6
	}
	return time.Unix(sec+pgEpoch.Unix(), frac*1000).UTC().Format(layout)
}

func formatUUID(b []byte) string {
	var buf [36]byte
	hex.Encode(buf[0:8], b[0:4])
	buf[8] = '-'
	hex.Encode(buf[9:13], b[4:6])
	buf[13] = '-'
	hex.Encode(buf[14:18], b[6:8])
	buf[18] = '-'
	hex.Encode(buf[19:23], b[8:10])
	buf[23] = '-'
	hex.Encode(buf[24:], b[10:16])
	return string(buf[:])
}

// decodedToLua converts a value decoded by a pgx codec; oid is the type of
// the value (the element type, for array elements).
func decodedToLua(L *lua.LState, col string, v any, oid uint32, depth int) (lua.LValue, error) {
	if depth > luaconv.MaxDepth {
		return nil, colErr(col, "value nested too deep")
	}
	switch x := v.(type) {
	case nil:
		return lua.LNil, nil
	case bool:
		return lua.LBool(x), nil
	case string:
		return lua.LString(x), nil
	case []byte:
		return lua.LString(x), nil
	case int16:
		return lua.LNumber(x), nil
	case int32:
		return lua.LNumber(x), nil
	case uint32:
		return lua.LNumber(x), nil
	case int64:
		if x > maxExactInt || x < -maxExactInt {
			return nil, colErr(col, "integer %d is beyond 2^53 and would lose digits as a Lua number; cast it in SQL (::text)", x)
		}
		return lua.LNumber(x), nil
	case float32:
		return lua.LNumber(x), nil
	case float64:
		return lua.LNumber(x), nil
	case time.Time:
		switch oid {
		case pgtype.DateOID:
			return lua.LString(x.Format(dateLayout)), nil
		case pgtype.TimestampOID:
			return lua.LString(x.Format(timestampLayout)), nil
		default:
			return lua.LString(x.UTC().Format(timestamptzLayout)), nil
		}
	case pgtype.Numeric:
		if !x.Valid {
			return lua.LNil, nil
		}
		f, err := x.Float64Value()
		if err != nil {
			return nil, colErr(col, "numeric: %v", err)
		}
		return lua.LNumber(f.Float64), nil
	case [16]byte:
		return lua.LString(formatUUID(x[:])), nil
	case []any:
		t := L.CreateTable(len(x), 0)
		for i, e := range x {
			lv, err := decodedToLua(L, col, e, oid, depth+1)
			if err != nil {
				return nil, err
			}
			t.RawSetInt(i+1, lv)
		}
		return t, nil
	case map[string]any:
		t := L.CreateTable(0, len(x))
		for k, e := range x {
			lv, err := decodedToLua(L, col, e, oid, depth+1)
			if err != nil {
				return nil, err
			}
			t.RawSetString(k, lv)
		}
		return t, nil
	case driver.Valuer:
		dv, err := x.Value()
		if err != nil {
			return nil, colErr(col, "%v", err)
		}
		if _, again := dv.(driver.Valuer); again {
			break
		}
		return decodedToLua(L, col, dv, oid, depth+1)
	case fmt.Stringer: // netip.Prefix for inet and cidr, ...
		return lua.LString(x.String()), nil
	}
	return nil, colErr(col, "a value of Go type %T (type oid %d) cannot be converted to Lua; cast the column in SQL (::text)", v, oid)
}

// rawResult holds a result's rows as the server sent them, copied out of
// pgx's buffers while waiting on the network (env.Block, when other light
// threads of the script may run Lua), to be converted to Lua afterwards,
// holding the state. Values live in large byte chunks, referred to by
// pointer-free refs (cheap for the garbage collector).
type rawResult struct {
	fds    []pgconn.FieldDescription
	chunks [][]byte
	refs   []rawRef // row-major
	row    [][]byte // scratch for convertRow
	// mem is the script's memory account (nil: none): the rows are
	// charged to it as they are read, and reading stops at its limit.
	mem     luabind.Memory
	charged int64
}

// rowCost is what a byte read costs until the script lets go of the
// result: the copy here and the Lua values made from it.
const rowCost = 3

// chargeEvery is how many bytes are read between two charges.
const chargeEvery = 1 << 20

// charge charges the bytes read so far that are not charged yet.
func (r *rawResult) charge(read int64) error {
	if r.mem == nil || read*rowCost-r.charged < chargeEvery {
		return nil
	}
	n := read*rowCost - r.charged
	r.charged += n
	if err := r.mem.Keep(n); err != nil {
		return fmt.Errorf("reading the result: %w", err)
	}
	return nil
}

// release returns what read charged; the converted rows are Lua values,
// which the host measures itself.
func (r *rawResult) release() {
	if r.mem != nil && r.charged > 0 {
		r.mem.Release(r.charged)
		r.charged = 0
	}
}

type rawRef struct {
	chunk, off uint32
	n          int32 // -1: NULL
}

// The arena's chunks start small and double up to arenaChunk: a one-row
// lookup does not allocate (and clear) a megabyte, a large result costs a
// few more chunks.
const (
	arenaFirst = 4 << 10
	arenaChunk = 1 << 20
)

// read copies the rows of rows (at most limit when limit > 0).
func (r *rawResult) read(rows pgx.Rows, limit int) error {
	r.fds = append([]pgconn.FieldDescription(nil), rows.FieldDescriptions()...)
	var cur []byte
	n := 0
	var read int64
	for rows.Next() {
		for _, v := range rows.RawValues() {
			if v == nil {
				r.refs = append(r.refs, rawRef{n: -1})
				continue
			}
			if cur == nil || len(cur)+len(v) > cap(cur) {
				if cur != nil {
					r.chunks[len(r.chunks)-1] = cur
				}
				size := arenaFirst
				if cur != nil {
					size = min(2*cap(cur), arenaChunk)
				}
				cur = make([]byte, 0, max(size, len(v)))
				r.chunks = append(r.chunks, cur)
			}
			r.refs = append(r.refs, rawRef{chunk: uint32(len(r.chunks) - 1), off: uint32(len(cur)), n: int32(len(v))})
			cur = append(cur, v...)
			read += int64(len(v))
		}
		read += int64(len(r.fds)) * 12 // the refs
		if err := r.charge(read); err != nil {
			if cur != nil {
				r.chunks[len(r.chunks)-1] = cur
			}
			rows.Close()
			return err
		}
		n++
		if limit > 0 && n >= limit {
			break
		}
	}
	if cur != nil {
		r.chunks[len(r.chunks)-1] = cur
	}
	rows.Close()
	return rows.Err()
}

// rowCount is the number of rows read.
func (r *rawResult) rowCount() int {
	if len(r.fds) == 0 {
		return 0
	}
	return len(r.refs) / len(r.fds)
}

// convertRow converts row i (0-based) with rc.
func (r *rawResult) convertRow(L *lua.LState, rc *resultConv, i int) (*lua.LTable, error) {
	nc := len(r.fds)
	if cap(r.row) < nc {
		r.row = make([][]byte, nc)
	}
	row := r.row[:nc]
	for j, ref := range r.refs[i*nc : (i+1)*nc] {
		if ref.n < 0 {
			row[j] = nil
		} else {
			row[j] = r.chunks[ref.chunk][ref.off : ref.off+uint32(ref.n) : ref.off+uint32(ref.n)]
		}
	}
	return rc.row(L, row)
}
