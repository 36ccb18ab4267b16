package service

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
)

// DecodeRequest decodes r's JSON body into v, reading at most limit bytes
// (limit <= 0: the server's MaxBodyBytes alone bounds it). The body must
// be one JSON value with no field that v lacks (DisallowUnknownFields)
// and nothing after it but white space. The error is an *Error, 413 for a
// body over the limit and 400 for anything else, ready for WriteError.
func DecodeRequest(w http.ResponseWriter, r *http.Request, v any, limit int64) error {
	body := r.Body
	if limit > 0 {
		body = http.MaxBytesReader(w, body, limit)
	}
	return decodeJSON(body, v)
}

func decodeJSON(body io.Reader, v any) error {
	dec := json.NewDecoder(body)
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		// One value only: what follows must be white space up to EOF.
		var extra json.RawMessage
		switch err2 := dec.Decode(&extra); {
		case err2 == io.EOF:
		case err2 == nil:
			err = errors.New("more than one JSON value")
		default:
			err = err2
		}
	}
	if err == nil {
		return nil
	}
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) {
		return &Error{Status: http.StatusRequestEntityTooLarge,
			Message: "request body is larger than the limit of " + itoa(tooLarge.Limit) + " bytes"}
	}
	if err == io.EOF {
		return &Error{Status: http.StatusBadRequest, Message: "request body: empty, want a JSON object"}
	}
	if err == io.ErrUnexpectedEOF {
		return &Error{Status: http.StatusBadRequest, Message: "request body: truncated JSON"}
	}
	return &Error{Status: http.StatusBadRequest, Message: fmt.Sprintf("request body: %v", err)}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }
