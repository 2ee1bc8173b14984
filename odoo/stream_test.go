package odoo

import (
	"bytes"
	"errors"
	"io"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

// streamFixtures are answers of every shape the decoder knows, good and bad.
var streamFixtures = []string{
	string(resp(`<value><int>42</int></value>`)),
	string(resp(`<value><string>x &amp; &#x41; <![CDATA[y]] <z>]]> tail</string></value>`)),
	string(resp(`<value><struct><member><name>a</name><value><array><data><value><int>1</int></value><value>two</value></data></array></value></member><member><name>b</name><value><boolean>1</boolean></value></member></struct></value>`)),
	string(resp(`<value><array><data><value><struct><member><name>id</name><value><int>1</int></value></member><member><name>partner_id</name><value><array><data><value><int>3</int></value><value><string>Atlas</string></value></data></array></value></member></struct></value><value><struct><member><name>id</name><value><int>2</int></value></member></struct></value></data></array></value>`)),
	"<?xml version='1.0'?>\n<!-- a comment -->\n<methodResponse>\r\n <params> <param> <value><double>1e-05</double></value> </param> </params>\n</methodResponse>\n\n",
	`<methodResponse><fault><value><struct><member><name>faultCode</name><value><int>2</int></value></member><member><name>faultString</name><value>boom</value></member></struct></value></fault></methodResponse>`,
	string(resp(`<value><base64>aGVsbG8=</base64></value>`)),
	string(resp(`<value/>`)),
	`<methodResponse><params/></methodResponse>`,
	// bad ones
	``,
	`<html><body>502</body></html>`,
	string(resp(`<value><array><data><value><int>1</int></value>`))[:80],
	string(resp(`<value><int>x</int></value>`)),
	`<!DOCTYPE x [<!ENTITY a "b">]><methodResponse/>`,
	string(resp(`<value><string>&bogus;</string></value>`)),
	string(resp(`<value>x</value>`)) + "<junk/>",
	string(resp(`<value><string>unterminated <![CDATA[ x</string></value>`)),
	"<methodResponse><!-- unterminated",
}

// TestDecodeStreamAgrees: decoding an answer as it streams in, even one
// byte at a time, gives what decoding it whole gives, values and errors
// alike, for plain values and for records.
func TestDecodeStreamAgrees(t *testing.T) {
	t.Parallel()
	for i, body := range streamFixtures {
		whole, wholeErr := DecodeResponse([]byte(body))
		for _, r := range []io.Reader{strings.NewReader(body), iotest.OneByteReader(strings.NewReader(body)), iotest.HalfReader(strings.NewReader(body))} {
			got, err := decodeStream(r, false)
			if (err == nil) != (wholeErr == nil) || err != nil && err.Error() != wholeErr.Error() {
				t.Errorf("fixture %d: stream error %v, whole %v", i, err, wholeErr)
			}
			if !reflect.DeepEqual(got, whole) {
				t.Errorf("fixture %d: stream %#v, whole %#v", i, got, whole)
			}
		}
		recs, recsErr := DecodeRecords([]byte(body))
		got, err := decodeStream(iotest.OneByteReader(strings.NewReader(body)), true)
		if (err == nil) != (recsErr == nil) {
			t.Errorf("fixture %d: records stream error %v, whole %v", i, err, recsErr)
		}
		if err == nil && !reflect.DeepEqual(got.(*Records), recs) {
			t.Errorf("fixture %d: records differ", i)
		}
	}
}

// failingReader gives n bytes of data, then fails with err.
type failingReader struct {
	data []byte
	err  error
	read int
}

func (f *failingReader) Read(p []byte) (int, error) {
	if len(f.data) == 0 {
		return 0, f.err
	}
	n := copy(p, f.data)
	f.data = f.data[n:]
	f.read += n
	return n, nil
}

// TestDecodeStreamStopsEarly: a malformed answer stops the reading at the
// fault, not at the end of an endless body; a read error (a size cap, a
// memory limit) is the call's error, not the syntax error it causes.
func TestDecodeStreamStopsEarly(t *testing.T) {
	t.Parallel()
	endless := io.MultiReader(strings.NewReader("<html><body>"), infinite{})
	if _, err := decodeStream(endless, false); err == nil || !strings.Contains(err.Error(), "expected <methodResponse>") {
		t.Fatalf("endless page: %v", err)
	}
	capErr := errors.New("memory limit: over")
	body := resp(`<value><array><data>` + strings.Repeat(`<value><int>1</int></value>`, 10000) + `</data></array></value>`)
	r := &failingReader{data: body[:len(body)/2], err: capErr}
	_, err := decodeStream(r, false)
	if !errors.Is(err, capErr) {
		t.Fatalf("error %v, want the read's", err)
	}
}

type infinite struct{}

func (infinite) Read(p []byte) (int, error) {
	n := copy(p, bytes.Repeat([]byte("x"), len(p)))
	return n, nil
}
