package pg

import (
	"errors"
	"strings"
	"testing"
)

// TestCheckStatement: transaction control is refused however it is
// written; the same words elsewhere pass.
func TestCheckStatement(t *testing.T) {
	t.Parallel()
	refused := map[string]string{
		"COMMIT":                             "COMMIT",
		"  \n\t\r\f\vcommit":                 "COMMIT",
		"-- c\nCoMmIt":                       "COMMIT",
		"--c\r\ncommit":                      "COMMIT",
		"/* a /* b */ c */commit":            "COMMIT",
		";;;commit;":                         "COMMIT",
		"end transaction":                    "END",
		"rollback and chain":                 "ROLLBACK",
		"ROLLBACK TO SAVEPOINT s":            "ROLLBACK TO",
		"rollback /* x */ prepared 'g'":      "ROLLBACK PREPARED",
		"commit prepared 'g'":                "COMMIT PREPARED",
		"abort":                              "ABORT",
		"begin isolation level serializable": "BEGIN",
		"start transaction":                  "START TRANSACTION",
		"savepoint s":                        "SAVEPOINT",
		"release s":                          "RELEASE",
		"prepare transaction 'g'":            "PREPARE TRANSACTION",
		"set transaction read write":         "SET TRANSACTION",
		"set session transaction read write": "SET SESSION TRANSACTION",
		"set session characteristics as transaction isolation level serializable": "SET SESSION CHARACTERISTICS",
		"SET LOCAL transaction_isolation TO 'serializable'":                       "SET LOCAL transaction_isolation",
		"set transaction_deferrable = on":                                         "SET transaction_deferrable",
		"discard plans":                                                           "DISCARD",
	}
	for sql, name := range refused {
		err := checkStatement(sql)
		var ue *usageError
		if !errors.As(err, &ue) || !strings.HasPrefix(ue.msg, name+" is transaction control") || !strings.Contains(ue.msg, "db:tx") {
			t.Errorf("%q: %v, want a usage error naming %s", sql, err, name)
		}
	}
	for _, sql := range []string{
		"SELECT 'COMMIT'", `SELECT 1 AS "commit"`, `"commit"`, "/* commit */ SELECT 1", "-- commit\nSELECT 1",
		"UPDATE t SET v = 1", "prepare p AS SELECT 1", "set search_path TO public", "SET statement_timeout = 0",
		"set session authorization default", "committed", "ending", "begin_work()", "", "   ", "/* unterminated",
		"DO $$ BEGIN COMMIT; END $$", "CALL p()", "SELECT 1; COMMIT", "VALUES (1)", "éCOMMIT",
	} {
		if err := checkStatement(sql); err != nil {
			t.Errorf("%q refused: %v", sql, err)
		}
	}
}

// FuzzCheckStatement: the check never panics, and a prefix of blanks,
// comments and semicolons does not hide a COMMIT after it.
func FuzzCheckStatement(f *testing.F) {
	for _, s := range []string{"", " ", "-- x\n", "/* */", ";", "/* /* */ */", "\t;\n"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, prefix string) {
		_ = checkStatement(prefix)
		if w, rest := nextWord(prefix + "\nmarker"); w != "marker" || rest != "" {
			return // prefix holds a token of its own, or leaves a comment open
		}
		prefix += "\n"
		if checkStatement(prefix+"COMMIT") == nil {
			t.Fatalf("%q + COMMIT passed the check", prefix)
		}
	})
}
