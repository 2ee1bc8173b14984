package pgtext_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"github.com/etlhost/etlhost/internal/pgtest"
	"github.com/etlhost/etlhost/internal/pgtext"
)

func TestMain(m *testing.M) { pgtest.Main(m) }

func TestText(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"":               "",
		"plain é":        "plain é",
		"bad\x00byte":    "bad�byte",
		"caf\xe9":        "caf�",
		"\x00\xff\x00":   "���",
		"tab\tnewline\n": "tab\tnewline\n",
	} {
		if got := pgtext.Text(in); got != want {
			t.Errorf("Text(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestJSON(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		`{"a":"x"}`:                           `{"a":"x"}`,
		`"bad\u0000byte"`:                     `"bad\ufffdbyte"`,
		`"not an escape: \\u0000"`:            `"not an escape: \\u0000"`,
		`"\\\u0000"`:                          `"\\\ufffd"`,
		`"pair \ud83d\ude00 ok"`:              `"pair \ud83d\ude00 ok"`,
		`"lone \ud83d x"`:                     `"lone \ufffd x"`,
		`"lone low \ude00"`:                   `"lone low \ufffd"`,
		`"high then high \ud83d\ud83d\ude00"`: `"high then high \ufffd\ud83d\ude00"`,
		"\"raw caf\xe9\"":                     `"raw caf�"`,
		`["\u00e9\n"]`:                        `["\u00e9\n"]`,
	} {
		got := string(pgtext.JSON([]byte(in)))
		if got != want {
			t.Errorf("JSON(%s) = %s, want %s", in, got, want)
		}
		if !json.Valid([]byte(got)) {
			t.Errorf("JSON(%s) = %s: not JSON", in, got)
		}
	}
}

// TestPostgresAccepts stores what the functions make of text PostgreSQL
// refuses, in text and jsonb columns of a real server.
func TestPostgresAccepts(t *testing.T) {
	t.Parallel()
	dsn := pgtest.DSN(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, "CREATE TABLE t (s text, j jsonb)"); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"bad\x00byte", "caf\xe9", "\xff\xfe", "ok"} {
		j, _ := json.Marshal(map[string]any{"v": s, "k\x00": []any{s}})
		j = append(j[:len(j)-1], []byte(`,"lone":"\udc00","pair":"\ud83d\ude00"}`)...)
		if _, err := conn.Exec(ctx, "INSERT INTO t VALUES ($1, $2)", s, string(j)); err == nil && s != "ok" {
			t.Errorf("%q was stored without pgtext: the test no longer shows anything", s)
		}
		if _, err := conn.Exec(ctx, "INSERT INTO t VALUES ($1, $2)", pgtext.Text(s), string(pgtext.JSON(j))); err != nil {
			t.Errorf("%q: %v", s, err)
		}
	}
	var n int
	if err := conn.QueryRow(ctx, "SELECT count(*) FROM t WHERE j->>'pair' = '😀'").Scan(&n); err != nil || n < 4 {
		t.Errorf("rows %d, %v", n, err)
	}
}

func FuzzJSON(f *testing.F) {
	f.Add("bad\x00byte", `\ud800`)
	f.Add("caf\xe9", `\\u0000`)
	f.Fuzz(func(t *testing.T, s, raw string) {
		b, _ := json.Marshal([]string{s})
		out := pgtext.JSON(b)
		if !json.Valid(out) || !utf8.Valid(out) {
			t.Fatalf("JSON(%s) = %s", b, out)
		}
		// Raw text spliced into a string literal, when that is JSON.
		in := []byte(`["` + raw + `"]`)
		if json.Valid(in) {
			if out := pgtext.JSON(in); !json.Valid(out) {
				t.Fatalf("JSON(%s) = %s", in, out)
			}
		}
	})
}
