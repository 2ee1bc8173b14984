package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/etlhost/etlhost/odoo/odoosim"
)

// Two XML-RPC calls as a client sends them: a login, and a search_read of
// the first five moves by id (five records examined, five read).
const (
	simAuthenticate = `<?xml version="1.0"?><methodCall><methodName>authenticate</methodName><params>` +
		`<param><value><string>demo</string></value></param><param><value><string>admin</string></value></param>` +
		`<param><value><string>admin</string></value></param><param><value><struct></struct></value></param>` +
		`</params></methodCall>`
	simSearchRead = `<?xml version="1.0"?><methodCall><methodName>execute_kw</methodName><params>` +
		`<param><value><string>demo</string></value></param><param><value><int>2</int></value></param>` +
		`<param><value><string>admin</string></value></param><param><value><string>account.move</string></value></param>` +
		`<param><value><string>search_read</string></value></param>` +
		`<param><value><array><data><value><array><data></data></array></value></data></array></value></param>` +
		`<param><value><struct><member><name>limit</name><value><int>5</int></value></member>` +
		`<member><name>order</name><value><string>id</string></value></member>` +
		`<member><name>fields</name><value><array><data><value><string>name</string></value></data></array></value></member>` +
		`</struct></value></param></params></methodCall>`
)

var simURLRe = regexp.MustCompile(`on (http://[0-9.:]+), database`)

// TestOdooSimStatsOnStop serves the simulator in process, makes two calls,
// stops it as Ctrl+C does and checks the stats it prints: a table on stderr,
// or JSON on stdout with --json.
func TestOdooSimStatsOnStop(t *testing.T) {
	t.Parallel()
	for _, asJSON := range []bool{false, true} {
		name := map[bool]string{false: "table", true: "json"}[asJSON]
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			args := []string{"etlhost", "odoo-sim", "--addr", "127.0.0.1:0", "--moves", "30",
				"--workers", "1", "--cost-call", "1ms", "--cost-examine", "5us", "--cost-read", "10us"}
			if asJSON {
				args = append(args, "--json")
			}
			var stdout, stderr lockedBuffer
			app := &App{Stdin: strings.NewReader(""), Stdout: &stdout, Stderr: &stderr, Getenv: func(string) string { return "" }}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			code := make(chan int, 1)
			go func() { code <- app.Run(ctx, args) }()

			var url string
			for deadline := time.Now().Add(30 * time.Second); url == ""; time.Sleep(5 * time.Millisecond) {
				if m := simURLRe.FindStringSubmatch(stderr.String()); m != nil {
					url = m[1]
				} else if time.Now().After(deadline) {
					t.Fatalf("odoo-sim did not start:\n%s", stderr.String())
				}
			}
			for _, c := range []struct{ service, body string }{{"common", simAuthenticate}, {"object", simSearchRead}} {
				resp, err := http.Post(url+"/xmlrpc/2/"+c.service, "text/xml", strings.NewReader(c.body))
				if err != nil {
					t.Fatal(err)
				}
				raw, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 || strings.Contains(string(raw), "<fault>") {
					t.Fatalf("%s call: HTTP %d\n%s", c.service, resp.StatusCode, raw)
				}
			}
			resp, err := http.Get(url + "/sim/stats")
			if err != nil {
				t.Fatal(err)
			}
			var live odoosim.Stats
			err = json.NewDecoder(resp.Body).Decode(&live)
			resp.Body.Close()
			if err != nil || live.Calls != 2 {
				t.Errorf("GET /sim/stats while serving: %v %+v", err, live)
			}

			cancel()
			if c := <-code; c != ExitOK {
				t.Fatalf("exit %d, want %d\nstderr:\n%s", c, ExitOK, stderr.String())
			}
			if asJSON {
				var st odoosim.Stats
				if err := json.Unmarshal([]byte(stdout.String()), &st); err != nil {
					t.Fatalf("stdout is not the stats JSON: %v\n%s", err, stdout.String())
				}
				if st.Calls != 2 || st.Examined != 5 || st.Read != 5 || len(st.ByCall) != 2 ||
					st.ByCall[0].Method != "authenticate" || st.ByCall[1].Model != "account.move" {
					t.Errorf("stats %+v", st)
				}
				if strings.Contains(stderr.String(), "examined") {
					t.Errorf("--json also printed the table:\n%s", stderr.String())
				}
				return
			}
			for _, re := range []string{
				`odoo-sim: served 2 calls; 5 records examined, 5 read; \d+ bytes sent; \d+\.\d{3}s serving`,
				`(?m)^ *model +method +calls +examined +read +bytes +serving *$`,
				`(?m)^ *total +2 +5 +5 +\d+ +\d+\.\d{3}s *$`,
				`(?m)^ *- +authenticate +1 +0 +0 +\d+ +\d+\.\d{3}s *$`,
				`(?m)^ *account\.move +search_read +1 +5 +5 +\d+ +\d+\.\d{3}s *$`,
			} {
				if !regexp.MustCompile(re).MatchString(stderr.String()) {
					t.Errorf("stderr does not match %q:\n%s", re, stderr.String())
				}
			}
			if stdout.String() != "" {
				t.Errorf("stdout without --json: %q", stdout.String())
			}
		})
	}
}

// TestOdooSimUsage: negative counts and durations are usage errors, given
// before the simulator is built.
func TestOdooSimUsage(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct {
		args []string
		err  string
	}{
		{[]string{"--moves", "-1"}, "--moves cannot be negative"},
		{[]string{"--workers", "-1"}, "--workers cannot be negative"},
		{[]string{"--latency", "-5ms"}, "--latency cannot be negative"},
		{[]string{"--cost-call", "-2ms"}, "--cost-call cannot be negative"},
		{[]string{"--cost-examine", "-5us"}, "--cost-examine cannot be negative"},
		{[]string{"--cost-read", "-100us"}, "--cost-read cannot be negative"},
		{[]string{"--cost-read", "lots"}, "invalid value"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			t.Parallel()
			out := run(t, nil, append([]string{"odoo-sim", "--addr", "127.0.0.1:0"}, tc.args...)...)
			if out.code != ExitUsage || !strings.Contains(out.stderr, tc.err) {
				t.Errorf("exit %d, want %d with %q:\n%s", out.code, ExitUsage, tc.err, out.stderr)
			}
		})
	}
}
