package scf

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/ccc-enricher/ccc-enricher/internal/platform"
)

// FuzzDispatch feeds arbitrary events to the dispatcher. Whatever arrives,
// it answers with a reply or an error, never with a panic of its own (the
// handler here does not panic, so a recovered panic is a bug), and a
// request it builds keeps every query value it was given.
func FuzzDispatch(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.json"))
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"httpMethod":"GET","path":"/","queryString":{"a":[true,"x",1.5e3,null,false]},"requestContext":{}}`))
	f.Add([]byte(`{"Type":"Timer","Time":"not a time"}`))
	f.Add([]byte(`{"Records":[{"CMQ":{"msgBody":"x","msgTag":"a, b"}},{"Ckafka":{"offset":1,"msgBody":"y"}}]}`))
	d := &dispatcher{
		h: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(w, r.Body)
		}),
		jobs:  platform.Jobs{"reconcile": func(context.Context, time.Time) error { return nil }},
		queue: func(context.Context, []byte) error { return nil },
		log:   slog.New(slog.NewTextHandler(io.Discard, nil)),
	}
	f.Fuzz(func(t *testing.T, event []byte) {
		_, err := d.dispatch(context.Background(), event)
		if ee, ok := err.(*eventError); ok && ee.kind == "Panic" {
			t.Fatalf("dispatch panicked: %v", err)
		}
		var ev apigwEvent
		if json.Unmarshal(event, &ev) != nil {
			return
		}
		r, err := ev.request(context.Background())
		if err != nil {
			return
		}
		q := r.URL.Query()
		for _, p := range ev.QueryString {
			want := p.Value
			if p.Bare {
				want = ""
			}
			if !slices.Contains(q[p.Key], want) {
				t.Errorf("query %q = %q, lost %q", p.Key, q[p.Key], want)
			}
		}
	})
}
