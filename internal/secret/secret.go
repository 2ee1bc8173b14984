// Package secret keeps a connection's secrets out of the messages etlhost
// writes: errors, log lines, reports, the history and the audit trail.
package secret

import (
	"errors"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// Mask is what a secret becomes in a message.
const Mask = "xxxxx"

// minPassword is the shortest password scrubbed on its own: a shorter one
// would turn ordinary words of a message into masks, and says little.
const minPassword = 3

// OfDSN are what must never appear in a message about the connection at
// dsn: the DSN itself and its password as parsed (in clear, whatever the
// DSN's own encoding of it).
func OfDSN(dsn string) []string {
	var secrets []string
	if dsn != "" {
		secrets = append(secrets, dsn)
	}
	if cfg, err := pgconn.ParseConfig(dsn); err == nil && len(cfg.Password) >= minPassword {
		secrets = append(secrets, cfg.Password)
	}
	return secrets
}

// Scrub returns s with each of secrets masked.
func Scrub(s string, secrets []string) string {
	for _, sec := range secrets {
		if sec != "" && strings.Contains(s, sec) {
			s = strings.ReplaceAll(s, sec, Mask)
		}
	}
	return s
}

// ScrubError returns err with secrets masked in its text. When err quoted
// one, the result is a plain error: the original, and the secret it holds,
// is dropped.
func ScrubError(err error, secrets []string) error {
	if err == nil {
		return nil
	}
	if text := err.Error(); Scrub(text, secrets) != text {
		return errors.New(Scrub(text, secrets))
	}
	return err
}
