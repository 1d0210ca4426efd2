package schema

import (
	"bytes"
	"encoding/json"
	"io"
	"strconv"
	"strings"
)

// DecodeError is a body that is not one JSON object at all, so no field
// can be blamed.
type DecodeError struct {
	EN, NL string
}

func (e *DecodeError) Error() string { return e.EN }

// The wire shape of a visit, for the strict walk. The walk finds unknown
// fields and values of the wrong kind by looking at the JSON itself, so it
// can name them by their wire path; encoding/json reports them as text
// naming Go types.
type wireKind uint8

const (
	wireText wireKind = iota
	wireInt
	wireBool
	wireObject
	wireTextList
	wireObjectList
)

type wireField struct {
	kind   wireKind
	object map[string]wireField // for wireObject and wireObjectList
	max    func() int           // for lists: more entries is one error for the list
}

var (
	wText        = wireField{kind: wireText}
	wInt         = wireField{kind: wireInt}
	wBool        = wireField{kind: wireBool}
	wireFollowUp = map[string]wireField{
		"id": wText, "kind": wText, "description": wText, "department": wText, "due_date": wText, "code": wText,
		"status": wText, "resolution": wText, "status_rev": wInt, "status_at": wText,
		// Read-only, as the bus answers it, so that an answer sent back is
		// taken; CrewOwned drops it.
		"feedback": {kind: wireObject, object: map[string]wireField{
			"rating": wInt, "comment": wText, "contact_preference": wText, "created_at": wText}},
	}
	wireVisit = map[string]wireField{
		"id": wText, "bus_id": wText, "device_id": wText, "crew": wText, "stop": wText, "visited_at": wText,
		"business": {kind: wireObject, object: map[string]wireField{
			"name": wText, "kvk": wText,
			"address": {kind: wireObject, object: map[string]wireField{"street": wText, "number": wText, "postcode": wText, "city": wText}},
		}},
		"wijk": wText, "sector": wText,
		"topics":       {kind: wireTextList, max: func() int { return len(Ref.Topics) }},
		"notes":        wText,
		"language":     wText,
		"consent":      {kind: wireObject, object: map[string]wireField{"given": wBool, "text_version": wText, "at": wText}},
		"contact":      {kind: wireObject, object: map[string]wireField{"name": wText, "phone": wText, "email": wText}},
		"panel_opt_in": wBool, "rating": wInt,
		"followups": {kind: wireObjectList, object: wireFollowUp, max: func() int { return MaxFollowUps }},
		"rev":       wInt, "created_at": wText, "updated_at": wText, "deleted": wBool, "received_at": wText,
	}
)

var (
	ruleUnknownField = Problem{"is not a field of this record", "is geen veld van dit record"}
	kindRules        = map[wireKind]Problem{
		wireText:       {"must be text (in quotes)", "moet tekst zijn (tussen aanhalingstekens)"},
		wireInt:        {"must be a wInt number", "moet een heel getal zijn"},
		wireBool:       {"must be true or false", "moet true (ja) of false (nee) zijn"},
		wireObject:     {"must be a group of fields in braces {…}", "moet een groep velden tussen accolades {…} zijn"},
		wireTextList:   {"must be a list of texts [\"…\"]", "moet een lijst met teksten [\"…\"] zijn"},
		wireObjectList: {"must be a list [{…}]", "moet een lijst [{…}] zijn"},
	}
)

// DecodeVisit reads body as exactly one visit, strictly: a field a Visit
// lacks is refused (a typo must not drop data silently, and there is never
// a place for a field such as a citizen service number), and so is a value
// of the wrong kind. Both come back as a *ValidationError naming the field
// by its wire path, bounded like every ValidationError; a body that is not
// one JSON object is a *DecodeError. extra names top-level fields a caller
// accepts and ignores, such as the read-only fields of the bus's answer.
// The visit is neither normalized nor validated.
func DecodeVisit(body []byte, extra ...string) (*Visit, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, &DecodeError{"body is empty; send a JSON object", "de inhoud is leeg; stuur een JSON-object"}
	}
	if !json.Valid(body) {
		dec := json.NewDecoder(bytes.NewReader(body))
		if err := dec.Decode(new(any)); err == nil {
			if _, err := dec.Token(); err != io.EOF {
				return nil, &DecodeError{"body must hold a single JSON object", "de inhoud moet één JSON-object zijn"}
			}
		}
		return nil, &DecodeError{"body is not valid JSON", "de inhoud is geen geldige JSON"}
	}
	i := SkipJSONSpace(body, 0)
	if body[i] != '{' {
		return nil, &DecodeError{"body must be a JSON object", "de inhoud moet een JSON-object zijn"}
	}
	var c checker
	walkObject(&c, body[i:JSONValueEnd(body, i)], "", wireVisit, extra)
	if err := c.err(); err != nil {
		return nil, err
	}
	var v Visit
	if err := json.Unmarshal(body, &v); err != nil {
		// The walk has checked every kind, so this is a bound of Go's, such
		// as a number too large for 64 bits.
		return nil, &DecodeError{"body could not be read as a visit", "de inhoud kon niet als bezoek worden gelezen"}
	}
	return &v, nil
}

// walkObject checks the members of the object b against fields. It may rely
// on b being valid JSON.
func walkObject(c *checker, b []byte, path string, fields map[string]wireField, extra []string) {
	for i := SkipJSONSpace(b, 1); i < len(b) && b[i] == '"'; {
		keyEnd := JSONStringEnd(b, i)
		key := string(b[i+1 : keyEnd-1])
		if strings.IndexByte(key, '\\') >= 0 {
			_ = json.Unmarshal(b[i:keyEnd], &key)
		}
		i = SkipJSONSpace(b, SkipJSONSpace(b, keyEnd)+1) // past the colon
		end := JSONValueEnd(b, i)
		value := b[i:end]
		if f, ok := fields[key]; ok {
			walkValue(c, value, path+key, f)
		} else if !contains(extra, key) {
			c.add(path+key, ruleUnknownField)
		}
		if i = SkipJSONSpace(b, end); i < len(b) && b[i] == ',' {
			i = SkipJSONSpace(b, i+1)
		}
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func walkValue(c *checker, v []byte, field string, f wireField) {
	if string(v) == "null" { // encoding/json leaves the zero value
		return
	}
	ok := false
	switch f.kind {
	case wireText:
		ok = v[0] == '"'
	case wireInt:
		_, err := strconv.ParseInt(string(v), 10, 64)
		ok = err == nil
	case wireBool:
		ok = v[0] == 't' || v[0] == 'f'
	case wireObject:
		if ok = v[0] == '{'; ok {
			walkObject(c, v, field+".", f.object, nil)
		}
	case wireTextList, wireObjectList:
		if ok = v[0] == '['; ok {
			walkList(c, v, field, f)
		}
	}
	if !ok {
		c.add(field, kindRules[f.kind])
	}
}

// walkList checks a list's entries, unless it holds more than it may: then
// the list gets one error, however long it is.
func walkList(c *checker, v []byte, field string, f wireField) {
	var items [][]byte
	n := 0
	for i := SkipJSONSpace(v, 1); i < len(v) && v[i] != ']'; {
		end := JSONValueEnd(v, i)
		if n++; n <= f.max() {
			items = append(items, v[i:end])
		}
		if i = SkipJSONSpace(v, end); i < len(v) && v[i] == ',' {
			i = SkipJSONSpace(v, i+1)
		}
	}
	if n > f.max() {
		c.add(field, ruleTooMany(f.max()))
		return
	}
	for k, item := range items {
		p := field + "[" + strconv.Itoa(k) + "]"
		if string(item) == "null" {
			continue
		}
		switch {
		case f.kind == wireTextList && item[0] != '"':
			c.add(p, kindRules[wireText])
		case f.kind == wireObjectList && item[0] != '{':
			c.add(p, kindRules[wireObject])
		case f.kind == wireObjectList:
			walkObject(c, item, p+".", f.object, nil)
		}
	}
}
