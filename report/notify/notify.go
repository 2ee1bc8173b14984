// Package notify POSTs a run's JSON report to a webhook when the run does
// not end ok (`etlhost run --notify URL`).
package notify

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	"github.com/etlhost/etlhost/host"
)

// timeout bounds the POST: the run is over and its exit code must not
// wait on a slow webhook.
const timeout = 15 * time.Second

// Webhook is the notification of a run: when the run ends other than ok,
// Finish POSTs its report. It is a host.Observer that needs only the run's
// report.
type Webhook struct {
	url       string
	server    string // scheme and host: what errors name
	userAgent string
}

// New checks rawURL (an http:// or https:// URL) before the run, so that a
// notification that cannot be sent is said at once, not after an
// hours-long run. The POSTs carry userAgent.
func New(rawURL, userAgent string) (*Webhook, error) {
	u, err := url.Parse(rawURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("expected an http:// or https:// URL")
	}
	return &Webhook{url: rawURL, server: u.Scheme + "://" + u.Host, userAgent: userAgent}, nil
}

// ScriptStarted implements host.Observer.
func (*Webhook) ScriptStarted(*host.Script, time.Time) {}

// ScriptEvent implements host.Observer.
func (*Webhook) ScriptEvent(*host.Script, host.Event) {}

// ScriptFinished implements host.Observer.
func (*Webhook) ScriptFinished(*host.Result) {}

// Finish POSTs the report, unless the run ended ok, with a context of its
// own: the run's may be cancelled (Ctrl+C).
func (w *Webhook) Finish(rep *host.Report) error {
	if rep.Status == host.StatusOK {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return w.post(ctx, rep)
}

// post POSTs the report as JSON (the format of `etlhost run --json`).
// Errors name the server only (scheme and host), never the URL's path or
// query, where webhook tokens live.
func (w *Webhook) post(ctx context.Context, rep *host.Report) error {
	body, err := json.Marshal(rep)
	if err != nil {
		return fmt.Errorf("cannot encode the report: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("cannot build the request to %s", w.server)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", w.userAgent)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // *url.Error quotes the whole URL
		}
		return fmt.Errorf("cannot POST the report to %s: %w", w.server, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s answered %s to the report", w.server, resp.Status)
	}
	return nil
}
