package host

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/etlhost/etlhost/odoo"
)

// TestOdooMaxResponseBytes (issue 18, item 8): [odoo.NAME]
// max_response_bytes reaches the client's configuration, as bytes or as a
// size; absent, the client's default applies.
func TestOdooMaxResponseBytes(t *testing.T) {
	t.Parallel()
	section := "[odoo.default]\nurl = \"https://erp\"\ndb = \"prod\"\nuser = \"u\"\npassword = \"pw\"\n"
	load := func(t *testing.T, extra string) (*Config, error) {
		p := filepath.Join(t.TempDir(), "etlhost.toml")
		if err := os.WriteFile(p, []byte(section+extra), 0o644); err != nil {
			t.Fatal(err)
		}
		return LoadConfig(p, func(string) string { return "" })
	}
	for extra, want := range map[string]int64{
		"":                                0,
		"max_response_bytes = 4096\n":     4096,
		"max_response_bytes = \"1GiB\"\n": 1 << 30,
	} {
		cfg, err := load(t, extra)
		if err != nil {
			t.Fatalf("%q: %v", extra, err)
		}
		if got := cfg.Odoo["default"].OdooConfig().MaxResponseBytes; got != want {
			t.Errorf("%q: MaxResponseBytes %d, want %d", extra, got, want)
		}
	}
	if odoo.DefaultMaxResponseBytes != 256<<20 {
		t.Errorf("the documented default is 256 MiB, the client's is %d", odoo.DefaultMaxResponseBytes)
	}
	for _, bad := range []string{"max_response_bytes = \"lots\"\n", "max_response_bytes = -1\n", "max_response_bytes = true\n"} {
		_, err := load(t, bad)
		var ce *ConfigError
		if !errors.As(err, &ce) || !strings.Contains(err.Error(), "max_response_bytes") {
			t.Errorf("%q: %v, want a ConfigError naming the key", bad, err)
		}
	}
}
