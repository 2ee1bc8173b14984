package pgcluster_test

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/etlhost/etlhost/internal/pgcluster"
)

func ExampleStart() {
	dsn, stop, err := pgcluster.Start("")
	if err != nil {
		fmt.Println(err)
		return
	}
	defer stop()
	conn, err := pgx.Connect(context.Background(), dsn)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer conn.Close(context.Background())
	var n int
	_ = conn.QueryRow(context.Background(), "SELECT 40 + 2").Scan(&n)
	fmt.Println(n)
	// Output: 42
}
