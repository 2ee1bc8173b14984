package pg

import (
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
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

// The COPY path: Lua rows are encoded straight into PostgreSQL's binary COPY
// format on the script's goroutine, holding the Lua state (the only one
// allowed to read its tables), in chunks written to a pipe that pgconn sends
// from another goroutine, so encoding the next chunk overlaps sending the
// last. The
// common types are encoded here without boxing each value in an interface;
// the others go through pgx's codecs (as pgx's own CopyFrom does).

// copyChunk is the size of the chunks handed to pgconn (its buffer is 64 KiB).
const copyChunk = 60 * 1024

var copyHeader = []byte("PGCOPY\n\377\r\n\000\x00\x00\x00\x00\x00\x00\x00\x00")

// colEnc appends the binary COPY form of v (never nil) without the length
// word.
type colEnc func(buf []byte, v lua.LValue) ([]byte, error)

// rowSource yields the rows to copy: a Lua array of rows, or a function
// returning the next row (nil at the end).
type rowSource struct {
	L    *lua.LState
	tab  *lua.LTable
	fn   *lua.LFunction
	n, i int
}

// luaRaised carries a Lua error raised by a row function, to be re-raised
// as is once the copy has been cleaned up.
type luaRaised struct{ value lua.LValue }

func (e *luaRaised) Error() string { return e.value.String() }

func (r *rowSource) next() (lua.LValue, error) {
	r.i++
	if r.tab != nil {
		if r.i > r.n {
			return nil, nil
		}
		return r.tab.RawGetInt(r.i), nil
	}
	if err := r.L.CallByParam(lua.P{Fn: r.fn, NRet: 1, Protect: true}); err != nil {
		var ae *lua.ApiError
		if errors.As(err, &ae) {
			return nil, &luaRaised{value: ae.Object}
		}
		return nil, err
	}
	v := r.L.Get(-1)
	r.L.Pop(1)
	if v == lua.LNil {
		return nil, nil
	}
	return v, nil
}

// copyTarget describes a COPY: the table, its columns and their encoders.
type copyTarget struct {
	table pgx.Identifier
	cols  []string
	colIx map[string]int
	encs  []colEnc
}

// parseTable splits "schema.table" into an identifier (each part quoted as
// written).
func parseTable(name string) (pgx.Identifier, error) {
	if name == "" {
		return nil, errors.New("empty table name")
	}
	parts := strings.Split(name, ".")
	for _, p := range parts {
		if p == "" {
			return nil, fmt.Errorf("bad table name %q", name)
		}
	}
	return pgx.Identifier(parts), nil
}

func quoteCols(cols []string) string {
	q := make([]string, len(cols))
	for i, c := range cols {
		q[i] = pgx.Identifier{c}.Sanitize()
	}
	return strings.Join(q, ", ")
}

// prepareCopy looks up the column types (one round trip, which also checks
// the table and columns exist) and picks an encoder per column.
func prepareCopy(ctx context.Context, conn *pgx.Conn, table pgx.Identifier, cols []string) (*copyTarget, error) {
	sd, err := conn.PgConn().Prepare(ctx, "", fmt.Sprintf("SELECT %s FROM %s", quoteCols(cols), table.Sanitize()), nil)
	if err != nil {
		return nil, err
	}
	ct := &copyTarget{table: table, cols: cols, colIx: map[string]int{}, encs: make([]colEnc, len(cols))}
	m := conn.TypeMap()
	for i, c := range cols {
		ct.colIx[c] = i
		ct.encs[i] = columnEnc(m, c, sd.Fields[i].DataTypeOID)
	}
	return ct, nil
}

type copyResult struct {
	tag pgconn.CommandTag
	err error
}

// streamCopy runs COPY ... FROM STDIN BINARY on conn with the rows of src
// and returns the number of rows copied; on any error nothing is copied
// (COPY is one statement). The caller holds conn. Rows are encoded holding
// the Lua state (they are Lua tables, and src may call Lua), and each chunk
// is handed to pgconn inside env.Block, so the script's other light threads
// run while the network waits.
func (s *session) streamCopy(conn *pgx.Conn, ct *copyTarget, src *rowSource) (int64, error) {
	pr, pw := io.Pipe()
	done := make(chan copyResult, 1)
	sql := fmt.Sprintf("COPY %s (%s) FROM STDIN BINARY", ct.table.Sanitize(), quoteCols(ct.cols))
	ctx := s.env.Ctx
	go func() {
		tag, err := conn.PgConn().CopyFrom(ctx, pr, sql)
		// Unblock the producer if the copy ended early (server error,
		// cancellation): its next write fails.
		pr.CloseWithError(errCopyEnded)
		done <- copyResult{tag, err}
	}()

	enc := &copyEncoder{ct: ct, src: src, buf: append(make([]byte, 0, copyChunk+8*1024), copyHeader...)}
	var encErr, stopErr error
	for {
		more, err := enc.fill()
		if err != nil {
			encErr = err
			break
		}
		buf := enc.buf
		werr := s.env.Block(func(context.Context) error {
			_, err := pw.Write(buf)
			return err
		})
		enc.buf = enc.buf[:0]
		if werr != nil {
			stopErr = werr
			break
		}
		if !more {
			break
		}
	}
	switch {
	case encErr != nil:
		// pgconn sends CopyFail with this error: the server rolls the
		// COPY back.
		pw.CloseWithError(encErr)
	case stopErr != nil:
		pw.CloseWithError(stopErr)
	default:
		pw.Close()
	}
	var res copyResult
	waited := false
	_ = s.env.Block(func(context.Context) error {
		res = <-done
		waited = true
		return nil
	})
	if !waited { // the context had ended: the copy ends at once
		res = <-done
	}
	var se *luabind.StoppedError
	switch {
	case encErr != nil:
		return 0, encErr
	case errors.As(stopErr, &se):
		return 0, stopErr
	case res.err != nil:
		return 0, s.stopped(res.err)
	case stopErr != nil:
		return 0, stopErr
	}
	return res.tag.RowsAffected(), nil
}

// stopped says why a call failed when the script's context has ended, as
// env.Block does.
func (s *session) stopped(err error) error {
	if s.env.Ctx.Err() != nil {
		return &luabind.StoppedError{Cause: context.Cause(s.env.Ctx), Err: err}
	}
	return err
}

var errCopyEnded = errors.New("copy ended")

// copyEncoder encodes rows into COPY's binary format, a chunk at a time.
type copyEncoder struct {
	ct    *copyTarget
	src   *rowSource
	buf   []byte
	rowNo int
	ended bool
}

// fill encodes rows until the buffer holds a chunk or the rows end (then
// the trailer is added); more is false after the last chunk.
func (e *copyEncoder) fill() (more bool, err error) {
	ct := e.ct
	ncols := len(ct.cols)
	buf := e.buf
	defer func() { e.buf = buf }()
	for len(buf) < copyChunk {
		e.rowNo++
		rowNo := e.rowNo
		rv, err := e.src.next()
		if err != nil {
			return false, err
		}
		if rv == nil {
			buf = binary.BigEndian.AppendUint16(buf, 0xffff) // trailer: -1
			return false, nil
		}
		row, ok := rv.(*lua.LTable)
		if !ok {
			return false, &valueError{msg: fmt.Sprintf("row %d is a %s, want a table", rowNo, rv.Type())}
		}
		buf = binary.BigEndian.AppendUint16(buf, uint16(ncols))
		if n := row.Len(); n > 0 {
			// An array row, read by position: a nil anywhere is NULL.
			if n > ncols {
				return false, &valueError{msg: fmt.Sprintf("row %d has %d values for %d columns", rowNo, n, ncols)}
			}
			for j := 0; j < ncols; j++ {
				if buf, err = appendField(buf, ct.encs[j], row.RawGetInt(j+1)); err != nil {
					return false, rowErr(rowNo, err)
				}
			}
		} else {
			// A row keyed by column name (or all NULL).
			if err := checkKeys(row, ct, rowNo); err != nil {
				return false, err
			}
			for j, c := range ct.cols {
				if buf, err = appendField(buf, ct.encs[j], row.RawGetString(c)); err != nil {
					return false, rowErr(rowNo, err)
				}
			}
		}
	}
	return true, nil
}

func rowErr(rowNo int, err error) error {
	var ve *valueError
	if errors.As(err, &ve) {
		return &valueError{msg: fmt.Sprintf("row %d: %s", rowNo, ve.msg)}
	}
	return err
}

// checkKeys refuses a keyed row with a key that is not a column (a typo
// would otherwise load NULL silently).
func checkKeys(row *lua.LTable, ct *copyTarget, rowNo int) error {
	var bad error
	row.ForEach(func(k, _ lua.LValue) {
		if bad != nil {
			return
		}
		s, ok := k.(lua.LString)
		if !ok {
			bad = &valueError{msg: fmt.Sprintf("row %d mixes positions and names (key %s)", rowNo, k.String())}
			return
		}
		if _, ok := ct.colIx[string(s)]; !ok {
			bad = &valueError{msg: fmt.Sprintf("row %d has key %q, which is not among the columns (%s)", rowNo, string(s), strings.Join(ct.cols, ", "))}
		}
	})
	return bad
}

func appendField(buf []byte, enc colEnc, v lua.LValue) ([]byte, error) {
	if v == lua.LNil {
		return binary.BigEndian.AppendUint32(buf, 0xffffffff), nil
	}
	sp := len(buf)
	buf = append(buf, 0, 0, 0, 0)
	buf, err := enc(buf, v)
	if err != nil {
		return buf, err
	}
	binary.BigEndian.PutUint32(buf[sp:], uint32(len(buf)-sp-4))
	return buf, nil
}

// wrongType is the error for a Lua value the column cannot take.
func wrongType(col, want string, v lua.LValue) error {
	hint := ""
	if b, ok := v.(lua.LBool); ok && !bool(b) {
		hint = " (Odoo sends false for an empty field: write `v or nil` to load NULL)"
	}
	return &valueError{msg: fmt.Sprintf("column %q: %s is not %s%s", col, describe(v), want, hint)}
}

// toInt reads an integer from a Lua number (whole) or string.
func toInt(col string, v lua.LValue, lo, hi int64, want string) (int64, error) {
	switch x := v.(type) {
	case lua.LNumber:
		f := float64(x)
		if f != math.Trunc(f) || f < float64(lo) || f > float64(hi) || math.IsNaN(f) {
			return 0, wrongType(col, want, v)
		}
		return int64(f), nil
	case lua.LString:
		n, err := strconv.ParseInt(strings.TrimSpace(string(x)), 10, 64)
		if err != nil || n < lo || n > hi {
			return 0, wrongType(col, want, v)
		}
		return n, nil
	}
	return 0, wrongType(col, want, v)
}

func toFloat(col string, v lua.LValue) (float64, error) {
	switch x := v.(type) {
	case lua.LNumber:
		return float64(x), nil
	case lua.LString:
		f, err := strconv.ParseFloat(strings.TrimSpace(string(x)), 64)
		if err != nil {
			return 0, wrongType(col, "a number", v)
		}
		return f, nil
	}
	return 0, wrongType(col, "a number", v)
}

// formatNumber writes a Lua number as text: whole numbers without ".0".
func formatNumber(f float64) string {
	if f == math.Trunc(f) && math.Abs(f) < 1e15 {
		return strconv.FormatInt(int64(f), 10)
	}
	return strconv.FormatFloat(f, 'g', -1, 64)
}

// timeLayouts are the accepted forms of timestamps (a date alone is
// midnight). A value without a zone is UTC.
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07",
	"2006-01-02T15:04:05.999999999Z07",
	"2006-01-02",
}

func parseTime(s string) (time.Time, bool) {
	s = strings.TrimSpace(s)
	for _, l := range timeLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t, true
		}
	}
	return time.Time{}, false
}

// parseDate reads YYYY-MM-DD (fast path for the common case).
func parseDate(s string) (int32, bool) {
	if len(s) == 10 && s[4] == '-' && s[7] == '-' && digits(s[0:4]) && digits(s[5:7]) && digits(s[8:10]) {
		y, _ := strconv.Atoi(s[0:4])
		m, _ := strconv.Atoi(s[5:7])
		d, _ := strconv.Atoi(s[8:10])
		if y >= 1 && m >= 1 && m <= 12 && d >= 1 && d <= 31 {
			t := time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC)
			if t.Day() != d { // 2024-02-30
				return 0, false
			}
			return int32((t.Unix() - pgEpoch.Unix()) / 86400), true
		}
	}
	switch s {
	case "infinity":
		return math.MaxInt32, true
	case "-infinity":
		return math.MinInt32, true
	}
	return 0, false
}

func digits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

func timeToPG(t time.Time) int64 {
	return t.Unix()*1e6 - pgEpoch.Unix()*1e6 + int64(t.Nanosecond()/1000)
}

// columnEnc returns the encoder for a column of type oid.
func columnEnc(m *pgtype.Map, col string, oid uint32) colEnc {
	switch oid {
	case pgtype.Int2OID:
		return func(b []byte, v lua.LValue) ([]byte, error) {
			n, err := toInt(col, v, math.MinInt16, math.MaxInt16, "a smallint")
			return binary.BigEndian.AppendUint16(b, uint16(n)), err
		}
	case pgtype.Int4OID:
		return func(b []byte, v lua.LValue) ([]byte, error) {
			if x, ok := v.(lua.LNumber); ok { // fast path
				f := float64(x)
				if n := int32(f); float64(n) == f {
					return binary.BigEndian.AppendUint32(b, uint32(n)), nil
				}
			}
			n, err := toInt(col, v, math.MinInt32, math.MaxInt32, "an integer")
			return binary.BigEndian.AppendUint32(b, uint32(n)), err
		}
	case pgtype.Int8OID:
		return func(b []byte, v lua.LValue) ([]byte, error) {
			n, err := toInt(col, v, math.MinInt64, math.MaxInt64, "a bigint")
			return binary.BigEndian.AppendUint64(b, uint64(n)), err
		}
	case pgtype.OIDOID:
		return func(b []byte, v lua.LValue) ([]byte, error) {
			n, err := toInt(col, v, 0, math.MaxUint32, "an oid")
			return binary.BigEndian.AppendUint32(b, uint32(n)), err
		}
	case pgtype.Float4OID:
		return func(b []byte, v lua.LValue) ([]byte, error) {
			f, err := toFloat(col, v)
			return binary.BigEndian.AppendUint32(b, math.Float32bits(float32(f))), err
		}
	case pgtype.Float8OID:
		return func(b []byte, v lua.LValue) ([]byte, error) {
			f, err := toFloat(col, v)
			return binary.BigEndian.AppendUint64(b, math.Float64bits(f)), err
		}
	case pgtype.BoolOID:
		return func(b []byte, v lua.LValue) ([]byte, error) {
			switch x := v.(type) {
			case lua.LBool:
				if x {
					return append(b, 1), nil
				}
				return append(b, 0), nil
			case lua.LString:
				switch strings.ToLower(strings.TrimSpace(string(x))) {
				case "t", "true", "yes", "y", "on", "1":
					return append(b, 1), nil
				case "f", "false", "no", "n", "off", "0":
					return append(b, 0), nil
				}
			}
			return b, wrongType(col, "a boolean", v)
		}
	case pgtype.TextOID, pgtype.VarcharOID, pgtype.BPCharOID, pgtype.NameOID:
		return func(b []byte, v lua.LValue) ([]byte, error) {
			switch x := v.(type) {
			case lua.LString:
				return append(b, x...), nil
			case lua.LNumber:
				return append(b, formatNumber(float64(x))...), nil
			}
			return b, wrongType(col, "text", v)
		}
	case pgtype.ByteaOID:
		return func(b []byte, v lua.LValue) ([]byte, error) {
			if x, ok := v.(lua.LString); ok {
				return append(b, x...), nil
			}
			return b, wrongType(col, "a string of bytes", v)
		}
	case pgtype.DateOID:
		return func(b []byte, v lua.LValue) ([]byte, error) {
			if x, ok := v.(lua.LString); ok {
				if d, ok := parseDate(string(x)); ok {
					return binary.BigEndian.AppendUint32(b, uint32(d)), nil
				}
			}
			return b, wrongType(col, "a date ('YYYY-MM-DD')", v)
		}
	case pgtype.TimestamptzOID, pgtype.TimestampOID:
		return func(b []byte, v lua.LValue) ([]byte, error) {
			switch x := v.(type) {
			case lua.LString:
				switch string(x) {
				case "infinity":
					return binary.BigEndian.AppendUint64(b, math.MaxInt64), nil
				case "-infinity":
					return binary.BigEndian.AppendUint64(b, uint64(1)<<63), nil
				}
				if t, ok := parseTime(string(x)); ok {
					return binary.BigEndian.AppendUint64(b, uint64(timeToPG(t))), nil
				}
			case lua.LNumber: // seconds since 1970 (os.time())
				f := float64(x)
				if !math.IsNaN(f) && !math.IsInf(f, 0) {
					sec, frac := math.Modf(f)
					t := time.Unix(int64(sec), int64(frac*1e9))
					return binary.BigEndian.AppendUint64(b, uint64(timeToPG(t))), nil
				}
			}
			return b, wrongType(col, "a timestamp ('YYYY-MM-DD HH:MM:SS', ISO 8601, or seconds since 1970)", v)
		}
	case pgtype.JSONOID, pgtype.JSONBOID:
		jsonb := oid == pgtype.JSONBOID
		return func(b []byte, v lua.LValue) ([]byte, error) {
			if jsonb {
				b = append(b, 1)
			}
			if x, ok := v.(lua.LString); ok { // JSON text as is
				return append(b, x...), nil
			}
			g, err := luaconv.FromLua(v)
			if err != nil {
				return b, &valueError{msg: fmt.Sprintf("column %q: %v", col, err)}
			}
			js, err := json.Marshal(g)
			if err != nil {
				return b, &valueError{msg: fmt.Sprintf("column %q: %v", col, err)}
			}
			return append(b, js...), nil
		}
	}
	// Everything else goes through pgx's codec for the type: numeric,
	// uuid, interval, arrays, ranges, inet... Strings are parsed as the
	// type's text form when pgx cannot take them directly.
	typ, known := m.TypeForOID(oid)
	isArray := false
	if known {
		_, isArray = typ.Codec.(*pgtype.ArrayCodec)
	}
	return func(b []byte, v lua.LValue) ([]byte, error) {
		if !known {
			// A type pgx does not know (an enum, citext): its binary
			// form is commonly its text.
			if x, ok := v.(lua.LString); ok {
				return append(b, x...), nil
			}
			return b, &valueError{msg: fmt.Sprintf("column %q: type oid %d is not known to etlhost: only strings can be loaded into it", col, oid)}
		}
		var g any
		var err error
		if isArray {
			g, err = arrayValue(v, 0)
		} else {
			g, err = goValue(v)
		}
		if err != nil {
			return b, &valueError{msg: fmt.Sprintf("column %q: %v", col, err)}
		}
		out, err := encodeWithCodec(m, oid, g, b)
		if err != nil {
			return b, &valueError{msg: fmt.Sprintf("column %q: %s cannot be loaded as %s", col, describe(v), typ.Name)}
		}
		return out, nil
	}
}

func shortValue(v lua.LValue) string {
	switch v.(type) {
	case lua.LString, lua.LNumber, lua.LBool:
	default:
		return ""
	}
	s := v.String()
	if len(s) > 60 {
		s = s[:60] + "..."
	}
	if _, ok := v.(lua.LString); ok {
		return strconv.Quote(s)
	}
	return s
}

// describe shows a value in a message: `string "abc"`, `number 1.5`, `a table`.
func describe(v lua.LValue) string {
	if sv := shortValue(v); sv != "" {
		return v.Type().String() + " " + sv
	}
	return "a " + v.Type().String()
}

// arrayValue converts a Lua array (of arrays, for several dimensions) for
// an array column: elements by position 1..#t, so {} is the empty array.
func arrayValue(v lua.LValue, depth int) (any, error) {
	t, ok := v.(*lua.LTable)
	if !ok {
		if s, ok := v.(lua.LString); ok && depth == 0 {
			return string(s), nil // PostgreSQL's text form: '{1,2}'
		}
		if depth > 0 {
			return goValue(v)
		}
		return nil, fmt.Errorf("%s is not an array", describe(v))
	}
	if depth > luaconv.MaxDepth {
		return nil, errors.New("arrays nested too deep")
	}
	n := t.Len()
	out := make([]any, n)
	for i := 1; i <= n; i++ {
		e := t.RawGetInt(i)
		if e == lua.LNil {
			continue
		}
		g, err := arrayValue(e, depth+1)
		if err != nil {
			return nil, err
		}
		out[i-1] = g
	}
	return out, nil
}

// goValue converts a Lua value for pgx's codecs.
func goValue(v lua.LValue) (any, error) {
	switch x := v.(type) {
	case lua.LNumber:
		return luaconv.Number(x), nil
	case lua.LString:
		return string(x), nil
	case lua.LBool:
		return bool(x), nil
	}
	return luaconv.FromLua(v)
}

// encodeWithCodec appends the binary form of g for oid, as pgx's CopyFrom
// does: directly, or through the type's text form.
func encodeWithCodec(m *pgtype.Map, oid uint32, g any, b []byte) ([]byte, error) {
	out, err := m.Encode(oid, pgtype.BinaryFormatCode, g, b)
	if err == nil && out != nil {
		return out, nil
	}
	var text string
	switch x := g.(type) {
	case string:
		text = x
	case float64:
		text = strconv.FormatFloat(x, 'g', -1, 64)
	default:
		tb, err := m.Encode(oid, pgtype.TextFormatCode, g, nil)
		if err != nil {
			return nil, err
		}
		text = string(tb)
	}
	if typ, ok := m.TypeForOID(oid); ok {
		if _, isArray := typ.Codec.(*pgtype.ArrayCodec); isArray {
			var arr pgtype.Array[any]
			if err := m.Scan(oid, pgtype.TextFormatCode, []byte(text), &arr); err != nil {
				return nil, err
			}
			return m.Encode(oid, pgtype.BinaryFormatCode, arr, b)
		}
	}
	var parsed any
	if err := m.Scan(oid, pgtype.TextFormatCode, []byte(text), &parsed); err != nil {
		return nil, err
	}
	return m.Encode(oid, pgtype.BinaryFormatCode, parsed, b)
}
