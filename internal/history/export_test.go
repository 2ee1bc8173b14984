package history

import "context"

// OpenAt opens the history with its schema migrated up to version only: an
// older etlhost's database, for the tests of the later migrations.
func OpenAt(ctx context.Context, dsn string, version int) (*Store, error) {
	return open(ctx, dsn, version)
}
