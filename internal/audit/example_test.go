package audit_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"github.com/etlhost/etlhost/internal/audit"
)

// ExampleOpen records one committed fix in a JSON-lines file.
func ExampleOpen() {
	dir, _ := os.MkdirTemp("", "audit")
	defer os.RemoveAll(dir)
	trail, err := audit.Open(context.Background(), audit.Options{File: filepath.Join(dir, "audit.jsonl")})
	if err != nil {
		panic(err)
	}
	rec := audit.NewRecord(time.Now(), os.Getenv, "exec", "-e", `db:exec("UPDATE t SET v = 1")`, nil)
	rec.Status = "ok"
	rec.Statements = append(rec.Statements, audit.Statement{Connection: "default", Statement: "exec UPDATE t SET v = 1", Rows: 3})
	if err := trail.Append(context.Background(), rec); err != nil {
		panic(err)
	}
	trail.Close()

	b, _ := os.ReadFile(trail.Path())
	var back audit.Record
	_ = json.Unmarshal(b, &back)
	fmt.Println(back.Command, back.Script, back.Status, back.Statements[0].Statement, back.Statements[0].Rows, len(back.SHA256))
	// Output: exec -e ok exec UPDATE t SET v = 1 3 64
}
