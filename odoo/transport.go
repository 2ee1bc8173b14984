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
	defer releaseSlot(req.Context())
	c.requests.Add(1)
	resp, err := c.hc.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer resp.Body.Close()
	data, err := c.readBody(resp)
	if err != nil {
		return resp.StatusCode, nil, err
	}
	return resp.StatusCode, data, nil
}

// readBody reads the whole body, refusing more than MaxResponseBytes.
func (c *Client) readBody(resp *http.Response) ([]byte, error) {
	max := c.cfg.MaxResponseBytes
	if resp.ContentLength > max {
		return nil, fmt.Errorf("%w: the server announced %d bytes, more than the %d allowed (fetch fewer rows per call, or raise max_response_bytes)",
			ErrResponseTooLarge, resp.ContentLength, max)
	}
	size := int64(64 << 10)
	if resp.ContentLength > 0 {
		size = resp.ContentLength + 1
	}
	var body io.Reader = io.LimitReader(resp.Body, max+1)
	if charge, ok := resp.Request.Context().Value(chargeKey{}).(func(int64) error); ok {
		cr := &chargedReader{r: body, charge: charge}
		if resp.ContentLength > 0 { // the buffer below is that big at once
			if err := charge(resp.ContentLength); err != nil {
				return nil, fmt.Errorf("reading the response: %w", err)
			}
			cr.prepaid = resp.ContentLength
		}
		body = cr
	}
	buf := bytes.NewBuffer(make([]byte, 0, size))
	n, err := buf.ReadFrom(body)
	if err != nil {
		return nil, fmt.Errorf("reading the response: %w", err)
	}
	if n > max {
		return nil, fmt.Errorf("%w: more than the %d bytes allowed (fetch fewer rows per call, or raise max_response_bytes)", ErrResponseTooLarge, max)
	}
	return buf.Bytes(), nil
}

type chargeKey struct{}

// WithCharge returns ctx with charge, called with the size of each part of
// an answer as it is read (on the call's goroutine): a caller counting
// memory (a script's limit) charges it there, and an error stops the
// reading, so an answer too big for the caller is not read whole.
func WithCharge(ctx context.Context, charge func(n int64) error) context.Context {
	return context.WithValue(ctx, chargeKey{}, charge)
}

// chargedReader calls charge for what each Read returns beyond what was
// charged ahead (prepaid).
type chargedReader struct {
	r       io.Reader
	charge  func(int64) error
	prepaid int64
}

func (c *chargedReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if k := int64(n); k > 0 {
		paid := min(k, c.prepaid)
		c.prepaid -= paid
		if k > paid {
			if cerr := c.charge(k - paid); cerr != nil {
				return n, cerr
			}
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
	return t.callDecoding(ctx, DecodeResponse, service, method, params...)
}

func (t *xmlrpcTransport) callDecoding(ctx context.Context, decode func([]byte) (any, error), service, method string, params ...any) (any, error) {
	body, err := EncodeMethodCall(method, params...)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errEncode, err)
	}
	status, data, err := t.c.post(ctx, "/xmlrpc/2/"+service, "text/xml", body, nil)
	if err != nil {
		return nil, err
	}
	if status != http.StatusOK {
		return nil, &HTTPError{Status: status, Body: t.c.snippet(data)}
	}
	return decode(data)
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
	if args == nil {
		args = []any{}
	}
	if kwargs == nil {
		kwargs = map[string]any{}
	}
	cfg := t.c.cfg
	return t.call(ctx, "object", "execute_kw", cfg.DB, uid, cfg.secret(), model, method, args, kwargs)
}

// executeRecords is execute for a method that returns a list of records,
// decoded into *Records.
func (t *xmlrpcTransport) executeRecords(ctx context.Context, uid int64, model, method string, args []any, kwargs map[string]any) (any, error) {
	if args == nil {
		args = []any{}
	}
	if kwargs == nil {
		kwargs = map[string]any{}
	}
	cfg := t.c.cfg
	return t.callDecoding(ctx, decodeRecordsAny, "object", "execute_kw", cfg.DB, uid, cfg.secret(), model, method, args, kwargs)
}
