package odoo_test

import (
	"testing"

	"github.com/etlhost/etlhost/odoo/odoosim"
)

func startSim(t testing.TB, opts odoosim.Options) *odoosim.Server {
	t.Helper()
	srv := odoosim.NewServer(opts)
	t.Cleanup(srv.Close)
	return srv
}
