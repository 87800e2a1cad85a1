package scf

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
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
			msgs = append(msgs, queueMessage{name: fmt.Sprintf("cmq %s msgId %s", r.CMQ.TopicName, r.CMQ.MsgID), body: r.CMQ.MsgBody})
		case r.Ckafka != nil && r.CMQ == nil:
			k := r.Ckafka
			msgs = append(msgs, queueMessage{name: fmt.Sprintf("ckafka %s/%d@%d", k.Topic, k.Partition, k.Offset), body: k.MsgBody})
		default:
			return nil, false
		}
	}
	return msgs, true
}

// maxListed bounds the failed messages a RecordsFailed error names.
const maxListed = 5

// runQueue gives each message body to the queue function. Any failure
// fails the invocation, naming the messages that failed.
func (d *dispatcher) runQueue(ctx context.Context, msgs []queueMessage) ([]byte, error) {
	var failed []string
	nfailed := 0
	for _, m := range msgs {
		var err error
		if ctx.Err() != nil {
			err = fmt.Errorf("not attempted: %w", context.Cause(ctx))
		} else {
			err = d.queue(ctx, []byte(m.body))
		}
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
