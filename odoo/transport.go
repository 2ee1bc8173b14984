package odoo

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"
)

// post sends body to path and returns the status and the body, read up to
// MaxResponseBytes.
func (c *Client) post(ctx context.Context, path, contentType string, body []byte, header map[string]string) (int, []byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.URL+path, bytes.NewReader(body))
	if err != nil {
		return 0, nil, fmt.Errorf("%w: %v", errEncode, err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("User-Agent", "etlhost-odoo/1")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	return c.send(req)
}

// send makes one HTTP exchange and gives back the call's in-flight slot
// once the answer is read (see Client.attempt).
func (c *Client) send(req *http.Request) (int, []byte, error) {
	var data []byte
	v, err := c.exchange(req, func(status int, body io.Reader) (any, error) {
		var err error
		data, err = io.ReadAll(body)
		if err != nil {
			return status, fmt.Errorf("reading the response: %w", err)
		}
		return status, nil
	})
	status, _ := v.(int)
	return status, data, err
}

// postStream is post for an answer decoded as it is read: read gets the
// status and the body (see answer), and its result is the call's.
func (c *Client) postStream(ctx context.Context, path, contentType string, body []byte, read func(status int, body io.Reader) (any, error)) (any, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.URL+path, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errEncode, err)
	}
	req.Header.Set("Content-Type", contentType)
	req.Header.Set("User-Agent", "etlhost-odoo/1")
	return c.exchange(req, read)
}

// exchange makes one HTTP exchange, hands the answer to read, and gives
// back the call's in-flight slot once read has returned.
func (c *Client) exchange(req *http.Request, read func(status int, body io.Reader) (any, error)) (any, error) {
	defer releaseSlot(req.Context())
	c.requests.Add(1)
	resp, err := c.hc.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	body, err := c.answer(resp)
	if err != nil {
		return resp.StatusCode, err
	}
	return read(resp.StatusCode, body)
}

// answer is the body of resp as the client reads it: at most
// MaxResponseBytes (a larger one fails the reading with
// ErrResponseTooLarge), each part charged as it is read when the context
// asks for it (WithCharge).
func (c *Client) answer(resp *http.Response) (io.Reader, error) {
	max := c.cfg.MaxResponseBytes
	if resp.ContentLength > max {
		return nil, fmt.Errorf("%w: the server announced %d bytes, more than the %d allowed (fetch fewer rows per call, or raise max_response_bytes)",
			ErrResponseTooLarge, resp.ContentLength, max)
	}
	var body io.Reader = &cappedReader{r: resp.Body, left: max, max: max}
	if charge, ok := resp.Request.Context().Value(chargeKey{}).(func(int64) error); ok {
		body = &chargedReader{r: body, charge: charge}
	}
	return body, nil
}

// cappedReader fails with ErrResponseTooLarge past left bytes.
type cappedReader struct {
	r    io.Reader
	left int64
	max  int64
}

func (c *cappedReader) Read(p []byte) (int, error) {
	if c.left >= 0 {
		if int64(len(p)) > c.left+1 {
			p = p[:c.left+1] // one byte past the cap tells a larger answer
		}
		n, err := c.r.Read(p)
		if c.left -= int64(n); c.left >= 0 {
			return n, err
		}
	}
	return 0, fmt.Errorf("%w: more than the %d bytes allowed (fetch fewer rows per call, or raise max_response_bytes)", ErrResponseTooLarge, c.max)
}

type chargeKey struct{}

// WithCharge returns ctx with charge, called with the size of each part of
// an answer as it is read (on the call's goroutine): a caller counting
// memory (a script's limit) charges it there, and an error stops the
// reading, so an answer too big for the caller is not read whole.
func WithCharge(ctx context.Context, charge func(n int64) error) context.Context {
	return context.WithValue(ctx, chargeKey{}, charge)
}

// chargedReader calls charge for what each Read returns.
type chargedReader struct {
	r      io.Reader
	charge func(int64) error
}

func (c *chargedReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if n > 0 {
		if cerr := c.charge(int64(n)); cerr != nil {
			return n, cerr
		}
	}
	return n, err
}

// snippet returns the start of a body for an error message: the first 300
// bytes once the secrets are removed. The whole body is scrubbed before it
// is cut, so a secret that spans the cut is not partly shown.
func (c *Client) snippet(body []byte) string {
	const max = 300
	body = bytes.TrimLeftFunc(body, unicode.IsSpace)
	truncated := false
	if n := c.scrub.inputFor(max); len(body) > n {
		body, truncated = body[:n], true // enough for max bytes out
	}
	s, cut := c.scrub.cleanCut(strings.TrimRightFunc(string(body), unicode.IsSpace), max)
	if cut || truncated {
		// Drop a character the cut split in two.
		if i := lastRuneStart(s); !utf8.FullRuneInString(s[i:]) {
			s = s[:i]
		}
		s = strings.TrimSpace(s) + "..."
	}
	return s
}

func lastRuneStart(s string) int {
	i := len(s) - 1
	for i > 0 && i > len(s)-utf8.UTFMax && !utf8.RuneStart(s[i]) {
		i--
	}
	return max(i, 0)
}

// xmlrpcTransport speaks /xmlrpc/2/common and /xmlrpc/2/object.
type xmlrpcTransport struct{ c *Client }

func (t *xmlrpcTransport) needsUID() bool { return true }

func (t *xmlrpcTransport) call(ctx context.Context, service, method string, params ...any) (any, error) {
	return t.callDecoding(ctx, false, service, method, params...)
}

// callDecoding sends a call and decodes its answer as it streams in (into
// Records when records is set).
func (t *xmlrpcTransport) callDecoding(ctx context.Context, records bool, service, method string, params ...any) (any, error) {
	body, err := EncodeMethodCall(method, params...)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errEncode, err)
	}
	return t.c.postStream(ctx, "/xmlrpc/2/"+service, "text/xml", body, func(status int, r io.Reader) (any, error) {
		if status != http.StatusOK {
			data, err := io.ReadAll(r)
			if err != nil && len(data) == 0 {
				return nil, fmt.Errorf("HTTP status %d; reading the response: %w", status, err)
			}
			return nil, &HTTPError{Status: status, Body: t.c.snippet(data)}
		}
		return decodeStream(r, records)
	})
}

func (t *xmlrpcTransport) version(ctx context.Context) (VersionInfo, error) {
	v, err := t.call(ctx, "common", "version")
	if err != nil {
		return VersionInfo{}, err
	}
	m, ok := v.(map[string]any)
	if !ok {
		return VersionInfo{}, fmt.Errorf("version: expected a struct, got %T", v)
	}
	return versionFromMap(m), nil
}

func (t *xmlrpcTransport) login(ctx context.Context) (int64, error) {
	cfg := t.c.cfg
	v, err := t.call(ctx, "common", "authenticate", cfg.DB, cfg.User, cfg.secret(), map[string]any{})
	if err != nil {
		return 0, err
	}
	switch x := v.(type) {
	case int64:
		if x > 0 {
			return x, nil
		}
	case bool:
		if !x {
			return 0, &AuthError{User: cfg.User, DB: cfg.DB}
		}
	}
	return 0, fmt.Errorf("authenticate: unexpected answer %v", v)
}

func (t *xmlrpcTransport) execute(ctx context.Context, uid int64, model, method string, args []any, kwargs map[string]any) (any, error) {
	return t.executeDecoding(ctx, false, uid, model, method, args, kwargs)
}

// executeRecords is execute for a method that returns a list of records,
// decoded into *Records.
func (t *xmlrpcTransport) executeRecords(ctx context.Context, uid int64, model, method string, args []any, kwargs map[string]any) (any, error) {
	return t.executeDecoding(ctx, true, uid, model, method, args, kwargs)
}

func (t *xmlrpcTransport) executeDecoding(ctx context.Context, records bool, uid int64, model, method string, args []any, kwargs map[string]any) (any, error) {
	if args == nil {
		args = []any{}
	}
	if kwargs == nil {
		kwargs = map[string]any{}
	}
	cfg := t.c.cfg
	return t.callDecoding(ctx, records, "object", "execute_kw", cfg.DB, uid, cfg.secret(), model, method, args, kwargs)
}
