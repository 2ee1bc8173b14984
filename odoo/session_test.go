package odoo_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/etlhost/etlhost/odoo"
	"github.com/etlhost/etlhost/odoo/odoosim"
)

// A fault on one call (res.users.change_password with a wrong old password
// raises AccessDenied: fault 3 over XML-RPC, 403 over JSON-2) fails that call
// alone; the calls made beside it and after it are sent and answered.
func TestMethodAccessDeniedFailsThatCallAlone(t *testing.T) {
	t.Parallel()
	transports(t, func(t *testing.T, b *bundle) {
		ctx := context.Background()
		wantCode := odoo.FaultAccessDenied
		if b.cfg.Transport == odoo.TransportJSON2 {
			wantCode = odoo.FaultAccessError
		}
		var wg sync.WaitGroup
		errs := make(chan error, 40)
		for g := 0; g < 4; g++ {
			wg.Add(2)
			go func() { // the abusive script
				defer wg.Done()
				for i := 0; i < 3; i++ {
					_, err := b.client.Call(ctx, "res.users", "change_password", nil, map[string]any{"old_passwd": "not-the-password", "new_passwd": "x"})
					var f *odoo.Fault
					if !errors.As(err, &f) || f.Code != wantCode {
						errs <- fmt.Errorf("change_password: want a fault %d, got %v", wantCode, err)
					}
				}
			}()
			go func() { // the well-behaved one
				defer wg.Done()
				for i := 0; i < 3; i++ {
					if n, err := b.client.SearchCount(ctx, "res.country", nil); err != nil || n == 0 {
						errs <- fmt.Errorf("search_count beside it: %d, %v", n, err)
					}
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Error(err)
		}
		before := b.sim.Calls()
		if _, err := b.client.SearchCount(ctx, "res.partner", nil); err != nil {
			t.Fatalf("a call after the faults: %v", err)
		}
		if _, err := b.client.Call(ctx, "res.users", "change_password", nil, map[string]any{"old_passwd": "not-the-password", "new_passwd": "x"}); err == nil {
			t.Fatal("change_password with a wrong old password passed")
		}
		if got := b.sim.Calls() - before; got < 2 {
			t.Fatalf("the calls after a fault were not sent: the simulator saw %d of 2", got)
		}
	})
}

// revokable serves sim until revoke is set, then answers as Odoo does for a
// password changed during the run: execute_kw faults with code 3 and
// authenticate returns False. It counts authenticate requests.
type revokable struct {
	sim     http.Handler
	revoked atomic.Bool
	logins  atomic.Int64
	sent    atomic.Int64
}

func (h *revokable) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	h.sent.Add(1)
	login := bytes.Contains(body, []byte("<methodName>authenticate</methodName>"))
	if login {
		h.logins.Add(1)
	}
	if !h.revoked.Load() {
		r.Body = io.NopCloser(bytes.NewReader(body))
		h.sim.ServeHTTP(w, r)
		return
	}
	w.Header().Set("Content-Type", "text/xml")
	if login {
		_, _ = io.WriteString(w, `<?xml version="1.0"?><methodResponse><params><param><value><boolean>0</boolean></value></param></params></methodResponse>`)
		return
	}
	_, _ = io.WriteString(w, `<?xml version="1.0"?><methodResponse><fault><value><struct>`+
		`<member><name>faultCode</name><value><int>3</int></value></member>`+
		`<member><name>faultString</name><value><string>Access Denied</string></value></member>`+
		`</struct></value></fault></methodResponse>`)
}

// When the password stops passing during the run, the fault 3 of the first
// call is followed by one login, which is refused and kept: the password is
// not sent again by any later call.
func TestRevokedPasswordIsKeptAfterOneLogin(t *testing.T) {
	t.Parallel()
	sim := odoosim.NewHandler(odoosim.Options{Moves: 10, Seed: 1})
	t.Cleanup(sim.Close)
	h := &revokable{sim: sim}
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	c, err := odoo.New(odoo.Config{URL: srv.URL, DB: "demo", User: "admin", Password: "admin", RetryBackoff: time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Close)
	ctx := context.Background()
	if _, err := c.SearchCount(ctx, "res.partner", nil); err != nil {
		t.Fatal(err)
	}
	h.revoked.Store(true)
	logins, sent := h.logins.Load(), h.sent.Load()
	_, err = c.SearchCount(ctx, "res.partner", nil)
	var ae *odoo.AuthError
	if !errors.As(err, &ae) {
		t.Fatalf("want the refused login, got %v", err)
	}
	if got := h.logins.Load() - logins; got != 1 {
		t.Fatalf("%d logins after the fault, want 1", got)
	}
	if got := h.sent.Load() - sent; got != 2 {
		t.Fatalf("%d requests for the call, want 2 (the call, one login)", got)
	}
	sent = h.sent.Load()
	for i := 0; i < 3; i++ {
		if _, err := c.SearchCount(ctx, "res.partner", nil); !errors.Is(err, odoo.ErrAuth) {
			t.Fatalf("after a refused login: %v", err)
		}
		if _, err := c.Authenticate(ctx); !errors.Is(err, odoo.ErrAuth) {
			t.Fatalf("after a refused login: %v", err)
		}
	}
	if h.sent.Load() != sent {
		t.Fatalf("the password was sent %d more times after the refused login", h.sent.Load()-sent)
	}
}
