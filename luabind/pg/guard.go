package pg

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
)

// What a script's SQL may not do: end or escape the transaction the host
// holds (a dry run's, exec --commit's, db:tx's), nor reset the session
// under the module's feet.
//
// Every statement a script sends goes through the extended protocol (Parse,
// Bind, Execute), which takes exactly one statement: "INSERT ...; COMMIT" is
// refused by the server before anything runs (SQLSTATE 42601). pgx sends a
// parameterless Exec through the simple protocol, which runs any number of
// statements; execOne does not. Of the one statement, checkStatement reads
// the leading keywords, after any whitespace, comments and empty statements
// (";"), in any case, and refuses transaction control. What the lexer sees
// as a keyword cannot be quoted ("COMMIT" in double quotes is an
// identifier), so this is the server's own reading of the statement's
// kind. Transaction control inside a DO block or a procedure is refused by
// the server itself inside a transaction block ("invalid transaction
// termination", 2D000); outside one it ends only the block's own work.

// txControl is the first keyword of every statement that ends, begins or
// alters a transaction, or discards session state: BEGIN, START
// TRANSACTION, COMMIT [PREPARED], END, ROLLBACK [TO | PREPARED], ABORT,
// SAVEPOINT, RELEASE [SAVEPOINT], DISCARD. PREPARE and SET are refused
// only with the words that make them transaction control (checked in
// checkStatement).
var txControl = map[string]bool{
	"begin": true, "start": true, "commit": true, "end": true, "rollback": true,
	"abort": true, "savepoint": true, "release": true, "discard": true,
}

// txSettings are the parameters SET TRANSACTION sets, refused as SET x too.
var txSettings = map[string]bool{
	"transaction_isolation": true, "transaction_read_only": true, "transaction_deferrable": true,
}

// checkStatement refuses transaction control (see txControl), with a usage
// error naming the statement and saying to use db:tx.
func checkStatement(sql string) error {
	w, rest := nextWord(sql)
	refuse := ""
	switch {
	case txControl[w]:
		refuse = strings.ToUpper(w)
		if w2, _ := nextWord(rest); w == "rollback" && (w2 == "to" || w2 == "prepared") ||
			w == "commit" && w2 == "prepared" || w == "start" && w2 == "transaction" {
			refuse += " " + strings.ToUpper(w2)
		}
	case w == "prepare":
		if w2, _ := nextWord(rest); w2 == "transaction" {
			refuse = "PREPARE TRANSACTION"
		}
	case w == "set":
		w2, rest2 := nextWord(rest)
		scope := ""
		if w2 == "session" || w2 == "local" {
			scope = strings.ToUpper(w2) + " "
			w2, _ = nextWord(rest2)
		}
		switch {
		case w2 == "transaction":
			refuse = "SET " + scope + "TRANSACTION"
		case scope == "SESSION " && w2 == "characteristics":
			refuse = "SET SESSION CHARACTERISTICS"
		case txSettings[w2]:
			refuse = "SET " + scope + w2
		}
	}
	if refuse == "" {
		return nil
	}
	return &usageError{msg: refuse + " is transaction control, which a script may not send: etlhost holds the transaction " +
		"(of a dry run, of exec --commit, of db:tx) and ends it itself; group statements with db:tx(function(tx) ... end), " +
		"which commits when the function returns and rolls back when it raises, and nest tx:tx(fn) for a savepoint"}
}

// nextWord returns the first word of sql (lowercased ASCII), skipping
// whitespace, -- and /* */ comments (nested, as PostgreSQL's) and empty
// statements (";"), and what follows it. A word is what PostgreSQL's lexer
// reads as an identifier or keyword; anything else ends the scan with "".
func nextWord(sql string) (word, rest string) {
	i := 0
	for i < len(sql) {
		switch c := sql[i]; {
		case c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' || c == ';':
			i++
		case c == '-' && i+1 < len(sql) && sql[i+1] == '-':
			for i < len(sql) && sql[i] != '\n' && sql[i] != '\r' {
				i++
			}
		case c == '/' && i+1 < len(sql) && sql[i+1] == '*':
			depth := 0
			for i < len(sql) {
				if sql[i] == '/' && i+1 < len(sql) && sql[i+1] == '*' {
					depth++
					i += 2
				} else if sql[i] == '*' && i+1 < len(sql) && sql[i+1] == '/' {
					depth--
					i += 2
					if depth == 0 {
						break
					}
				} else {
					i++
				}
			}
		default:
			start := i
			for i < len(sql) && isIdentChar(sql[i], i == start) {
				i++
			}
			return strings.ToLower(sql[start:i]), sql[i:]
		}
	}
	return "", ""
}

// isIdentChar reports whether c continues (or, first, starts) an unquoted
// identifier: letters, _, bytes of non-ASCII characters, then digits and $.
func isIdentChar(c byte, first bool) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c == '_', c >= 0x80:
		return true
	case c >= '0' && c <= '9', c == '$':
		return !first
	}
	return false
}

// execOne runs one statement of a script through the extended protocol:
// one statement only, refused by the server otherwise. With parameters
// pgx's Exec does so (it describes the statement first); without, pgx
// would use the simple protocol, so the statement is sent as an unnamed
// one with no parameters (one round trip).
func execOne(ctx context.Context, q querier, sql string, args []any) (pgconn.CommandTag, error) {
	if len(args) > 0 {
		return q.Exec(ctx, sql, args...)
	}
	return q.Conn().PgConn().ExecParams(ctx, sql, nil, nil, nil, nil).Close()
}

// multipleStatementsHint explains the server's refusal of several
// statements in one call.
const multipleStatementsHint = "etlhost sends one statement per call: call db:exec once per statement, in a db:tx(function(tx) ... end) to make them one transaction"

// schemaKey is where a pooled connection keeps its schema (CustomData).
const schemaKey = "etlhost.schema"

// connSchema is the connection's schema: current_schema() when it was
// opened, before any script ran on it (the first existing schema of its
// configured search_path), or "" when that path names no existing schema.
func connSchema(c *pgx.Conn) string {
	s, _ := c.PgConn().CustomData()[schemaKey].(string)
	return s
}

// resolveTable gives the table copy and replace write to: a qualified name
// as written (pg_temp.t for a temporary table), an unqualified one in the
// connection's schema, whatever search_path the session has now and
// whatever temporary tables it holds.
func resolveTable(c *pgx.Conn, id pgx.Identifier) (pgx.Identifier, error) {
	if len(id) > 1 {
		return id, nil
	}
	schema := connSchema(c)
	if schema == "" {
		return nil, &usageError{msg: fmt.Sprintf("table %q has no schema and the connection has none "+
			"(its search_path names no existing schema): write schema.%s", id[0], id[0])}
	}
	return pgx.Identifier{schema, id[0]}, nil
}
