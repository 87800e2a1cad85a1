package scf

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/ccc-enricher/ccc-enricher/internal/platform"
)

// cmqMessage is the part of a CMQ topic trigger record the queue function
// needs; msgTag, which comes as a string or a list, is not read.
type cmqMessage struct {
	Type      string `json:"type"`
	TopicName string `json:"topicName"`
	MsgID     string `json:"msgId"`
	MsgBody   string `json:"msgBody"`
}

// ckafkaMessage is a CKafka trigger record.
type ckafkaMessage struct {
	Topic     string `json:"topic"`
	Partition int64  `json:"partition"`
	Offset    int64  `json:"offset"`
	MsgKey    string `json:"msgKey"`
	MsgBody   string `json:"msgBody"`
}

// queueMessage is one message of a queue trigger event: its body, and how
// errors and logs name it.
type queueMessage struct {
	name string
	body string
	// source is the topic or queue the message came from.
	source string
}

// queueMessages reads a trigger event's Records; ok is false unless every
// record is a CMQ or a CKafka message.
func queueMessages(records json.RawMessage) (msgs []queueMessage, ok bool) {
	var rs []struct {
		CMQ    *cmqMessage    `json:"CMQ"`
		Ckafka *ckafkaMessage `json:"Ckafka"`
	}
	if json.Unmarshal(records, &rs) != nil || len(rs) == 0 {
		return nil, false
	}
	for _, r := range rs {
		switch {
		case r.CMQ != nil && r.Ckafka == nil:
			msgs = append(msgs, queueMessage{name: fmt.Sprintf("cmq %s msgId %s", r.CMQ.TopicName, r.CMQ.MsgID), body: r.CMQ.MsgBody, source: r.CMQ.TopicName})
		case r.Ckafka != nil && r.CMQ == nil:
			k := r.Ckafka
			msgs = append(msgs, queueMessage{name: fmt.Sprintf("ckafka %s/%d@%d", k.Topic, k.Partition, k.Offset), body: k.MsgBody, source: k.Topic})
		default:
			return nil, false
		}
	}
	return msgs, true
}

// fromIntake reports whether every message comes from the intake topic or
// queue.
func (d *dispatcher) fromIntake(msgs []queueMessage) bool {
	for _, m := range msgs {
		if !d.intake.Takes(m.source) {
			return false
		}
	}
	return len(msgs) > 0
}

// runIntake hands an intake batch to the worker. The triggers tell no
// receive count, so no delivery is Final: the trigger's own retries and
// dead-letter settings bound a message's attempts. Any failure fails the
// invocation, and the trigger delivers the batch again; messages already
// done come back with the same record ids.
func (d *dispatcher) runIntake(ctx context.Context, msgs []queueMessage) ([]byte, error) {
	batch := make([]platform.Delivery, len(msgs))
	for i, m := range msgs {
		batch[i] = platform.Delivery{Body: []byte(m.body)}
	}
	errs := d.intake.Process(ctx, batch)
	return d.report(ctx, msgs, func(i int) error { return errs[i] })
}

// maxListed bounds the failed messages a RecordsFailed error names.
const maxListed = 5

// runQueue gives each message body to the queue function. Any failure
// fails the invocation, naming the messages that failed.
func (d *dispatcher) runQueue(ctx context.Context, msgs []queueMessage) ([]byte, error) {
	return d.report(ctx, msgs, func(i int) error {
		switch {
		case ctx.Err() != nil:
			return fmt.Errorf("not attempted: %w", context.Cause(ctx))
		case d.queue == nil:
			return errors.New("not attempted: no queue function for this topic or queue")
		}
		return d.queue(ctx, []byte(msgs[i].body))
	})
}

// report runs each message's outcome in turn; any failure fails the
// invocation, naming the messages that failed.
func (d *dispatcher) report(ctx context.Context, msgs []queueMessage, outcome func(i int) error) ([]byte, error) {
	var failed []string
	nfailed := 0
	for i, m := range msgs {
		err := outcome(i)
		if err == nil {
			continue
		}
		d.log.WarnContext(ctx, "queue message failed", "request_id", RequestID(ctx), "message", m.name, "error", err.Error())
		if nfailed++; nfailed <= maxListed {
			failed = append(failed, m.name+": "+err.Error())
		}
	}
	if nfailed == 0 {
		return json.Marshal(struct {
			Records int `json:"records"`
		}{len(msgs)})
	}
	if nfailed > maxListed {
		failed = append(failed, "…")
	}
	return nil, &eventError{kind: "RecordsFailed",
		err: fmt.Errorf("%d of %d messages failed: %s", nfailed, len(msgs), strings.Join(failed, "; "))}
}
