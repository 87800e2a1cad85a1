package tcemu

import "encoding/json"

// maxMsgSize is the largest message a CMQ queue can be configured to take.
const maxMsgSize = 1 << 20

func (s *Server) sendCmqMsg(p map[string]json.RawMessage) ([]byte, *apiError) {
	var (
		queue, content string
		delay          int64
	)
	if e := decodeParams(p,
		param{"QueueName", true, &queue},
		param{"MsgContent", true, &content},
		param{"DelaySeconds", true, &delay},
	); e != nil {
		return nil, e
	}
	switch {
	case queue == "":
		return nil, errorf("InvalidParameterValue", "QueueName must not be empty.")
	case content == "":
		return nil, errorf("InvalidParameterValue", "MsgContent must not be empty.")
	case len(content) > maxMsgSize:
		return nil, errorf("InvalidParameterValue", "MsgContent exceeds %d bytes.", maxMsgSize)
	case delay < 0 || delay > 1<<31-1:
		return nil, errorf("InvalidParameterValue", "DelaySeconds is out of range.")
	}
	m := CMQMessage{MsgID: newMsgID(), Content: content, DelaySeconds: int(delay)}
	s.mu.Lock()
	s.queues[queue] = append(s.queues[queue], m)
	s.mu.Unlock()
	b, err := marshal(struct {
		Result bool
		MsgId  string
	}{true, m.MsgID})
	if err != nil {
		return nil, internalError(err)
	}
	return b, nil
}

// CMQMessages returns the messages SendCmqMsg accepted for a queue, oldest
// first.
func (s *Server) CMQMessages(queue string) []CMQMessage {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]CMQMessage(nil), s.queues[queue]...)
}
