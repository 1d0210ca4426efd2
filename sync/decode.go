package sync

import (
	"bytes"
	"compress/gzip"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"infobus/schema"
)

// DecodePush reads a push body: gzip (contentEncoding "gzip") or plain JSON
// (""), at most MaxPushBytes once decompressed, whatever the compressed
// size, so that a small gzip bomb cannot fill memory. It returns a
// *TooLargeError past the bounds and a *MalformedError for anything that
// is not one push request. Records are checked one by one later: a bad
// record is not a bad request.
func DecodePush(body []byte, contentEncoding string) (*PushRequest, error) {
	if len(body) > MaxPushCompressed {
		return nil, &TooLargeError{fmt.Sprintf("the push body is larger than %d bytes; send at most %d records and %d bytes per batch", MaxPushCompressed, MaxPushRecords, MaxPushBytes),
			fmt.Sprintf("de push is groter dan %d bytes; stuur hoogstens %d records en %d bytes per keer", MaxPushCompressed, MaxPushRecords, MaxPushBytes)}
	}
	var r io.Reader = bytes.NewReader(body)
	switch strings.ToLower(strings.TrimSpace(contentEncoding)) {
	case "gzip":
		zr, err := gzip.NewReader(r)
		if err != nil {
			return nil, malformed(fmt.Sprintf("the body is not gzip: %v", err), "de inhoud is geen gzip")
		}
		// One gzip member only: a second would be a second request.
		zr.Multistream(false)
		r = zr
	case "", "identity":
	default:
		return nil, malformed(fmt.Sprintf("Content-Encoding %q: send gzip", contentEncoding), "stuur de inhoud als gzip")
	}
	// Sized for a typical batch at once: growing a megabyte step by step
	// copies it several times over.
	var out bytes.Buffer
	out.Grow(min(MaxPushBytes+1, 10*len(body)))
	if _, err := out.ReadFrom(io.LimitReader(r, MaxPushBytes+1)); err != nil {
		return nil, malformed(fmt.Sprintf("the body could not be decompressed: %v", err), "de inhoud kon niet worden uitgepakt")
	}
	plain := out.Bytes()
	if len(plain) > MaxPushBytes {
		return nil, &TooLargeError{fmt.Sprintf("the batch is larger than %d bytes of JSON; send smaller batches", MaxPushBytes),
			fmt.Sprintf("de push is groter dan %d bytes JSON; stuur kleinere delen", MaxPushBytes)}
	}
	return decodePushJSON(plain)
}

// decodePushJSON reads a push request. encoding/json would scan a batch
// three times and copy every record to split it into records, which made
// reading a push a fifth of the office's time per batch, all of it on one
// core. So json.Valid checks the whole body in one pass, and a walk that
// may rely on that validity picks out the three fields and the records,
// which stay slices of plain. Each record is read strictly later, on its
// own: a bad record is not a bad request.
func decodePushJSON(plain []byte) (*PushRequest, error) {
	if len(bytes.TrimSpace(plain)) == 0 {
		return nil, malformed("the body is empty; send {bus_id, records, through_seq}", "de inhoud is leeg; stuur {bus_id, records, through_seq}")
	}
	if !json.Valid(plain) {
		// The slow path, for its precise message.
		err := json.Unmarshal(plain, new(any))
		return nil, malformed(fmt.Sprintf("the body is not a push request: %v", err), "de inhoud is geen geldige push")
	}
	i := schema.SkipJSONSpace(plain, 0)
	if plain[i] != '{' {
		return nil, malformed("the body must be a JSON object {bus_id, records, through_seq}", "de inhoud moet een JSON-object {bus_id, records, through_seq} zijn")
	}
	var req PushRequest
	for i = schema.SkipJSONSpace(plain, i+1); plain[i] == '"'; {
		keyEnd := schema.JSONStringEnd(plain, i)
		var key string
		if err := json.Unmarshal(plain[i:keyEnd], &key); err != nil {
			return nil, malformed(fmt.Sprintf("the body is not a push request: %v", err), "de inhoud is geen geldige push")
		}
		i = schema.SkipJSONSpace(plain, schema.SkipJSONSpace(plain, keyEnd)+1) // past the colon
		valueEnd := schema.JSONValueEnd(plain, i)
		value := plain[i:valueEnd]
		switch key {
		case "bus_id":
			if err := json.Unmarshal(value, &req.BusID); err != nil {
				return nil, malformed("bus_id must be text", "bus_id moet tekst zijn")
			}
		case "through_seq":
			if err := json.Unmarshal(value, &req.ThroughSeq); err != nil {
				return nil, malformed("through_seq must be a whole number", "through_seq moet een heel getal zijn")
			}
		case "records":
			records, ok := splitArray(value)
			if !ok {
				return nil, malformed("records must be a list", "records moet een lijst zijn")
			}
			req.Records = records
		case "keep_contact":
			if err := json.Unmarshal(value, &req.KeepContact); err != nil {
				return nil, malformed("keep_contact must be a list of visit ids", "keep_contact moet een lijst van bezoek-id's zijn")
			}
		default:
			return nil, malformed(fmt.Sprintf("the body is not a push request: unknown field %q", key), fmt.Sprintf("de inhoud is geen geldige push: onbekend veld %q", key))
		}
		if i = schema.SkipJSONSpace(plain, valueEnd); plain[i] == ',' {
			i = schema.SkipJSONSpace(plain, i+1)
		}
	}
	if len(req.Records) > MaxPushRecords {
		return nil, &TooLargeError{fmt.Sprintf("the batch holds %d records; send at most %d", len(req.Records), MaxPushRecords),
			fmt.Sprintf("de push heeft %d records; stuur er hoogstens %d", len(req.Records), MaxPushRecords)}
	}
	switch {
	case req.BusID == "":
		return nil, malformed("bus_id is required", "bus_id is verplicht")
	case req.Records == nil:
		return nil, malformed("records is required (a list, possibly empty)", "records is verplicht (een lijst, die leeg mag zijn)")
	case req.ThroughSeq < 0:
		return nil, malformed("through_seq must be 0 or more", "through_seq moet 0 of hoger zijn")
	}
	return &req, nil
}

// The walk below reads JSON that json.Valid accepted, with schema's scanner.

// splitArray returns the elements of a JSON array as slices of it; null is
// a nil list, anything else not a list.
func splitArray(b []byte) ([]json.RawMessage, bool) {
	if string(b) == "null" {
		return nil, true
	}
	if b[0] != '[' {
		return nil, false
	}
	out := []json.RawMessage{}
	for i := schema.SkipJSONSpace(b, 1); b[i] != ']'; {
		end := schema.JSONValueEnd(b, i)
		out = append(out, b[i:end:end])
		if i = schema.SkipJSONSpace(b, end); b[i] == ',' {
			i = schema.SkipJSONSpace(b, i+1)
		}
	}
	return out, true
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
	bw.write([]byte("]"))
	if len(req.KeepContact) > 0 {
		keep, _ := json.Marshal(req.KeepContact) // strings always marshal
		bw.write([]byte(`,"keep_contact":`))
		bw.write(keep)
	}
	bw.write([]byte("}"))
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
