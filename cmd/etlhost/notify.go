package main

// --notify URL: POST the JSON report when a run does not end ok.

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

	"github.com/urfave/cli/v2"

	"github.com/etlhost/etlhost/host"
)

// notifyTimeout bounds the POST: the run is over and its exit code must
// not wait on a slow webhook.
const notifyTimeout = 15 * time.Second

func init() {
	runExtensions = append(runExtensions, runExtension{
		Flags: []cli.Flag{
			sharedString(&cli.StringFlag{Name: "notify", Usage: "POST the JSON report to `URL` when the run fails or is interrupted (default: $ETLHOST_NOTIFY_URL)"}),
		},
		Observer: func(a *App, c *cli.Context, next host.Observer) host.Observer {
			// Say at once, not after an hours-long run, that no
			// notification can be sent.
			if u := notifyURL(a, c); u != "" {
				if _, err := parseNotifyURL(u); err != nil {
					fmt.Fprintf(a.Stderr, "etlhost: --notify: %v; no notification will be sent\n", err)
				}
			}
			return next
		},
		After: func(a *App, c *cli.Context, _ *host.Config, rep *host.Report) error {
			u := notifyURL(a, c)
			if u == "" || rep.Status == host.StatusOK {
				return nil
			}
			if _, err := parseNotifyURL(u); err != nil {
				return nil // already said before the run
			}
			ctx, cancel := context.WithTimeout(context.Background(), notifyTimeout)
			defer cancel()
			if err := notify(ctx, u, rep); err != nil {
				return fmt.Errorf("--notify: %w", err)
			}
			return nil
		},
	})
}

// notifyURL is --notify, else $ETLHOST_NOTIFY_URL: a webhook URL often
// holds a token, which a command line shows to every user of the machine.
func notifyURL(a *App, c *cli.Context) string {
	if u := c.String("notify"); u != "" {
		return u
	}
	return a.Getenv("ETLHOST_NOTIFY_URL")
}

func parseNotifyURL(raw string) (*url.URL, error) {
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("expected an http:// or https:// URL")
	}
	return u, nil
}

// notify POSTs the report as JSON (the format of `etlhost run --json`).
// Errors name the server only (scheme and host), never the URL's path or
// query, where webhook tokens live.
func notify(ctx context.Context, raw string, rep *host.Report) error {
	u, err := parseNotifyURL(raw)
	if err != nil {
		return err
	}
	server := u.Scheme + "://" + u.Host
	body, err := json.Marshal(rep)
	if err != nil {
		return fmt.Errorf("cannot encode the report: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, raw, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("cannot build the request to %s", server)
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "etlhost/"+version())
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // *url.Error quotes the whole URL
		}
		return fmt.Errorf("cannot POST the report to %s: %w", server, err)
	}
	defer resp.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("%s answered %s to the report", server, resp.Status)
	}
	return nil
}
