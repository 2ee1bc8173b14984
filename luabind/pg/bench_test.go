package pg_test

import (
	"context"
	"fmt"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
	lua "github.com/yuin/gopher-lua"

	"github.com/etlhost/etlhost/internal/pgtest"
	"github.com/etlhost/etlhost/luabind/luatest"
)

const benchRows = 200_000

var benchCols = []string{"id", "company", "name", "day", "amount", "qty", "posted", "at"}

// The same rows, built by Lua code as a script would (dates and timestamps
// as strings) and in Go as a Go program would (time.Time).
const benchBuild = `
local N = ...
local days, ats = {}, {}
for d = 1, 28 do days[d] = string.format("2024-01-%02d", d) end
for s = 0, 59 do ats[s + 1] = string.format("2024-01-31T10:00:%02dZ", s) end
local rows = {}
for i = 1, N do
  rows[i] = {i, i % 7 + 1, "partner " .. i, days[i % 28 + 1], (i % 10000) / 100, i * 0.5, i % 2 == 0, ats[i % 60 + 1]}
end
return rows`

func benchGoRows() [][]any {
	rows := make([][]any, benchRows)
	for i := 1; i <= benchRows; i++ {
		rows[i-1] = []any{
			int64(i), int32(i%7 + 1), fmt.Sprintf("partner %d", i),
			time.Date(2024, 1, i%28+1, 0, 0, 0, 0, time.UTC),
			float64(i%10000) / 100, float64(i) * 0.5, i%2 == 0,
			time.Date(2024, 1, 31, 10, 0, i%60, 0, time.UTC),
		}
	}
	return rows
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// BenchmarkCopy loads 200k rows x 8 columns (bigint, int, text, date,
// numeric(16,2), float8, bool, timestamptz) into a table, in the same run:
//
//   - pgx: conn.CopyFrom with pgx.CopyFromRows over [][]any built in Go;
//   - lua: db:copy from a Lua array of array rows built by Lua code.
//
// Timed: the COPY call only, until PostgreSQL has committed the rows (each
// run starts on an emptied table). Building the rows is outside the timed
// part; the Lua build is reported on its own (lua-build-ms). Reported:
// rows/s of each path, their ratio (lua/pgx, goal >= 0.70), and the CPU
// time of this process (the client side: the server's work is excluded)
// per run of each path.
//
//	go test -run XXX -bench Copy -benchtime 3x ./luabind/pg/
func BenchmarkCopy(b *testing.B) {
	dsn := pgtest.DSN(b)
	pgtest.Exec(b, dsn, `CREATE TABLE bench (id bigint, company int, name text, day date,
		amount numeric(16,2), qty float8, posted bool, at timestamptz)`)
	m, _ := newModuleDSN(b, dsn)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)

	goRows := benchGoRows()
	s := luatest.New(b, luatest.Options{}, m)
	build, err := s.L.LoadString(benchBuild)
	if err != nil {
		b.Fatal(err)
	}
	t0 := time.Now()
	if err := s.L.CallByParam(lua.P{Fn: build, NRet: 1, Protect: true}, lua.LNumber(benchRows)); err != nil {
		b.Fatal(err)
	}
	buildTime := time.Since(t0)
	luaRows := s.L.Get(-1)
	s.L.Pop(1)
	copyFn, err := s.L.LoadString(`local rows = ...
		local db = require("pg").connect()
		return db:copy("bench", {"id", "company", "name", "day", "amount", "qty", "posted", "at"}, rows)`)
	if err != nil {
		b.Fatal(err)
	}
	truncate := func() {
		if _, err := conn.Exec(ctx, "TRUNCATE bench"); err != nil {
			b.Fatal(err)
		}
	}

	var pgxWall, luaWall, pgxCPU, luaCPU time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		truncate()
		b.StartTimer()
		w, c := time.Now(), cpuTime()
		n, err := conn.CopyFrom(ctx, pgx.Identifier{"bench"}, benchCols, pgx.CopyFromRows(goRows))
		pgxWall += time.Since(w)
		pgxCPU += cpuTime() - c
		if err != nil || n != benchRows {
			b.Fatalf("pgx copy: %d rows, %v", n, err)
		}

		b.StopTimer()
		truncate()
		b.StartTimer()
		w, c = time.Now(), cpuTime()
		err = s.L.CallByParam(lua.P{Fn: copyFn, NRet: 1, Protect: true}, luaRows)
		luaWall += time.Since(w)
		luaCPU += cpuTime() - c
		if err != nil {
			b.Fatal(errText(s, err))
		}
		if got := s.L.Get(-1); got != lua.LNumber(benchRows) {
			b.Fatalf("lua copy returned %v", got)
		}
		s.L.Pop(1)
	}
	b.StopTimer()
	// Check what the Lua path stored equals what pgx stored.
	var sum float64
	var days int64
	if err := conn.QueryRow(ctx, "SELECT sum(amount)::float8, count(DISTINCT day) FROM bench").Scan(&sum, &days); err != nil {
		b.Fatal(err)
	}
	if days != 28 {
		b.Fatalf("%d distinct days after the Lua copy, want 28", days)
	}
	runs := float64(b.N)
	pgxRate := benchRows * runs / pgxWall.Seconds()
	luaRate := benchRows * runs / luaWall.Seconds()
	b.ReportMetric(pgxRate, "pgx-rows/s")
	b.ReportMetric(luaRate, "lua-rows/s")
	b.ReportMetric(luaRate/pgxRate, "lua/pgx")
	b.ReportMetric(float64(pgxCPU.Milliseconds())/runs, "pgx-cpu-ms")
	b.ReportMetric(float64(luaCPU.Milliseconds())/runs, "lua-cpu-ms")
	b.ReportMetric(float64(buildTime.Milliseconds()), "lua-build-ms")
}

// BenchmarkQuery reads 100k rows x 8 columns (the types of BenchmarkCopy)
// in the same run:
//
//   - pgx: conn.Query and rows.Values() for every row (Go values);
//   - lua: db:query, which returns the Lua array of rows.
//
// Timed: the call until every row is converted. Reported: rows/s of each
// path and their ratio (lua/pgx).
func BenchmarkQuery(b *testing.B) {
	const n = 100_000
	dsn := pgtest.DSN(b)
	pgtest.Exec(b, dsn, `CREATE TABLE bench AS SELECT g::bigint AS id, (g % 7 + 1)::int AS company, 'partner ' || g AS name,
		DATE '2024-01-01' + g % 28 AS day, ((g % 10000) / 100.0)::numeric(16,2) AS amount, g * 0.5 AS qty,
		g % 2 = 0 AS posted, TIMESTAMPTZ '2024-01-31 10:00:00Z' + (g % 60) * INTERVAL '1 second' AS at
		FROM generate_series(1, 100000) g`)
	m, _ := newModuleDSN(b, dsn)
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer conn.Close(ctx)
	s := luatest.New(b, luatest.Options{}, m)
	fn, err := s.L.LoadString(`return #require("pg").connect():query("SELECT * FROM bench")`)
	if err != nil {
		b.Fatal(err)
	}
	var pgxWall, luaWall time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w := time.Now()
		rows, err := conn.Query(ctx, "SELECT * FROM bench")
		if err != nil {
			b.Fatal(err)
		}
		got := 0
		for rows.Next() {
			if _, err := rows.Values(); err != nil {
				b.Fatal(err)
			}
			got++
		}
		if rows.Err() != nil || got != n {
			b.Fatalf("pgx read %d rows: %v", got, rows.Err())
		}
		pgxWall += time.Since(w)

		w = time.Now()
		if err := s.L.CallByParam(lua.P{Fn: fn, NRet: 1, Protect: true}); err != nil {
			b.Fatal(errText(s, err))
		}
		luaWall += time.Since(w)
		if got := s.L.Get(-1); got != lua.LNumber(n) {
			b.Fatalf("lua read %v rows", got)
		}
		s.L.Pop(1)
	}
	b.StopTimer()
	runs := float64(b.N)
	pgxRate := n * runs / pgxWall.Seconds()
	luaRate := n * runs / luaWall.Seconds()
	b.ReportMetric(pgxRate, "pgx-rows/s")
	b.ReportMetric(luaRate, "lua-rows/s")
	b.ReportMetric(luaRate/pgxRate, "lua/pgx")
}

// BenchmarkStatements runs short statements outside a transaction, each on
// a connection taken from the pool for that statement and given back (and
// reset, DISCARD ALL, off the caller's path), in the same run:
//
//   - pgx: a pgxpool of the same size, QueryRow / Exec in pgx's default
//     mode (cached prepared statements, no reset);
//   - lua: db:query_row("SELECT ... $1"), db:exec("UPDATE ... $1") and
//     db:exec without parameters (one statement, extended protocol).
//
// Reported: microseconds per statement of each path and their ratio
// (lua/pgx).
//
//	go test -run XXX -bench Statements -benchtime 3x ./luabind/pg/
func BenchmarkStatements(b *testing.B) {
	const n = 2000
	dsn := pgtest.DSN(b)
	pgtest.Exec(b, dsn, `CREATE TABLE st AS SELECT g AS id, 'v' || g AS v FROM generate_series(1, 100) g`)
	m, _ := newModuleDSN(b, dsn)
	ctx := context.Background()
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	defer pool.Close()
	s := luatest.New(b, luatest.Options{}, m)
	fn, err := s.L.LoadString(`local N = ...
		local db = require("pg").connect()
		local sum = 0
		for i = 1, N / 2 do
			sum = sum + db:query_row("SELECT id FROM st WHERE id = $1", i % 100 + 1).id
			db:exec("UPDATE st SET v = $1 WHERE id = $2", "w", i % 100 + 1)
		end
		for i = 1, 10 do db:exec("UPDATE st SET v = 'x' WHERE id = 1") end
		return sum`)
	if err != nil {
		b.Fatal(err)
	}
	var pgxWall, luaWall time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		w := time.Now()
		for j := 1; j <= n/2; j++ {
			var id int32
			if err := pool.QueryRow(ctx, "SELECT id FROM st WHERE id = $1", j%100+1).Scan(&id); err != nil {
				b.Fatal(err)
			}
			if _, err := pool.Exec(ctx, "UPDATE st SET v = $1 WHERE id = $2", "w", j%100+1); err != nil {
				b.Fatal(err)
			}
		}
		for j := 0; j < 10; j++ {
			if _, err := pool.Exec(ctx, "UPDATE st SET v = 'x' WHERE id = 1"); err != nil {
				b.Fatal(err)
			}
		}
		pgxWall += time.Since(w)

		w = time.Now()
		if err := s.L.CallByParam(lua.P{Fn: fn, NRet: 1, Protect: true}, lua.LNumber(n)); err != nil {
			b.Fatal(errText(s, err))
		}
		luaWall += time.Since(w)
		s.L.Pop(1)
	}
	b.StopTimer()
	stmts := float64(b.N) * (n + 10)
	pgxUS := float64(pgxWall.Microseconds()) / stmts
	luaUS := float64(luaWall.Microseconds()) / stmts
	b.ReportMetric(pgxUS, "pgx-µs/stmt")
	b.ReportMetric(luaUS, "lua-µs/stmt")
	b.ReportMetric(luaUS/pgxUS, "lua/pgx")
}
