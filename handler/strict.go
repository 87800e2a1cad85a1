package handler

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"reflect"
	"strings"
)

// single refuses a push whose action or version is given more than once:
// which one would count is a guess.
func single(w http.ResponseWriter, q url.Values) bool {
	for name, c := range map[string]code{"action": codeBadAction, "version": codeBadVersion} {
		if len(q[name]) > 1 {
			reply(w, c, fmt.Sprintf("query parameter %s is given %d times; give it once", name, len(q[name])))
			return false
		}
	}
	return true
}

// boolParam reads an optional boolean query parameter: true or false in
// any case, or 1 or 0; anything else is an error naming the parameter.
func boolParam(q url.Values, name string) (bool, error) {
	vs := q[name]
	if len(vs) == 0 {
		return false, nil
	}
	if len(vs) == 1 {
		switch strings.ToLower(vs[0]) {
		case "true", "1":
			return true, nil
		case "false", "0":
			return false, nil
		}
	}
	return false, fmt.Errorf("query parameter %s must be given once, as true or false (or 1 or 0)", name)
}

// decodeEnrich decodes the enrich route's body as strictly as a push: one
// JSON object, no unknown fields, no key given twice in any case; errors
// name the field and the expected type, never Go's types.
func decodeEnrich(b []byte, v any) error {
	if !json.Valid(b) {
		var se *json.SyntaxError
		if err := json.Unmarshal(b, new(any)); errors.As(err, &se) {
			return fmt.Errorf("invalid JSON at offset %d", se.Offset)
		}
		return errors.New("invalid JSON")
	}
	if err := uniqueKeys(b); err != nil {
		return err
	}
	err := strictJSON(b, v)
	var te *json.UnmarshalTypeError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &te):
		return fmt.Errorf("field %s must be %s", safeToken(te.Field), kindName(te.Type))
	case strings.HasPrefix(err.Error(), "json: unknown field "):
		return fmt.Errorf("unknown field %s", safeToken(strings.Trim(strings.TrimPrefix(err.Error(), "json: unknown field "), `"`)))
	case strings.HasPrefix(err.Error(), "json: "):
		return errors.New("the body must be one JSON object")
	}
	return err
}

func kindName(t reflect.Type) string {
	switch t.Kind() {
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "an integer"
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	}
	return "an object"
}

// uniqueKeys refuses a top-level key given twice, in any case: encoding/json
// would keep the last and match keys without regard to case.
func uniqueKeys(b []byte) error {
	d := json.NewDecoder(bytes.NewReader(b))
	if t, err := d.Token(); err != nil || t != json.Delim('{') {
		return errors.New("the body must be one JSON object")
	}
	seen := map[string]bool{}
	for d.More() {
		t, err := d.Token()
		if err != nil {
			return errors.New("the body must be one JSON object")
		}
		k, _ := t.(string)
		if seen[strings.ToLower(k)] {
			return fmt.Errorf("field %s is given twice (keys are matched without regard to case)", safeToken(k))
		}
		seen[strings.ToLower(k)] = true
		var skip json.RawMessage
		if err := d.Decode(&skip); err != nil {
			return errors.New("the body must be one JSON object")
		}
	}
	return nil
}
