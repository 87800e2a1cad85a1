package sqs

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	"github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/aws/smithy-go"

	"github.com/ccc-enricher/ccc-enricher/internal/config"
	"github.com/ccc-enricher/ccc-enricher/internal/retry"
	"github.com/ccc-enricher/ccc-enricher/internal/sink"
	"github.com/ccc-enricher/ccc-enricher/internal/sink/sinktest"
	"github.com/ccc-enricher/ccc-enricher/internal/testenv"
)

// countingTransport counts the HTTP requests the SDK makes.
type countingTransport struct {
	n atomic.Int32
}

func (c *countingTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	c.n.Add(1)
	return http.DefaultTransport.RoundTrip(r)
}

func testAWSConfig(endpoint string, rt http.RoundTripper) aws.Config {
	return aws.Config{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		HTTPClient:   &http.Client{Transport: rt},
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKIDTEST", SecretAccessKey: "test-secret"}, nil
		}),
	}
}

// moto is a moto_server with an admin client.
type moto struct {
	endpoint string
	awsCfg   aws.Config
	admin    *sqs.Client
}

func newMoto(t *testing.T) *moto {
	endpoint := testenv.StartMoto(t)
	awsCfg := testAWSConfig(endpoint, http.DefaultTransport)
	return &moto{endpoint: endpoint, awsCfg: awsCfg, admin: sqs.NewFromConfig(awsCfg)}
}

func (mo *moto) createQueue(t *testing.T, name string) string {
	t.Helper()
	in := &sqs.CreateQueueInput{QueueName: aws.String(name)}
	if strings.HasSuffix(name, ".fifo") {
		in.Attributes = map[string]string{"FifoQueue": "true"}
	}
	out, err := mo.admin.CreateQueue(t.Context(), in)
	if err != nil {
		t.Fatalf("create queue %s: %v", name, err)
	}
	return *out.QueueUrl
}

// receiveAll drains a queue, deleting what it reads.
func (mo *moto) receiveAll(t *testing.T, url string) []types.Message {
	t.Helper()
	ctx := t.Context()
	var all []types.Message
	for {
		out, err := mo.admin.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{
			QueueUrl:                    aws.String(url),
			MaxNumberOfMessages:         10,
			MessageAttributeNames:       []string{"All"},
			MessageSystemAttributeNames: []types.MessageSystemAttributeName{types.MessageSystemAttributeNameAll},
		})
		if err != nil {
			t.Fatalf("receive: %v", err)
		}
		if len(out.Messages) == 0 {
			return all
		}
		for _, m := range out.Messages {
			if _, err := mo.admin.DeleteMessage(ctx, &sqs.DeleteMessageInput{QueueUrl: aws.String(url), ReceiptHandle: m.ReceiptHandle}); err != nil {
				t.Fatalf("delete: %v", err)
			}
		}
		all = append(all, out.Messages...)
	}
}

func attr(m types.Message, name string) string {
	if v, ok := m.MessageAttributes[name]; ok && v.StringValue != nil && aws.ToString(v.DataType) == "String" {
		return *v.StringValue
	}
	return ""
}

func newTestSQS(t *testing.T, queueURL string, awsCfg aws.Config) *SQS {
	t.Helper()
	s, err := New(config.SQS{QueueURL: queueURL}, awsCfg)
	if err != nil {
		t.Fatal(err)
	}
	s.policy = sinktest.Policy
	return s
}

func TestConformance(t *testing.T) {
	mo := newMoto(t)
	queues := 0
	sinktest.Run(t, sinktest.Harness{
		Working: func(t *testing.T) (sink.Sink, func(*testing.T) []sinktest.Delivery) {
			queues++
			url := mo.createQueue(t, fmt.Sprintf("conformance-%d", queues))
			return newTestSQS(t, url, mo.awsCfg), func(t *testing.T) []sinktest.Delivery {
				var out []sinktest.Delivery
				for _, m := range mo.receiveAll(t, url) {
					out = append(out, sinktest.Delivery{
						ID: attr(m, sink.AttrRecordID), SchemaVersion: attr(m, sink.AttrSchemaVersion), Body: []byte(aws.ToString(m.Body)),
					})
				}
				return out
			}
		},
		Refusing: func(t *testing.T) sink.Sink {
			return newTestSQS(t, mo.endpoint+"/123456789012/no-such-queue", mo.awsCfg)
		},
		Failing: func(t *testing.T) sink.Sink {
			closed := "http://" + sinktest.Closed(t)
			return newTestSQS(t, closed+"/123456789012/records", testAWSConfig(closed, http.DefaultTransport))
		},
		Hanging: func(t *testing.T) sink.Sink {
			hole := "http://" + sinktest.Blackhole(t)
			return newTestSQS(t, hole+"/123456789012/records", testAWSConfig(hole, http.DefaultTransport))
		},
		Secrets: []string{"test-secret"},
	})
}

func TestSQSMoto(t *testing.T) {
	mo := newMoto(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	endpoint, awsCfg := mo.endpoint, mo.awsCfg

	t.Run("standard queue", func(t *testing.T) {
		url := mo.createQueue(t, "records")
		s := newTestSQS(t, url, awsCfg)
		m := sinktest.Message()
		m.Attributes = map[string]string{sink.AttrDeadLetterFrom: "webhook", sink.AttrDeadLetterReason: `webhook example.com: HTTP 410: "gone"`}
		if err := s.Send(ctx, m); err != nil {
			t.Fatalf("Send: %v", err)
		}
		got := mo.receiveAll(t, url)
		if len(got) != 1 {
			t.Fatalf("received %d messages, want 1", len(got))
		}
		if aws.ToString(got[0].Body) != string(m.Body) {
			t.Errorf("body changed:\n%s", aws.ToString(got[0].Body))
		}
		for name, want := range map[string]string{
			sink.AttrRecordID:         m.ID,
			sink.AttrSchemaVersion:    m.SchemaVersion,
			sink.AttrDeadLetterFrom:   "webhook",
			sink.AttrDeadLetterReason: `webhook example.com: HTTP 410: "gone"`,
		} {
			if got := attr(got[0], name); got != want {
				t.Errorf("attribute %s = %q, want %q", name, got, want)
			}
		}
	})

	t.Run("FIFO queue deduplicates by record id", func(t *testing.T) {
		url := mo.createQueue(t, "records.fifo")
		s := newTestSQS(t, url, awsCfg)
		first := sinktest.Message()
		second := first
		second.ID = "cer_ffffffffffffffffffffffffffffffff"
		for _, m := range []sink.Message{first, first, second, first} {
			if err := s.Send(ctx, m); err != nil {
				t.Fatalf("Send %s: %v", m.ID, err)
			}
		}
		got := mo.receiveAll(t, url)
		var ids []string
		for _, g := range got {
			ids = append(ids, attr(g, sink.AttrRecordID))
			if g := g.Attributes[string(types.MessageSystemAttributeNameMessageGroupId)]; g != first.Group {
				t.Errorf("MessageGroupId = %q, want %q", g, first.Group)
			}
		}
		if got, want := strings.Join(ids, ","), first.ID+","+second.ID; got != want {
			t.Errorf("received %s, want %s", got, want)
		}
		if len(got) > 0 && got[0].Attributes[string(types.MessageSystemAttributeNameMessageDeduplicationId)] != first.ID {
			t.Errorf("MessageDeduplicationId = %q", got[0].Attributes[string(types.MessageSystemAttributeNameMessageDeduplicationId)])
		}
	})

	t.Run("missing queue is permanent after one request", func(t *testing.T) {
		ct := &countingTransport{}
		s := newTestSQS(t, endpoint+"/123456789012/no-such-queue", testAWSConfig(endpoint, ct))
		err := s.Send(ctx, sinktest.Message())
		if !retry.IsPermanent(err) {
			t.Fatalf("Send = %v, want permanent", err)
		}
		if n := ct.n.Load(); n != 1 {
			t.Errorf("%d requests, want 1", n)
		}
		if strings.Contains(err.Error(), "test-secret") {
			t.Errorf("error %q reveals the secret key", err)
		}
	})
}

// TestSQSRetries runs against a stand-in that answers with SQS's JSON
// protocol errors, to count attempts: retries happen in Send alone, not
// also in the SDK.
func TestSQSRetries(t *testing.T) {
	tests := []struct {
		name         string
		status       int
		code         string
		wantAttempts int32
		permanent    bool
	}{
		{"internal error", 500, "InternalError", 5, false},
		{"unavailable", 503, "ServiceUnavailable", 5, false},
		{"throttled", 400, "ThrottlingException", 5, false},
		{"request throttled", 403, "RequestThrottled", 5, false},
		{"kms throttled", 400, "KmsThrottled", 5, false},
		{"invalid parameter", 400, "InvalidParameterValue", 1, true},
		{"access denied", 403, "AccessDenied", 1, true},
		{"queue does not exist", 400, "AWS.SimpleQueueService.NonExistentQueue", 1, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var attempts atomic.Int32
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				attempts.Add(1)
				w.Header().Set("Content-Type", "application/x-amz-json-1.0")
				w.Header().Set("x-amzn-query-error", tt.code+";Sender")
				w.WriteHeader(tt.status)
				fmt.Fprintf(w, `{"__type":"com.amazonaws.sqs#%s","message":"stand-in"}`, tt.code)
			}))
			defer srv.Close()
			s := newTestSQS(t, srv.URL+"/123456789012/records", testAWSConfig(srv.URL, http.DefaultTransport))
			err := s.Send(context.Background(), sinktest.Message())
			if err == nil || retry.IsPermanent(err) != tt.permanent {
				t.Fatalf("Send = %v, want permanent=%v", err, tt.permanent)
			}
			if n := attempts.Load(); n != tt.wantAttempts {
				t.Errorf("%d requests, want %d", n, tt.wantAttempts)
			}
			if ae, ok := errors.AsType[smithy.APIError](err); !ok || ae.ErrorCode() == "" {
				t.Errorf("error %v does not carry the API error", err)
			}
		})
	}
}

func TestSQSRejectsBeforeSending(t *testing.T) {
	var attempts atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		attempts.Add(1)
		w.WriteHeader(http.StatusInternalServerError)
	}))
	defer srv.Close()
	fifo := newTestSQS(t, srv.URL+"/123456789012/records.fifo", testAWSConfig(srv.URL, http.DefaultTransport))
	tests := []struct {
		name string
		edit func(*sink.Message)
	}{
		{"FIFO message without group", func(m *sink.Message) { m.Group = "" }},
		{"FIFO group with space", func(m *sink.Message) { m.Group = "14 00" }},
		{"record id too long for deduplication", func(m *sink.Message) { m.ID = strings.Repeat("a", 129) }},
		{"record id with space", func(m *sink.Message) { m.ID = "cer x" }},
	}
	for _, tt := range tests {
		m := sinktest.Message()
		tt.edit(&m)
		if err := fifo.Send(context.Background(), m); !retry.IsPermanent(err) {
			t.Errorf("%s: Send = %v, want permanent", tt.name, err)
		}
	}
	if n := attempts.Load(); n != 0 {
		t.Errorf("%d requests sent for invalid messages", n)
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		name, url, region string
		wantErr           string
		wantRegion        string
	}{
		{"aws url", "https://sqs.eu-west-1.amazonaws.com/123456789012/records", "us-east-1", "", "eu-west-1"},
		{"china url", "https://sqs.cn-north-1.amazonaws.com.cn/123456789012/records", "", "", "cn-north-1"},
		{"region from config", "http://127.0.0.1:4566/123456789012/records", "us-east-1", "", "us-east-1"},
		{"no region", "http://127.0.0.1:4566/123456789012/records", "", "no AWS region", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := New(config.SQS{QueueURL: tt.url}, aws.Config{Region: tt.region})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("New = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got := s.client.Options().Region; got != tt.wantRegion {
				t.Errorf("region %q, want %q", got, tt.wantRegion)
			}
		})
	}
}
