package cmq

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"

	"github.com/ccc-enricher/ccc-enricher/internal/config"
	"github.com/ccc-enricher/ccc-enricher/internal/retry"
	"github.com/ccc-enricher/ccc-enricher/internal/sink"
	"github.com/ccc-enricher/ccc-enricher/internal/sink/sinktest"
	"github.com/ccc-enricher/ccc-enricher/internal/tcemu"
	"github.com/ccc-enricher/ccc-enricher/internal/tcloud"
)

const (
	cmqTestQueue = "ccc-records"
	cmqTestID    = "AKIDcmq-test"
	cmqTestKey   = "cmq-test-key"
)

// startCMQ starts the emulator, which checks the SDK's signature as TDMQ
// does, and returns a CMQ sink pointed at it.
func startCMQ(t *testing.T, cred common.CredentialIface) (*tcemu.Server, *CMQ) {
	t.Helper()
	emu := tcemu.New(tcemu.Options{SecretID: cmqTestID, SecretKey: cmqTestKey})
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	if cred == nil {
		cred = tcloud.StaticCredential(cmqTestID, cmqTestKey, "")
	}
	q, err := New(config.CMQ{Queue: cmqTestQueue, Region: "ap-guangzhou", Endpoint: srv.URL}, cred)
	if err != nil {
		t.Fatal(err)
	}
	q.policy = sinktest.Policy
	return emu, q
}

func TestConformance(t *testing.T) {
	// faulty answers every SendCmqMsg with f.
	faulty := func(t *testing.T, f tcemu.Fault) sink.Sink {
		emu, q := startCMQ(t, nil)
		emu.SetFaults(func(string) *tcemu.Fault { return &f })
		return q
	}
	sinktest.Run(t, sinktest.Harness{
		Working: func(t *testing.T) (sink.Sink, func(*testing.T) []sinktest.Delivery) {
			emu, q := startCMQ(t, nil)
			return q, func(t *testing.T) []sinktest.Delivery {
				var out []sinktest.Delivery
				for _, m := range emu.CMQMessages(cmqTestQueue) {
					out = append(out, sinktest.FromBody(t, []byte(m.Content)))
				}
				return out
			}
		},
		Refusing: func(t *testing.T) sink.Sink { return faulty(t, tcemu.Fault{Code: "ResourceNotFound.QueueNotExist"}) },
		Failing:  func(t *testing.T) sink.Sink { return faulty(t, tcemu.Fault{Code: "InternalError"}) },
		Hanging:  func(t *testing.T) sink.Sink { return faulty(t, tcemu.Fault{Delay: time.Minute}) },
		Secrets:  []string{cmqTestKey},
	})
}

func TestCMQDelivery(t *testing.T) {
	emu, q := startCMQ(t, nil)
	if q.Name() != "cmq" {
		t.Errorf("Name() = %q", q.Name())
	}
	m := sinktest.Message()
	m.Attributes = map[string]string{sink.AttrDeadLetterFrom: "webhook"}
	if err := q.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	msgs := emu.CMQMessages(cmqTestQueue)
	if len(msgs) != 1 {
		t.Fatalf("%d messages, want 1", len(msgs))
	}
	var want bytes.Buffer
	if err := json.Compact(&want, m.Body); err != nil {
		t.Fatal(err)
	}
	if msgs[0].Content != want.String() || msgs[0].DelaySeconds != 0 || msgs[0].MsgID == "" {
		t.Errorf("message = %+v; want the compact body, no delay", msgs[0])
	}
	// The record id and schema version travel in the body.
	var rec map[string]any
	if err := json.Unmarshal([]byte(msgs[0].Content), &rec); err != nil {
		t.Fatal(err)
	}
	if rec["id"] != m.ID || rec["schemaVersion"] != m.SchemaVersion {
		t.Errorf("body carries id %v and schemaVersion %v; want %s and %s", rec["id"], rec["schemaVersion"], m.ID, m.SchemaVersion)
	}
}

func TestCMQRetries(t *testing.T) {
	tests := []struct {
		name   string
		faults []tcemu.Fault
	}{
		{"internal error", []tcemu.Fault{{Code: "InternalError"}}},
		{"throttled, then a 502", []tcemu.Fault{{Code: "ResourceUnavailable"}, {Status: 502}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			emu, q := startCMQ(t, nil)
			emu.Inject("SendCmqMsg", tt.faults...)
			if err := q.Send(context.Background(), sinktest.Message()); err != nil {
				t.Fatal(err)
			}
			if n := emu.Calls("SendCmqMsg"); n != len(tt.faults)+1 {
				t.Errorf("%d calls, want %d", n, len(tt.faults)+1)
			}
			if n := len(emu.CMQMessages(cmqTestQueue)); n != 1 {
				t.Errorf("%d messages, want 1", n)
			}
		})
	}
}

func TestCMQFailures(t *testing.T) {
	tests := []struct {
		name      string
		cred      common.CredentialIface
		faults    []tcemu.Fault
		edit      func(*sink.Message)
		permanent bool
		code      string
		calls     int
	}{
		{name: "unknown secret id", cred: tcloud.StaticCredential("AKIDother", cmqTestKey, ""), permanent: true, code: "AuthFailure.SecretIdNotFound"},
		{name: "wrong key", cred: tcloud.StaticCredential(cmqTestID, "wrong", ""), permanent: true, code: "AuthFailure.SignatureFailure"},
		{name: "no such queue", faults: []tcemu.Fault{{Code: "ResourceNotFound.QueueNotExist"}}, permanent: true, code: "ResourceNotFound", calls: 1},
		{name: "too large", faults: []tcemu.Fault{{Code: "InvalidParameterValue"}}, permanent: true, code: "InvalidParameterValue", calls: 1},
		{name: "always failing", faults: []tcemu.Fault{{Code: "InternalError"}, {Code: "InternalError"}, {Code: "InternalError"}, {Code: "InternalError"}, {Code: "InternalError"}}, code: "InternalError", calls: 5},
		{name: "body not JSON", edit: func(m *sink.Message) { m.Body = []byte("not json") }, permanent: true},
		{name: "no record id", edit: func(m *sink.Message) { m.ID = "" }, permanent: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			emu, q := startCMQ(t, tt.cred)
			emu.Inject("SendCmqMsg", tt.faults...)
			m := sinktest.Message()
			if tt.edit != nil {
				tt.edit(&m)
			}
			err := q.Send(context.Background(), m)
			if err == nil {
				t.Fatal("no error")
			}
			if got := retry.IsPermanent(err); got != tt.permanent {
				t.Errorf("IsPermanent = %v, want %v: %v", got, tt.permanent, err)
			}
			if tt.code != "" && !tcloud.IsCode(err, tt.code) {
				t.Errorf("err = %v, want %s", err, tt.code)
			}
			if !strings.HasPrefix(err.Error(), "cmq: ") || strings.Contains(err.Error(), cmqTestKey) {
				t.Errorf("err = %q", err)
			}
			if n := emu.Calls("SendCmqMsg"); n != tt.calls {
				t.Errorf("%d authenticated calls, want %d", n, tt.calls)
			}
			if n := len(emu.CMQMessages(cmqTestQueue)); n != 0 {
				t.Errorf("%d messages stored, want none", n)
			}
		})
	}
}

// A queue slower than the caller's deadline ends Send at the deadline,
// with a transient error.
func TestCMQDeadline(t *testing.T) {
	emu, q := startCMQ(t, nil)
	emu.SetFaults(func(string) *tcemu.Fault { return &tcemu.Fault{Delay: time.Minute} })
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	err := q.Send(ctx, sinktest.Message())
	if err == nil || retry.IsPermanent(err) {
		t.Fatalf("err = %v; want transient", err)
	}
}

func TestNew(t *testing.T) {
	cred := tcloud.StaticCredential("i", "k", "")
	tests := []struct {
		name string
		cfg  config.CMQ
		cred common.CredentialIface
		err  string
	}{
		{"no credential", config.CMQ{Queue: "q", Region: "ap-guangzhou"}, nil, "no Tencent Cloud credential"},
		{"bad endpoint", config.CMQ{Queue: "q", Region: "ap-guangzhou", Endpoint: "https://tdmq/x"}, cred, "endpoint"},
	}
	for _, tt := range tests {
		if _, err := New(tt.cfg, tt.cred); err == nil || !strings.Contains(err.Error(), tt.err) {
			t.Errorf("%s: err = %v, want one containing %q", tt.name, err, tt.err)
		}
	}
	q, err := New(config.CMQ{Queue: "q", Region: "ap-guangzhou"}, cred)
	if err != nil {
		t.Fatal(err)
	}
	if ep := q.client.Endpoint(); ep.String() != "https://tdmq.tencentcloudapi.com" {
		t.Errorf("default endpoint %s", ep)
	}
}
