// Package cmq is the destination that sends each record to a TDMQ for CMQ
// queue, through the Tencent Cloud API client of package tcloud.
package cmq

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"

	"github.com/ccc-enricher/ccc-enricher/internal/config"
	"github.com/ccc-enricher/ccc-enricher/internal/retry"
	"github.com/ccc-enricher/ccc-enricher/internal/sink"
	"github.com/ccc-enricher/ccc-enricher/internal/tcloud"
)

// TDMQ for CMQ's API: product tdmq, version 2020-02-17.
const (
	cmqService = "tdmq"
	cmqVersion = "2020-02-17"
)

// CMQ sends each record to a TDMQ for CMQ queue with SendCmqMsg.
//
// SendCmqMsg carries a message body and a delay, and no attributes: the
// record id and schema version travel inside the body, which is the record
// JSON and holds both, so consumers deduplicate by the record's id. The
// extra attributes of a Message (the dead-letter ones) cannot travel and are
// dropped. A retry after a lost reply can deliver a record twice, as with
// any queue here.
type CMQ struct {
	queue  string
	client *tcloud.Client
	policy retry.Policy
}

// cmqSendRequest and cmqSendResponse are SendCmqMsg's request and Response
// object, as in tencentcloud-sdk-nodejs 4.1.313's tdmq_models.d.ts.
type cmqSendRequest struct {
	QueueName    string `json:"QueueName"`
	MsgContent   string `json:"MsgContent"`
	DelaySeconds int64  `json:"DelaySeconds"`
}

type cmqSendResponse struct {
	Result bool   `json:"Result"`
	MsgId  string `json:"MsgId"`
}

// New returns a CMQ for cfg, as config.Load accepts it, that signs with
// cred. The endpoint defaults to tdmq.tencentcloudapi.com.
func New(cfg config.CMQ, cred common.CredentialIface) (*CMQ, error) {
	if cred == nil {
		return nil, errors.New("cmq: no Tencent Cloud credential")
	}
	c, err := tcloud.NewClient(cmqService, cmqVersion, tcloud.Config{
		Endpoint: cfg.Endpoint,
		Region:   cfg.Region,
		Timeout:  sink.AttemptTimeout,
	}, cred)
	if err != nil {
		return nil, fmt.Errorf("cmq: %w", err)
	}
	return &CMQ{queue: cfg.Queue, client: c, policy: retry.Default}, nil
}

// Name returns "cmq".
func (q *CMQ) Name() string { return config.KindCMQ }

// Send sends m's body, compacted, to the queue, retrying transient failures
// (throttling, internal errors, network failures, 5xx) within ctx. A body
// that is not JSON, a refused credential or a queue that does not exist
// are permanent errors.
func (q *CMQ) Send(ctx context.Context, m sink.Message) error {
	if err := m.Validate(); err != nil {
		return fmt.Errorf("cmq: %w", err)
	}
	var body bytes.Buffer
	if err := json.Compact(&body, m.Body); err != nil {
		return retry.Permanent(fmt.Errorf("cmq: record %s: body is not JSON: %w", m.ID, err))
	}
	req := cmqSendRequest{QueueName: q.queue, MsgContent: body.String()}
	err := retry.Do(ctx, q.policy, func(ctx context.Context) error {
		var resp cmqSendResponse
		if err := q.client.Call(ctx, "SendCmqMsg", req, &resp); err != nil {
			return err
		}
		if !resp.Result {
			return errors.New("SendCmqMsg: the queue did not accept the message (Result false)")
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("cmq: record %s to queue %s: %w", m.ID, q.queue, err)
	}
	return nil
}
