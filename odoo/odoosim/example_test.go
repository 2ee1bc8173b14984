package odoosim_test

import (
	"bytes"
	"fmt"
	"io"
	"net/http"

	"github.com/etlhost/etlhost/odoo/odoosim"
	"github.com/kolo/xmlrpc"
)

// call is a bare XML-RPC call, to show the wire protocol the simulator
// speaks; real code uses the project's Odoo client.
func call(url, service, method string, args ...any) any {
	body, _ := xmlrpc.EncodeMethodCall(method, args...)
	resp, err := http.Post(url+"/xmlrpc/2/"+service, "text/xml", bytes.NewReader(body))
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	var v any
	if err := xmlrpc.Response(raw).Err(); err != nil {
		return err
	}
	_ = xmlrpc.Response(raw).Unmarshal(&v)
	return v
}

func ExampleNewServer() {
	srv := odoosim.NewServer(odoosim.Options{Moves: 500, Seed: 1})
	defer srv.Close()

	uid := call(srv.URL, "common", "authenticate", "demo", "admin", "admin", map[string]any{})
	fmt.Println("uid:", uid)

	// The unpaid vendor bills, as Odoo's "Overdue" filter reads "unpaid".
	unpaid := []any{
		[]any{"move_type", "=", "in_invoice"},
		[]any{"state", "=", "posted"},
		[]any{"payment_state", "in", []any{"not_paid", "partial"}},
	}
	n := call(srv.URL, "object", "execute_kw", "demo", uid, "admin", "account.move", "search_count", []any{unpaid})

	// The same count, computed from the simulator's own data.
	want := 0
	for _, m := range srv.Sim().Snapshot().Moves {
		if m.MoveType == "in_invoice" && m.State == "posted" && (m.PaymentState == "not_paid" || m.PaymentState == "partial") {
			want++
		}
	}
	fmt.Println("counts agree:", n == int64(want))

	bad := call(srv.URL, "object", "execute_kw", "demo", uid, "admin", "account.move", "search", []any{[]any{[]any{"nope", "=", 1}}})
	fmt.Println("fault code:", bad.(xmlrpc.FaultError).Code)
	// Output:
	// uid: 2
	// counts agree: true
	// fault code: 1
}
