package odoo_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/etlhost/etlhost/odoo"
	"github.com/etlhost/etlhost/odoo/odoosim"
)

// TestConfigValidate states the rules of a Config, which the host relies on
// instead of checking them again: each refusal is an *odoo.ConfigError
// naming the field, with a message that never shows a secret.
func TestConfigValidate(t *testing.T) {
	t.Parallel()
	const url = "https://erp.example.com"
	cases := []struct {
		name  string
		cfg   odoo.Config
		field string // "": valid
		want  string
	}{
		{name: "xmlrpc with a password", cfg: odoo.Config{URL: url, DB: "d", User: "u", Password: secretPassword}},
		{name: "xmlrpc with an api key", cfg: odoo.Config{URL: url, DB: "d", User: "u", APIKey: secretPassword, Transport: odoo.TransportXMLRPC}},
		{name: "json2 with an api key", cfg: odoo.Config{URL: url, DB: "d", APIKey: secretPassword, Transport: odoo.TransportJSON2}},
		{name: "json2 without db or user", cfg: odoo.Config{URL: url, APIKey: secretPassword, Transport: odoo.TransportJSON2}},
		{name: "json2 with both", cfg: odoo.Config{URL: url, User: "u", Password: secretPassword, APIKey: "k", Transport: odoo.TransportJSON2}},

		{name: "no url", cfg: odoo.Config{DB: "d", User: "u", Password: "p"}, field: "url", want: "url is required"},
		{name: "not http", cfg: odoo.Config{URL: "ftp://x", DB: "d", User: "u", Password: "p"}, field: "url", want: "not an http(s) URL"},
		{name: "credentials in url", cfg: odoo.Config{URL: "http://u:" + secretPassword + "@x", DB: "d", User: "u", Password: "p"}, field: "url", want: "must not carry credentials"},
		{name: "xmlrpc without db", cfg: odoo.Config{URL: url, User: "u", Password: "p"}, field: "db", want: "db is required for xmlrpc"},
		{name: "xmlrpc without user", cfg: odoo.Config{URL: url, DB: "d", Password: "p"}, field: "user", want: "user is required for xmlrpc"},
		{name: "xmlrpc without secret", cfg: odoo.Config{URL: url, DB: "d", User: "u"}, field: "password", want: "password (or api_key) is required"},
		{
			name: "json2 with only a password", cfg: odoo.Config{URL: url, DB: "d", User: "u", Password: secretPassword, Transport: odoo.TransportJSON2},
			field: "api_key", want: "api_key is required for json2, which does not take a password: use an API key",
		},
		{name: "json2 without secret", cfg: odoo.Config{URL: url, DB: "d", Transport: odoo.TransportJSON2}, field: "api_key", want: "api_key is required for json2: use an API key"},
		{name: "unknown transport", cfg: odoo.Config{URL: url, DB: "d", User: "u", Password: "p", Transport: "soap"}, field: "transport", want: `transport "soap" is not one of xmlrpc, json2`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.cfg.Validate()
			_, newErr := odoo.New(tc.cfg)
			if (err == nil) != (newErr == nil) {
				t.Fatalf("Validate says %v, New says %v", err, newErr)
			}
			if tc.field == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var ce *odoo.ConfigError
			if !errors.As(err, &ce) || ce.Field != tc.field || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("got %v, want an *odoo.ConfigError for field %s saying %q", err, tc.field, tc.want)
			}
			if !strings.HasPrefix(err.Error(), "odoo config: ") || ce.Msg != strings.TrimPrefix(err.Error(), "odoo config: ") {
				t.Errorf("message %q: want \"odoo config: \" and Msg %q", err, ce.Msg)
			}
			if strings.Contains(err.Error(), secretPassword) {
				t.Errorf("the secret shows in %q", err)
			}
		})
	}
}

// TestJSON2SendsTheAPIKey: with both a password and an API key, JSON-2 sends
// the API key as its bearer token (a password would be refused with 401).
func TestJSON2SendsTheAPIKey(t *testing.T) {
	t.Parallel()
	b := setup(t, odoosim.Options{Version: "19.0"}, func(c *odoo.Config) { c.Password = "admin" })
	if b.cfg.Transport != odoo.TransportJSON2 || b.cfg.Password == "" || b.cfg.APIKey == "" {
		t.Fatalf("config %v: want json2 with a password and an API key", b.cfg)
	}
	if _, err := b.client.SearchCount(context.Background(), "res.partner", nil); err != nil {
		t.Fatalf("json2 call with password and API key: %v", err)
	}
}
