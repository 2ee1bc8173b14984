package secret_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/etlhost/etlhost/internal/secret"
)

func TestScrub(t *testing.T) {
	t.Parallel()
	dsn := "postgres://etl:s3cr%40t@db:5432/compta"
	secrets := secret.OfDSN(dsn)
	for _, tc := range []struct{ in, want string }{
		{"cannot connect to " + dsn + ": refused", "cannot connect to xxxxx: refused"},
		{"password s3cr@t rejected", "password xxxxx rejected"},
		{"nothing to hide", "nothing to hide"},
	} {
		if got := secret.Scrub(tc.in, secrets); got != tc.want {
			t.Errorf("Scrub(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := secret.OfDSN("host=db user=etl password=ab"); len(got) != 1 {
		t.Errorf("a two-letter password is scrubbed on its own: %q", got)
	}
}

func TestScrubError(t *testing.T) {
	t.Parallel()
	secrets := secret.OfDSN("host=db password=hunter2")
	cause := errors.New("auth failed for hunter2")
	err := secret.ScrubError(fmt.Errorf("connect: %w", cause), secrets)
	if strings.Contains(err.Error(), "hunter2") || errors.Is(err, cause) {
		t.Errorf("ScrubError kept the secret: %q (unwraps to its cause: %v)", err, errors.Is(err, cause))
	}
	clean := fmt.Errorf("connect: %w", errors.New("refused"))
	if secret.ScrubError(clean, secrets) != clean {
		t.Errorf("ScrubError replaced an error that held no secret")
	}
}

func ExampleScrub() {
	dsn := "postgres://etl:hunter2@db/compta"
	fmt.Println(secret.Scrub("dial "+dsn+" failed; password hunter2", secret.OfDSN(dsn)))
	// Output: dial xxxxx failed; password xxxxx
}
