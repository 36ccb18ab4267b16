package service

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

type decodeTarget struct {
	Cmd  []string          `json:"cmd"`
	N    int               `json:"n"`
	Env  map[string]string `json:"env"`
	Wait *bool             `json:"wait"`
}

func decodeBody(body string, limit int64) (decodeTarget, error) {
	var v decodeTarget
	r := httptest.NewRequest("POST", "/v1/x", strings.NewReader(body))
	err := DecodeRequest(httptest.NewRecorder(), r, &v, limit)
	return v, err
}

func TestDecodeRequest(t *testing.T) {
	for _, tc := range []struct {
		desc, body string
		status     int // 0: accepted
		msg        string
	}{
		{"an object with known fields is accepted", `{"cmd":["echo","hi"],"n":2}`, 0, ""},
		{"white space after the value is fine", "{\"n\":1}\n\n", 0, ""},
		{"an unknown field is refused", `{"n":1,"bogus":true}`, 400, `unknown field "bogus"`},
		{"an empty body is refused", ``, 400, "empty"},
		{"a truncated body is refused", `{"cmd":["a"`, 400, "truncated"},
		{"a second value is refused", `{"n":1}{"n":2}`, 400, "more than one JSON value"},
		{"trailing garbage is refused", `{"n":1} x`, 400, "invalid character"},
		{"a wrong type is refused", `{"n":"two"}`, 400, "cannot unmarshal"},
		{"a body over the limit is refused with 413", `{"cmd":["` + strings.Repeat("a", 100) + `"]}`, 413, "larger than the limit of 64 bytes"},
	} {
		t.Run(tc.desc, func(t *testing.T) {
			_, err := decodeBody(tc.body, 64)
			if tc.status == 0 {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) || e.Status != tc.status || !strings.Contains(e.Message, tc.msg) {
				t.Fatalf("got %#v, want *Error{%d, ...%q...}", err, tc.status, tc.msg)
			}
		})
	}
}

// FuzzDecodeRequest: the decoder never panics, never accepts a body
// longer than its limit, and refuses only with 400 or 413.
func FuzzDecodeRequest(f *testing.F) {
	for _, s := range []string{
		`{"cmd":["echo","hi"],"n":2,"env":{"A":"b"},"wait":true}`,
		`{"n":1}{"n":2}`, `{"cmd":[`, `[]`, `null`, "\x00\xff", `{"n":1e400}`,
		`{"env":{"a":"\ud800"}}`, strings.Repeat("[", 1000),
	} {
		f.Add([]byte(s), uint16(64))
	}
	f.Fuzz(func(t *testing.T, body []byte, limit uint16) {
		lim := int64(limit%512) + 1
		_, err := decodeBody(string(body), lim)
		if err == nil && int64(len(body)) > lim {
			t.Fatalf("accepted a %d-byte body over the limit of %d", len(body), lim)
		}
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || (e.Status != http.StatusBadRequest && e.Status != http.StatusRequestEntityTooLarge) {
				t.Fatalf("refused with %#v, want a 400 or 413 *Error", err)
			}
		}
	})
}
