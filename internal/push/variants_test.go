package push

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"reflect"
	"slices"
	"testing"
	"unicode/utf8"
)

var updateVariants = flag.Bool("update-variants", false, "rewrite testdata/variants.jsonl")

// variant is one real-shaped push whose fields differ in type or shape
// from the documented ones: a line of testdata/variants.jsonl.
type variant struct {
	Name string          `json:"name"`
	Kind Kind            `json:"kind"`
	Body json.RawMessage `json:"body"`
}

// essentialFields decide whether a push is processable; they are varied
// in TestParseRefuses, not here.
var essentialFields = map[string]bool{
	"SdkAppId": true, "SessionId": true, "RecordId": true, "StartTimestamp": true, "EndedTimestamp": true, "Timestamp": true,
}

// otherShapes returns values of other JSON types or shapes than v.
func otherShapes(v any) map[string]any {
	out := map[string]any{"null": nil, "unknown-object": map[string]any{"Future": []any{1.0, "x"}}}
	switch v := v.(type) {
	case string:
		out["number"] = 12345.0
		out["array"] = []any{v}
	case float64:
		out["string"] = "1"
		out["float"] = v + 0.5
		out["array"] = []any{v}
	case bool:
		out["string"] = "true"
	case []any:
		out["object"] = map[string]any{"0": v}
		out["strings"] = []any{"1", "2"}
		out["objects"] = []any{map[string]any{"Key": "1", "Label": "x", "Unknown": true}}
		out["numbers"] = []any{1.0, 2.5}
	case map[string]any:
		out["array"] = []any{v}
		out["string"] = "object as string"
	}
	return out
}

// makeVariants varies every non-essential field of the three sample
// pushes, and every field of their nested objects and array elements.
func makeVariants(t *testing.T) []variant {
	var vs []variant
	for _, s := range []struct {
		kind Kind
		file string
	}{{KindCDR, "push-cdr.json"}, {KindRecord, "push-record.json"}, {KindVoicemail, "push-voicemail.json"}} {
		var base map[string]any
		if err := json.Unmarshal(load(t, s.file), &base); err != nil {
			t.Fatal(err)
		}
		add := func(name string, body map[string]any) {
			b, err := json.Marshal(body)
			if err != nil {
				t.Fatal(err)
			}
			vs = append(vs, variant{Name: string(s.kind) + ": " + name, Kind: s.kind, Body: b})
		}
		for _, f := range slices.Sorted(mapsKeys(base)) {
			if essentialFields[f] {
				continue
			}
			for shape, v := range otherShapes(base[f]) {
				add(f+" as "+shape, with(base, f, v))
			}
			// Nested objects and the elements of arrays of objects.
			nested := map[string]any{}
			switch v := base[f].(type) {
			case map[string]any:
				nested = v
			case []any:
				if len(v) > 0 {
					nested, _ = v[0].(map[string]any)
				}
			}
			for _, g := range slices.Sorted(mapsKeys(nested)) {
				for shape, v := range otherShapes(nested[g]) {
					inner := with(nested, g, v)
					var outer any = inner
					if _, ok := base[f].([]any); ok {
						outer = []any{inner}
					}
					add(f+"."+g+" as "+shape, with(base, f, outer))
				}
			}
		}
		add("unknown top-level fields", with(base, "FutureObject", map[string]any{"a": []any{map[string]any{"b": nil}}}))
	}
	slices.SortFunc(vs, func(a, b variant) int { return bytes.Compare([]byte(a.Name), []byte(b.Name)) })
	return vs
}

func with(m map[string]any, k string, v any) map[string]any {
	c := make(map[string]any, len(m)+1)
	for k2, v2 := range m {
		c[k2] = v2
	}
	c[k] = v
	return c
}

func mapsKeys(m map[string]any) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// ReadVariants reads testdata/variants.jsonl.
func readVariants(t testing.TB, path string) []variant {
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var vs []variant
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var v variant
		if err := json.Unmarshal(sc.Bytes(), &v); err != nil {
			t.Fatal(err)
		}
		vs = append(vs, v)
	}
	return vs
}

// Every variant of testdata/variants.jsonl is accepted, and its Raw is the
// body as sent. The corpus is the handler tests' too (TestPushVariants).
func TestParseVariants(t *testing.T) {
	const path = "testdata/variants.jsonl"
	if *updateVariants {
		var b bytes.Buffer
		for _, v := range makeVariants(t) {
			line, _ := json.Marshal(v)
			b.Write(append(line, '\n'))
		}
		if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	vs := readVariants(t, path)
	if len(vs) < 100 {
		t.Fatalf("%d variants in %s; go test -update-variants writes them", len(vs), path)
	}
	for _, v := range vs {
		p, err := Parse(v.Kind, v.Body, testNow)
		if err != nil {
			t.Errorf("%s: refused: %v", v.Name, err)
			continue
		}
		var sent, kept any
		json.Unmarshal(v.Body, &sent)
		json.Unmarshal(p.Raw, &kept)
		if !reflect.DeepEqual(sent, kept) {
			t.Errorf("%s: Raw is not the body as sent", v.Name)
		}
	}
}

// Any JSON object whose essential fields are valid is accepted, whatever
// the rest holds.
func FuzzParseTolerant(f *testing.F) {
	f.Add([]byte(`{"Caller":{"x":[1,2]},"Duration":"long"}`))
	f.Add([]byte(`{"ServeParticipants":"none","SeatUser":[1]}`))
	f.Fuzz(func(t *testing.T, extra []byte) {
		var fields map[string]json.RawMessage
		if json.Unmarshal(extra, &fields) != nil || fields == nil {
			return
		}
		for k := range fields {
			for e := range essentialFields {
				if bytes.EqualFold([]byte(k), []byte(e)) {
					delete(fields, k)
				}
			}
		}
		fields["SdkAppId"] = json.RawMessage(`1400000000`)
		fields["SessionId"] = json.RawMessage(`"s-1"`)
		fields["RecordId"] = json.RawMessage(`"r-1"`)
		fields["EndedTimestamp"] = json.RawMessage(`1756892230`)
		fields["Timestamp"] = json.RawMessage(`1756892231`)
		body, err := json.Marshal(fields)
		if err != nil || len(body) > MaxBodyBytes || !utf8.Valid(body) {
			return // the body limits hold for every push
		}
		for _, k := range []Kind{KindCDR, KindRecord, KindVoicemail, KindIMCDR, "future"} {
			if _, err := Parse(k, body, testNow); err != nil && !tooDeep(body) {
				t.Fatalf("%s refused: %v\n%s", k, err, body)
			}
		}
	})
}

// tooDeep reports whether b nests deeper than MaxDepth allows, the one
// limit a body with valid essential fields may still hit.
func tooDeep(b []byte) bool {
	d := json.NewDecoder(bytes.NewReader(b))
	depth, deepest := 0, 0
	for {
		tok, err := d.Token()
		if err != nil {
			return deepest >= MaxDepth
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
			deepest = max(deepest, depth)
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
	}
}
