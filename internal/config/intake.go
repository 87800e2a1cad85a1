package config

import (
	"net/url"
	"path"
)

// Intake configures queued intake (package intake): the queue the push
// route writes pushes to and the workers that take them off it.
type Intake struct {
	// Queue is the intake queue, INTAKE=sqs|kafka|cmq and the INTAKE_-
	// prefixed sink variables (INTAKE_SQS_QUEUE_URL, INTAKE_KAFKA_*,
	// INTAKE_CMQ_*). Kind "" turns queued intake off.
	Queue Sink
	// KafkaGroup is the workers' consumer group (INTAKE_KAFKA_GROUP).
	KafkaGroup string
	// Concurrency is how many messages one worker process has in flight
	// (WORKER_CONCURRENCY).
	Concurrency int
	// MaxReceives is how many receives of a message before it counts as
	// final (INTAKE_MAX_RECEIVES): the queue's redrive policy
	// (maxReceiveCount) should say the same.
	MaxReceives int
}

// QueueName is the name a queue event gives the intake queue as its
// source: the SQS queue's name (the last part of its URL and ARN), the
// Kafka topic, or the CMQ queue; "" when intake is off.
func (i Intake) QueueName() string {
	switch i.Queue.Kind {
	case KindSQS:
		u, err := url.Parse(i.Queue.SQS.QueueURL)
		if err != nil {
			return ""
		}
		return path.Base(u.Path)
	case KindKafka:
		return i.Queue.Kafka.Topic
	case KindCMQ:
		return i.Queue.CMQ.Queue
	}
	return ""
}

func (r *reader) intake() Intake {
	i := Intake{
		Queue:       r.destination("INTAKE_", "INTAKE", KindSQS, KindKafka, KindCMQ),
		KafkaGroup:  r.str("INTAKE_KAFKA_GROUP"),
		Concurrency: r.int("WORKER_CONCURRENCY", 4, 1, 256),
		MaxReceives: r.int("INTAKE_MAX_RECEIVES", 5, 1, 1000),
	}
	if i.KafkaGroup == "" {
		i.KafkaGroup = "ccc-enricher"
	}
	return i
}
