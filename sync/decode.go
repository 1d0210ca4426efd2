package sync

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
)

// DecodePush reads a push body: gzip (contentEncoding "gzip") or plain JSON
// (""), at most MaxPushBytes once decompressed, whatever the compressed
// size, so that a small gzip bomb cannot fill memory. It returns a
// *TooLargeError past the bounds and a *MalformedError for anything that
// is not one push request. Records are checked one by one later: a bad
// record is not a bad request.
func DecodePush(body []byte, contentEncoding string) (*PushRequest, error) {
	if len(body) > MaxPushCompressed {
		return nil, &TooLargeError{fmt.Sprintf("the push body is larger than %d bytes; send at most %d records and %d bytes per batch", MaxPushCompressed, MaxPushRecords, MaxPushBytes)}
	}
	var r io.Reader = bytes.NewReader(body)
	switch strings.ToLower(strings.TrimSpace(contentEncoding)) {
	case "gzip":
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, malformed("the body is not gzip: %v", err)
		}
		// One gzip member only: a second would be a second request.
		zr.Multistream(false)
		r = zr
	case "", "identity":
	default:
		return nil, malformed("Content-Encoding %q: send gzip", contentEncoding)
	}
	plain, err := io.ReadAll(io.LimitReader(r, MaxPushBytes+1))
	if err != nil {
		return nil, malformed("the body could not be decompressed: %v", err)
	}
	if len(plain) > MaxPushBytes {
		return nil, &TooLargeError{fmt.Sprintf("the batch is larger than %d bytes of JSON; send smaller batches", MaxPushBytes)}
	}
	return decodePushJSON(plain)
}

func decodePushJSON(plain []byte) (*PushRequest, error) {
	dec := json.NewDecoder(bytes.NewReader(plain))
	dec.DisallowUnknownFields()
	var req PushRequest
	if err := dec.Decode(&req); err != nil {
		var typ *json.UnmarshalTypeError
		switch {
		case errors.Is(err, io.EOF):
			return nil, malformed("the body is empty; send {bus_id, records, through_seq}")
		case errors.As(err, &typ) && typ.Field != "":
			return nil, malformed("field %s has the wrong type", typ.Field)
		}
		return nil, malformed("the body is not a push request: %v", err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, malformed("the body must hold a single JSON object")
	}
	if len(req.Records) > MaxPushRecords {
		return nil, &TooLargeError{fmt.Sprintf("the batch holds %d records; send at most %d", len(req.Records), MaxPushRecords)}
	}
	switch {
	case req.BusID == "":
		return nil, malformed("bus_id is required")
	case req.Records == nil:
		return nil, malformed("records is required (a list, possibly empty)")
	case req.ThroughSeq < 0:
		return nil, malformed("through_seq must be 0 or more")
	}
	for i, r := range req.Records {
		// json.RawMessage keeps "null" as a record; it is one, a malformed one.
		if len(r) == 0 {
			return nil, malformed("records[%d] is empty", i)
		}
	}
	return &req, nil
}

// EncodePush writes req as the gzip body of a push. level is a
// compress/gzip level; records are similar, so a whole batch compresses
// far better than any record alone.
func EncodePush(w io.Writer, req *PushRequest, level int) error {
	zw, err := gzip.NewWriterLevel(w, level)
	if err != nil {
		return err
	}
	// Written by hand so that records go out exactly as stored, without
	// json re-indenting or re-escaping them.
	bw := &errWriter{w: zw}
	busID, _ := json.Marshal(req.BusID)
	bw.write([]byte(`{"bus_id":`))
	bw.write(busID)
	bw.write([]byte(`,"through_seq":` + fmt.Sprint(req.ThroughSeq) + `,"records":[`))
	for i, r := range req.Records {
		if i > 0 {
			bw.write([]byte{','})
		}
		bw.write(r)
	}
	bw.write([]byte("]}"))
	if bw.err != nil {
		return bw.err
	}
	return zw.Close()
}

type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) write(p []byte) {
	if e.err == nil {
		_, e.err = e.w.Write(p)
	}
}
