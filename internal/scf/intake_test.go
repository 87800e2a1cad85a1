package scf_test

import (
	"context"
	"errors"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/ccc-enricher/ccc-enricher/internal/platform"
)

// TestServeIntake checks that CKafka and CMQ trigger events of the intake
// topic or queue reach the worker as one batch, never Final, and that any
// failure fails the invocation; events of another topic (the dead-letter
// topic) still go to the queue function.
func TestServeIntake(t *testing.T) {
	var (
		mu             sync.Mutex
		batch          []platform.Delivery
		queued         []string
		errBad         = errors.New("malformed intake message")
		outcome        = func(b []byte) error { return map[bool]error{true: errBad}[string(b) == "bad"] }
		intakeMessages = func(b []platform.Delivery) []error {
			mu.Lock()
			defer mu.Unlock()
			batch = b
			errs := make([]error, len(b))
			for i, d := range b {
				errs[i] = outcome(d.Body)
			}
			return errs
		}
	)
	in := &platform.Intake{Source: "pushes", MaxReceives: 5,
		Process: func(_ context.Context, b []platform.Delivery) []error { return intakeMessages(b) }}
	emu := startIntake(t, echoHandler(t), nil, func(_ context.Context, body []byte) error {
		mu.Lock()
		defer mu.Unlock()
		queued = append(queued, string(body))
		return outcome(body)
	}, in)
	tests := []struct {
		name      string
		event     string
		errType   string
		wantBatch []platform.Delivery
		wantQueue []string
	}{
		{"ckafka intake", `{"Records":[{"Ckafka":{"topic":"pushes","partition":0,"offset":1,"msgBody":"a"}},{"Ckafka":{"topic":"pushes","partition":1,"offset":7,"msgBody":"b"}}]}`,
			"", []platform.Delivery{{Body: []byte("a")}, {Body: []byte("b")}}, nil},
		{"cmq intake failure", `{"Records":[{"CMQ":{"topicName":"pushes","msgId":"m-1","msgBody":"bad"}}]}`,
			"RecordsFailed", []platform.Delivery{{Body: []byte("bad")}}, nil},
		{"dead-letter topic goes to redrive", `{"Records":[{"Ckafka":{"topic":"dlq","partition":0,"offset":3,"msgBody":"r"}}]}`,
			"", nil, []string{"r"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mu.Lock()
			batch, queued = nil, nil
			mu.Unlock()
			res := invoke(t, emu, []byte(tt.event))
			if et := errType(t, res); et != tt.errType {
				t.Fatalf("error type %q, want %q (reply %s)", et, tt.errType, res.Body)
			}
			if tt.errType != "" && !strings.Contains(string(res.Body), "m-1") {
				t.Errorf("error %s does not name the message", res.Body)
			}
			mu.Lock()
			defer mu.Unlock()
			if !reflect.DeepEqual(batch, tt.wantBatch) || !reflect.DeepEqual(queued, tt.wantQueue) {
				t.Errorf("batch %+v queued %q; want %+v, %q", batch, queued, tt.wantBatch, tt.wantQueue)
			}
		})
	}
}
