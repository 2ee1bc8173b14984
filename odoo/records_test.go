package odoo

import (
	"reflect"
	"strings"
	"testing"
)

// TestDecodeRecords: the records decoder gives the same records as
// DecodeResponse for every shape of answer read and search_read send.
func TestDecodeRecords(t *testing.T) {
	t.Parallel()
	rec := func(members ...string) string {
		return "<value><struct>" + strings.Join(members, "") + "</struct></value>"
	}
	member := func(name, value string) string {
		return "<member><name>" + name + "</name><value>" + value + "</value></member>"
	}
	resp := func(v string) string {
		return "<?xml version='1.0'?>\n<methodResponse><params><param>" + v + "</param></params></methodResponse>"
	}
	list := func(records ...string) string {
		return "<value><array><data>" + strings.Join(records, "\n") + "</data></array></value>"
	}
	tests := []struct {
		name string
		body string
	}{
		{"empty data", resp("<value><array><data/></array></value>")},
		{"empty array", resp("<value><array/></value>")},
		{"no records", resp(list())},
		{"records", resp(list(
			rec(member("id", "<int>7</int>"), member("name", "<string>INV/1 &amp; co</string>"),
				member("partner_id", "<array><data><value><int>3</int></value><value><string>Atlas</string></value></data></array>"),
				member("amount", "<double>12.5</double>"), member("paid", "<boolean>0</boolean>")),
			rec(member("id", "<int>9</int>"), member("name", "<string>INV/2</string>"),
				member("partner_id", "<boolean>0</boolean>"), member("amount", "<double>1e3</double>"),
				member("paid", "<boolean>1</boolean>")),
		))},
		{"a member that appears late", resp(list(
			rec(member("id", "<int>1</int>")),
			rec(member("id", "<int>2</int>"), member("extra", "<string>x</string>")),
			rec(member("extra", "<string>y</string>"), member("id", "<int>3</int>")),
		))},
		{"an empty struct", resp(list("<value><struct/></value>", rec(member("id", "<int>4</int>"))))},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			want, err := DecodeResponse([]byte(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			got, err := DecodeRecords([]byte(tc.body))
			if err != nil {
				t.Fatal(err)
			}
			wantList := want.([]any)
			if got.Len() != len(wantList) {
				t.Fatalf("%d records, want %d", got.Len(), len(wantList))
			}
			for i, w := range wantList {
				if m := got.Map(i); !reflect.DeepEqual(m, w) {
					t.Errorf("record %d = %#v, want %#v", i, m, w)
				}
			}
		})
	}
}

// TestDecodeRecordsRefuses: what is not a list of structs is an error; a
// fault stays a *Fault.
func TestDecodeRecordsRefuses(t *testing.T) {
	t.Parallel()
	for name, body := range map[string]string{
		"a number":         "<methodResponse><params><param><value><int>1</int></value></param></params></methodResponse>",
		"a list of ids":    "<methodResponse><params><param><value><array><data><value><int>1</int></value></data></array></value></param></params></methodResponse>",
		"cut short":        "<methodResponse><params><param><value><array><data><value><struct>",
		"trailing garbage": "<methodResponse><params><param><value><array><data/></array></value></param></params></methodResponse>x",
	} {
		if _, err := DecodeRecords([]byte(body)); err == nil {
			t.Errorf("%s: no error", name)
		}
	}
	fault := `<methodResponse><fault><value><struct><member><name>faultCode</name><value><int>2</int></value></member><member><name>faultString</name><value><string>boom</string></value></member></struct></value></fault></methodResponse>`
	_, err := DecodeRecords([]byte(fault))
	if f, ok := err.(*Fault); !ok || f.Code != 2 {
		t.Errorf("fault: %v", err)
	}
}
