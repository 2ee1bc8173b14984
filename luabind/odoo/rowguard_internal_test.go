package odoo

import "testing"

func TestClosestField(t *testing.T) {
	t.Parallel()
	read := []string{"name", "partner_id", "invoice_date", "invoice_date_due", "amount_total", "amount_residual", "id"}
	for _, tc := range []struct{ in, want string }{
		{"invoice_due_date", "invoice_date_due"}, // words swapped
		{"invoice_date_du", "invoice_date_due"},
		{"Name", "name"},
		{"amount_totl", "amount_total"},
		{"amount_residuel", "amount_residual"},
		{"partner", "partner_id"},
		{"ID", "id"},
		{"state", ""},
		{"x", ""},
		{"company_id", ""},
	} {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			if got := closest(tc.in, read); got != tc.want {
				t.Errorf("closest(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
