package host

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestConfigAudit: the [audit] section names a file and a history
// connection, which must be one of the [postgres.NAME] connections.
func TestConfigAudit(t *testing.T) {
	t.Parallel()
	env := map[string]string{"HIST_DSN": "postgres://u:secret@localhost/h"}
	cases := []struct {
		name, toml, err string
		file, conn      string
	}{
		{name: "file and connection", toml: "[postgres.history]\ndsn_env = \"HIST_DSN\"\n[audit]\nfile = \"/tmp/a.jsonl\"\nconnection = \"history\"\n",
			file: "/tmp/a.jsonl", conn: "history"},
		{name: "none", toml: "[run]\njobs = 1\n"},
		{name: "unknown connection", toml: "[audit]\nconnection = \"nope\"\n", err: "audit.connection: no [postgres.nope] connection is configured"},
		{name: "unknown key", toml: "[audit]\ntable = \"x\"\n", err: "audit.table: unknown key"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			p := filepath.Join(t.TempDir(), "etlhost.toml")
			if err := os.WriteFile(p, []byte(tc.toml), 0o644); err != nil {
				t.Fatal(err)
			}
			cfg, err := LoadConfig(p, func(k string) string { return env[k] })
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("error %v, want %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Audit.File != tc.file || cfg.Audit.Connection != tc.conn {
				t.Fatalf("audit %+v", cfg.Audit)
			}
		})
	}
}
