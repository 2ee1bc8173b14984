package odoo_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/etlhost/etlhost/odoo"
	"github.com/etlhost/etlhost/odoo/odoosim"
)

// secretPassword is a credential that must never show up in an error.
const secretPassword = "Sup3r-Secret-Pw!"

type bundle struct {
	srv    *odoosim.Server
	sim    *odoosim.Sim
	client *odoo.Client
	cfg    odoo.Config
}

// setup starts a simulator and a client for it. mut adjusts the config.
func setup(t testing.TB, opts odoosim.Options, mut func(*odoo.Config)) *bundle {
	t.Helper()
	if opts.Moves == 0 {
		opts.Moves = 60
	}
	if opts.Seed == 0 {
		opts.Seed = 1
	}
	srv := startSim(t, opts)
	cfg := odoo.Config{URL: srv.URL, DB: "demo", User: "admin", Password: "admin", RetryBackoff: time.Millisecond}
	if opts.Version == "19.0" {
		cfg.Transport = odoo.TransportJSON2
		cfg.Password = ""
		cfg.APIKey = "demo-api-key"
	}
	if mut != nil {
		mut(&cfg)
	}
	c, err := odoo.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	return &bundle{srv: srv, sim: srv.Sim(), client: c, cfg: cfg}
}

// transports runs f once per transport, each with its own simulator.
func transports(t *testing.T, f func(t *testing.T, b *bundle)) {
	for _, tc := range []struct{ name, version string }{{"xmlrpc", ""}, {"json2", "19.0"}} {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			f(t, setup(t, odoosim.Options{Version: tc.version}, nil))
		})
	}
}

func TestVersionAndAuthenticate(t *testing.T) {
	t.Parallel()
	transports(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		v, err := b.client.Version(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if v.ServerVersion == "" || v.Major < 16 {
			t.Fatalf("version %+v", v)
		}
		if b.cfg.Transport == odoo.TransportJSON2 && v.Major != 19 {
			t.Fatalf("json2 simulator reports %+v", v)
		}
		uid, err := b.client.Authenticate(ctx)
		if err != nil {
			t.Fatal(err)
		}
		n := b.client.Requests()
		uid2, err := b.client.Authenticate(ctx)
		if err != nil || uid2 != uid {
			t.Fatalf("second authenticate: %d %v", uid2, err)
		}
		if b.client.Requests() != n {
			t.Fatal("the uid is not cached")
		}
	})
}

func TestReadMethods(t *testing.T) {
	t.Parallel()
	transports(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		c := b.client
		rows, err := c.SearchRead(ctx, "res.partner", []any{[]any{"is_company", "=", true}},
			odoo.SearchOptions{Fields: []string{"name", "country_id", "is_company"}, Order: "id", Limit: 5})
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != 5 {
			t.Fatalf("%d rows", len(rows))
		}
		for _, r := range rows {
			if r["is_company"] != true {
				t.Fatalf("row %v", r)
			}
			if _, ok := r["id"].(int64); !ok {
				t.Fatalf("id is a %T", r["id"])
			}
			switch cv := r["country_id"].(type) {
			case bool:
				if cv {
					t.Fatalf("country_id true?")
				}
			case []any:
				if len(cv) != 2 {
					t.Fatalf("many2one %v", cv)
				}
			default:
				t.Fatalf("country_id is a %T", cv)
			}
		}
		ids, err := c.Search(ctx, "res.partner", []any{[]any{"is_company", "=", true}}, odoo.SearchOptions{Order: "id", Limit: 5})
		if err != nil {
			t.Fatal(err)
		}
		for i, id := range ids {
			if rows[i]["id"] != id {
				t.Fatalf("search ids %v differ from search_read rows", ids)
			}
		}
		n, err := c.SearchCount(ctx, "res.partner", []any{[]any{"is_company", "=", true}})
		if err != nil || n < 5 {
			t.Fatalf("count %d %v", n, err)
		}
		all, err := c.Search(ctx, "res.partner", []any{[]any{"is_company", "=", true}}, odoo.SearchOptions{})
		if err != nil || int64(len(all)) != n {
			t.Fatalf("count %d, search %d (%v)", n, len(all), err)
		}
		read, err := c.Read(ctx, "res.partner", ids, []string{"name"})
		if err != nil || len(read) != len(ids) {
			t.Fatalf("read %v %v", read, err)
		}
		if read[0]["name"] != rows[0]["name"] {
			t.Fatalf("read %v vs search_read %v", read[0], rows[0])
		}
		fields, err := c.FieldsGet(ctx, "res.partner", []string{"string", "type", "relation"})
		if err != nil {
			t.Fatal(err)
		}
		if fields["country_id"]["type"] != "many2one" || fields["country_id"]["relation"] != "res.country" {
			t.Fatalf("fields_get country_id %v", fields["country_id"])
		}
		name, _ := rows[0]["name"].(string)
		found, err := c.NameSearch(ctx, "res.partner", name, odoo.NameSearchOptions{Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		hit := false
		for _, p := range found {
			hit = hit || p.ID == ids[0]
		}
		if !hit {
			t.Fatalf("name_search %q: %v", name, found)
		}
	})
}

func TestWriteMethods(t *testing.T) {
	t.Parallel()
	transports(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		c := b.client
		id, err := c.Create(ctx, "res.partner", map[string]any{"name": "Go Client SA", "city": "Nantes", "email": nil})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Write(ctx, "res.partner", []int64{id}, map[string]any{"city": "Brest", "ref": nil}); err != nil {
			t.Fatal(err)
		}
		rows, err := c.Read(ctx, "res.partner", []int64{id}, []string{"name", "city", "email", "ref"})
		if err != nil || len(rows) != 1 {
			t.Fatalf("read %v %v", rows, err)
		}
		if rows[0]["city"] != "Brest" || rows[0]["email"] != false || rows[0]["ref"] != false {
			t.Fatalf("after write: %v (nil must travel as False)", rows[0])
		}
		ids, err := c.CreateMulti(ctx, "res.partner", []map[string]any{{"name": "A"}, {"name": "B"}})
		if err != nil || len(ids) != 2 {
			t.Fatalf("create multi %v %v", ids, err)
		}
		if err := c.Unlink(ctx, "res.partner", append(ids, id)); err != nil {
			t.Fatal(err)
		}
		n, err := c.SearchCount(ctx, "res.partner", []any{[]any{"id", "in", append(ids, id)}})
		if err != nil || n != 0 {
			t.Fatalf("after unlink: %d %v", n, err)
		}
	})
}

func TestFaults(t *testing.T) {
	t.Parallel()
	transports(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		c := b.client
		cases := []struct {
			name   string
			call   func() error
			code   int
			substr string
		}{
			{"invalid field", func() error {
				_, err := c.SearchRead(ctx, "res.partner", nil, odoo.SearchOptions{Fields: []string{"nope"}, Limit: 1})
				return err
			}, 1, "Invalid field"},
			{"bad domain operator", func() error {
				_, err := c.Search(ctx, "res.partner", []any{[]any{"name", "==", "x"}}, odoo.SearchOptions{})
				return err
			}, 1, ""},
			{"missing record", func() error {
				return c.Write(ctx, "res.partner", []int64{987654321}, map[string]any{"name": "x"})
			}, 2, "Record does not exist or has been deleted"},
			{"unknown model", func() error {
				_, err := c.SearchCount(ctx, "no.such.model", nil)
				return err
			}, 2, "no.such.model"},
			{"private method", func() error {
				_, err := c.Call(ctx, "res.partner", "_private", nil, nil)
				return err
			}, 4, ""},
		}
		for _, tc := range cases {
			err := tc.call()
			var f *odoo.Fault
			if !errors.As(err, &f) {
				t.Fatalf("%s: want a *Fault, got %v", tc.name, err)
			}
			if f.Code != tc.code || !strings.Contains(f.Message, tc.substr) {
				t.Fatalf("%s: fault %d %q, want code %d containing %q", tc.name, f.Code, f.Message, tc.code, tc.substr)
			}
			if tc.code == 1 {
				if strings.Contains(f.Message, "\n") || f.Traceback == "" {
					t.Fatalf("%s: code 1 message %q must be the last line, traceback kept (%d bytes)", tc.name, f.Message, len(f.Traceback))
				}
			}
			if f.Model == "" || f.Method == "" {
				t.Fatalf("%s: fault does not name the call: %+v", tc.name, f)
			}
		}
	})
}

func TestBadCredentialsNeverRetried(t *testing.T) {
	t.Parallel()
	for _, version := range []string{"", "19.0"} {
		t.Run("version "+version, func(t *testing.T) {
			t.Parallel()
			b := setup(t, odoosim.Options{Version: version}, func(c *odoo.Config) {
				if c.Transport == odoo.TransportJSON2 {
					c.APIKey = secretPassword
				} else {
					c.Password = secretPassword
				}
			})
			ctx := context.Background()
			_, err := b.client.Authenticate(ctx)
			if !errors.Is(err, odoo.ErrAuth) {
				t.Fatalf("want ErrAuth, got %v", err)
			}
			if b.cfg.Transport != odoo.TransportJSON2 && err.Error() != "odoo login failed for user admin on db demo" {
				t.Fatalf("message %q", err)
			}
			sent := b.client.Requests()
			if sent != 1 {
				t.Fatalf("a refused login was sent %d times", sent)
			}
			simCalls := b.sim.Calls()
			var errs []error
			for i := 0; i < 3; i++ {
				_, err := b.client.SearchCount(ctx, "res.partner", nil)
				errs = append(errs, err)
				_, err = b.client.Authenticate(ctx)
				errs = append(errs, err)
			}
			if b.client.Requests() != sent || b.sim.Calls() != simCalls {
				t.Fatalf("the password was tried again: %d requests, simulator saw %d more", b.client.Requests(), b.sim.Calls()-simCalls)
			}
			for _, e := range append(errs, err) {
				if !errors.Is(e, odoo.ErrAuth) {
					t.Fatalf("want ErrAuth, got %v", e)
				}
				if strings.Contains(e.Error(), secretPassword) || strings.Contains(fmt.Sprintf("%+v %#v", e, e), secretPassword) {
					t.Fatalf("error shows the secret: %v", e)
				}
			}
		})
	}
}

func TestRetriesOnlyForReads(t *testing.T) {
	t.Parallel()
	transports(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		c := b.client
		if _, err := c.Authenticate(ctx); err != nil {
			t.Fatal(err)
		}
		before, err := c.SearchCount(ctx, "res.partner", nil)
		if err != nil {
			t.Fatal(err)
		}
		b.sim.FailEvery(2)
		defer b.sim.FailEvery(0)
		// Reads survive: every other call fails and is retried.
		for i := 0; i < 6; i++ {
			if _, err := c.SearchRead(ctx, "res.partner", nil, odoo.SearchOptions{Fields: []string{"name"}, Limit: 3}); err != nil {
				t.Fatalf("read %d with FailEvery(2): %v", i, err)
			}
		}
		// Writes are sent once: about half of them fail, none twice.
		created, failed := 0, 0
		for i := 0; i < 6; i++ {
			r := c.Requests()
			_, err := c.Create(ctx, "res.partner", map[string]any{"name": fmt.Sprintf("Retry test %d", i)})
			if c.Requests()-r != 1 {
				t.Fatalf("create %d was sent %d times", i, c.Requests()-r)
			}
			if err != nil {
				failed++
			} else {
				created++
			}
		}
		if failed == 0 {
			t.Fatal("FailEvery(2) made no create fail")
		}
		b.sim.FailEvery(0)
		after, err := c.SearchCount(ctx, "res.partner", nil)
		if err != nil {
			t.Fatal(err)
		}
		n, err := c.SearchCount(ctx, "res.partner", []any{[]any{"name", "=like", "Retry test %"}})
		if err != nil {
			t.Fatal(err)
		}
		if int(n) != created || int(after-before) != created {
			t.Fatalf("%d creates succeeded but %d records exist (%d more partners): a write was retried", created, n, after-before)
		}
	})
}

func TestConnectionResetsAreRetriedForReads(t *testing.T) {
	t.Parallel()
	b := setup(t, odoosim.Options{}, nil)
	ctx := context.Background()
	if _, err := b.client.Authenticate(ctx); err != nil {
		t.Fatal(err)
	}
	b.sim.ResetEvery(2)
	defer b.sim.ResetEvery(0)
	for i := 0; i < 6; i++ {
		if _, err := b.client.Search(ctx, "res.partner", nil, odoo.SearchOptions{Limit: 5}); err != nil {
			t.Fatalf("search %d with ResetEvery(2): %v", i, err)
		}
	}
}

func TestHungOdooStopsAtTheDeadline(t *testing.T) {
	t.Parallel()
	b := setup(t, odoosim.Options{}, nil)
	if _, err := b.client.Authenticate(context.Background()); err != nil {
		t.Fatal(err)
	}
	b.sim.Hang(true)
	defer b.sim.Hang(false)
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := b.client.SearchCount(ctx, "res.partner", nil)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("want a deadline error, got %v", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Fatalf("the call outlived its deadline by %v", d)
	}
}

func TestPerCallTimeoutIsRetriedForReadsOnly(t *testing.T) {
	t.Parallel()
	b := setup(t, odoosim.Options{}, func(c *odoo.Config) {
		c.Timeout = 150 * time.Millisecond
		c.Retries = 2
	})
	ctx := context.Background()
	if _, err := b.client.Authenticate(ctx); err != nil {
		t.Fatal(err)
	}
	b.sim.Hang(true)
	defer b.sim.Hang(false)
	r := b.client.Requests()
	_, err := b.client.SearchCount(ctx, "res.partner", nil)
	var ce *odoo.CallError
	if !errors.As(err, &ce) || ce.Attempts != 3 || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("want 3 timed-out attempts, got %v", err)
	}
	if b.client.Requests()-r != 3 {
		t.Fatalf("%d requests for one read with 2 retries", b.client.Requests()-r)
	}
	r = b.client.Requests()
	_, err = b.client.Create(ctx, "res.partner", map[string]any{"name": "timeout"})
	if err == nil || b.client.Requests()-r != 1 {
		t.Fatalf("a timed-out create must be sent once and fail: %d requests, %v", b.client.Requests()-r, err)
	}
}

func TestResponseSizeCap(t *testing.T) {
	t.Parallel()
	b := setup(t, odoosim.Options{}, func(c *odoo.Config) { c.MaxResponseBytes = 4096 })
	r0 := b.client.Requests()
	_, err := b.client.SearchRead(context.Background(), "account.move", nil, odoo.SearchOptions{Fields: []string{"name", "amount_total"}})
	if !errors.Is(err, odoo.ErrResponseTooLarge) {
		t.Fatalf("want ErrResponseTooLarge, got %v", err)
	}
	if !strings.Contains(err.Error(), "4096 bytes") {
		t.Fatalf("message should name the cap: %v", err)
	}
	if n := b.client.Requests() - r0; n != 2 { // authenticate + one search_read, never retried
		t.Fatalf("%d requests", n)
	}
}

func TestMaxInFlightBoundsConcurrency(t *testing.T) {
	t.Parallel()
	const latency = 60 * time.Millisecond
	b := setup(t, odoosim.Options{Latency: latency}, func(c *odoo.Config) { c.MaxInFlight = 2 })
	ctx := context.Background()
	if _, err := b.client.Authenticate(ctx); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	var wg sync.WaitGroup
	errs := make(chan error, 6)
	for i := 0; i < 6; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, err := b.client.SearchCount(ctx, "res.partner", nil)
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	// Six calls, two at a time, each at least `latency`: three rounds.
	if d := time.Since(start); d < 3*latency {
		t.Fatalf("6 calls with MaxInFlight 2 took %v, less than 3 x %v: the bound is not applied", d, latency)
	}
	// The wait for a slot takes the context.
	b.sim.Hang(true)
	defer b.sim.Hang(false)
	hung, cancel := context.WithCancel(ctx)
	defer cancel()
	for i := 0; i < 2; i++ {
		go b.client.SearchCount(hung, "res.partner", nil) //nolint:errcheck
	}
	time.Sleep(50 * time.Millisecond)
	short, cancel2 := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel2()
	if _, err := b.client.SearchCount(short, "res.partner", nil); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("waiting for a slot: want a deadline error, got %v", err)
	}
}

func TestJSON2CallMapping(t *testing.T) {
	t.Parallel()
	b := setup(t, odoosim.Options{Version: "19.0"}, nil)
	ctx := context.Background()
	c := b.client
	ids, err := c.Search(ctx, "res.partner", nil, odoo.SearchOptions{Limit: 2, Order: "id"})
	if err != nil || len(ids) != 2 {
		t.Fatalf("search %v %v", ids, err)
	}
	// Positional arguments of known methods become named parameters.
	v, err := c.Call(ctx, "res.partner", "search_read", []any{[]any{[]any{"id", "in", ids}}, []string{"name"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if l, _ := v.([]any); len(l) != 2 {
		t.Fatalf("search_read by position: %v", v)
	}
	// A generic method: ids first, the rest by name.
	v, err = c.Call(ctx, "res.partner", "read", []any{ids}, map[string]any{"fields": []string{"name"}})
	if err != nil {
		t.Fatal(err)
	}
	if l, _ := v.([]any); len(l) != 2 {
		t.Fatalf("read: %v", v)
	}
	_, err = c.Call(ctx, "res.partner", "some_method", []any{"not ids", 3}, nil)
	if err == nil || !strings.Contains(err.Error(), "JSON-2 only takes named parameters") {
		t.Fatalf("positional arguments that are not ids: %v", err)
	}
}

func TestConfigNeverPrintsSecrets(t *testing.T) {
	t.Parallel()
	cfg := odoo.Config{URL: "https://erp.example.com", DB: "prod", User: "etl", Password: secretPassword, APIKey: "key-" + secretPassword}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("conn", "cfg", cfg)
	outputs := []string{
		fmt.Sprint(cfg), fmt.Sprintf("%v %+v %#v %s", cfg, cfg, cfg, cfg), fmt.Sprintf("%v", &cfg), cfg.String(), cfg.GoString(), buf.String(),
	}
	for _, s := range outputs {
		if strings.Contains(s, secretPassword) {
			t.Fatalf("secret printed: %s", s)
		}
	}
	if !strings.Contains(outputs[0], "erp.example.com") || !strings.Contains(buf.String(), `"user":"etl"`) {
		t.Fatalf("the redacted forms should still describe the connection: %s / %s", outputs[0], buf.String())
	}
	bad := []struct {
		cfg  odoo.Config
		want string
	}{
		{odoo.Config{}, "url is required"},
		{odoo.Config{URL: "ftp://x", DB: "d", User: "u", Password: "p"}, "not an http(s) URL"},
		{odoo.Config{URL: "http://u:" + secretPassword + "@x", DB: "d", User: "u", Password: "p"}, "must not carry credentials"},
		{odoo.Config{URL: "http://x", User: "u", Password: "p"}, "db is required"},
		{odoo.Config{URL: "http://x", DB: "d", Password: "p"}, "user is required"},
		{odoo.Config{URL: "http://x", DB: "d", User: "u"}, "password (or api_key) is required"},
		{odoo.Config{URL: "http://x", Transport: "json2"}, "api_key is required"},
		{odoo.Config{URL: "http://x", DB: "d", User: "u", Password: "p", Transport: "soap"}, "not one of xmlrpc, json2"},
	}
	for _, tc := range bad {
		_, err := odoo.New(tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), secretPassword) {
			t.Fatalf("New(%v): got %v, want %q", tc.cfg, err, tc.want)
		}
	}
}

func TestSecretsNotInErrors(t *testing.T) {
	t.Parallel()
	// The API key is accepted as an XML-RPC password; make every kind of
	// error and look for it.
	b := setup(t, odoosim.Options{}, func(c *odoo.Config) { c.Password = ""; c.APIKey = "demo-api-key"; c.Retries = 1 })
	ctx := context.Background()
	var errs []error
	_, err := b.client.SearchRead(ctx, "res.partner", nil, odoo.SearchOptions{Fields: []string{"nope"}})
	errs = append(errs, err)
	errs = append(errs, b.client.Write(ctx, "res.partner", []int64{987654321}, map[string]any{"name": "x"}))
	b.sim.FailEvery(1)
	_, err = b.client.SearchCount(ctx, "res.partner", nil)
	errs = append(errs, err)
	b.sim.FailEvery(0)
	short, cancel := context.WithTimeout(ctx, 50*time.Millisecond)
	b.sim.Hang(true)
	_, err = b.client.SearchCount(short, "res.partner", nil)
	cancel()
	b.sim.Hang(false)
	errs = append(errs, err)
	for i, e := range errs {
		if e == nil {
			t.Fatalf("case %d: expected an error", i)
		}
		var f *odoo.Fault
		text := fmt.Sprintf("%v %+v", e, e)
		if errors.As(e, &f) {
			text += f.Traceback
		}
		if strings.Contains(text, "demo-api-key") {
			t.Fatalf("case %d: error shows the key: %s", i, text)
		}
	}
}

func ExampleClient_SearchRead() {
	srv := odoosim.NewServer(odoosim.Options{Moves: 50, Seed: 1})
	defer srv.Close()
	c, err := odoo.New(odoo.Config{URL: srv.URL, DB: "demo", User: "admin", Password: "admin"})
	if err != nil {
		panic(err)
	}
	defer c.Close()
	ctx := context.Background()
	rows, err := c.SearchRead(ctx, "res.country", []any{[]any{"code", "in", []string{"FR", "DE"}}},
		odoo.SearchOptions{Fields: []string{"code", "name"}, Order: "code"})
	if err != nil {
		panic(err)
	}
	for _, r := range rows {
		fmt.Println(r["code"], r["name"])
	}
	// Output:
	// DE Germany
	// FR France
}

func TestAccessDeniedFault(t *testing.T) {
	t.Parallel()
	// XML-RPC: execute_kw with a valid uid and a wrong password is fault 3.
	// The client never sends that (it logs in first and keeps a refusal), so
	// the call is made by hand, on the real wire, and decoded by the client's
	// decoder.
	b := setup(t, odoosim.Options{}, nil)
	body, err := odoo.EncodeMethodCall("execute_kw", "demo", int64(2), secretPassword, "res.partner", "search_count", []any{[]any{}}, map[string]any{})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(b.srv.URL+"/xmlrpc/2/object", "text/xml", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	data, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	_, err = odoo.DecodeResponse(data)
	var f *odoo.Fault
	if !errors.As(err, &f) || f.Code != odoo.FaultAccessDenied || !errors.Is(err, odoo.ErrAuth) {
		t.Fatalf("want fault 3 matching ErrAuth, got %v", err)
	}

	// JSON-2: a refused key on a call is fault 3, kept: the key is not sent again.
	j := setup(t, odoosim.Options{Version: "19.0"}, func(c *odoo.Config) { c.APIKey = secretPassword })
	ctx := context.Background()
	_, err = j.client.SearchCount(ctx, "res.partner", nil)
	if !errors.As(err, &f) || f.Code != odoo.FaultAccessDenied || !errors.Is(err, odoo.ErrAuth) {
		t.Fatalf("json2 bad key: want fault 3, got %v", err)
	}
	if strings.Contains(fmt.Sprintf("%v %s", err, f.Traceback), secretPassword) {
		t.Fatalf("the key shows in %v", err)
	}
	n := j.client.Requests()
	if _, err := j.client.Search(ctx, "res.partner", nil, odoo.SearchOptions{}); !errors.Is(err, odoo.ErrAuth) || j.client.Requests() != n {
		t.Fatalf("a refused key was sent again (%d requests): %v", j.client.Requests()-n, err)
	}
}

func TestBackoffWaitTakesTheContext(t *testing.T) {
	t.Parallel()
	b := setup(t, odoosim.Options{}, func(c *odoo.Config) { c.RetryBackoff = time.Minute; c.Retries = 5 })
	ctx := context.Background()
	if _, err := b.client.Authenticate(ctx); err != nil {
		t.Fatal(err)
	}
	b.sim.FailEvery(1)
	short, cancel := context.WithTimeout(ctx, 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err := b.client.SearchCount(short, "res.partner", nil)
	var he *odoo.HTTPError
	if !errors.As(err, &he) || he.Status != 500 {
		t.Fatalf("want the HTTP 500 that was being retried, got %v", err)
	}
	if d := time.Since(start); d > 30*time.Second {
		t.Fatalf("a one-minute backoff was waited out (%v) despite the context", d)
	}
}
