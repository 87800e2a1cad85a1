package archive

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"time"

	"github.com/ccc-enricher/ccc-enricher/internal/sink"
)

// Records is the records archive: a destination that writes each record
// as <prefix>records/dt=<yyyy-mm-dd>/<id>.json, where a table in Athena or
// Data Lake Compute reads it, and the ledger reconciliation consults
// before paying for a detail call. A record delivered again overwrites
// itself: the key is its id and its call's day.
type Records struct {
	Store Store
	Keys  Keys
}

// Name is "archive".
func (r *Records) Name() string { return "archive" }

// Send writes m at its record's key.
func (r *Records) Send(ctx context.Context, m sink.Message) error {
	if err := m.Validate(); err != nil {
		return err
	}
	key := r.Keys.Record(RecordDay(m.Body), m.ID)
	o := Object{ContentType: "application/json", Meta: map[string]string{MetaRecordID: m.ID, MetaSession: m.Key}}
	if err := r.Store.Put(ctx, key, bytes.NewReader(m.Body), int64(len(m.Body)), o); err != nil {
		return storeError(r.Store, "put", key, err)
	}
	return nil
}

// Delivered reports whether the record id of a call that started at start
// is in the archive.
func (r *Records) Delivered(ctx context.Context, id string, start time.Time) (bool, error) {
	key := r.Keys.Record(start, id)
	_, ok, err := r.Store.Stat(ctx, key)
	if err != nil {
		return false, storeError(r.Store, "stat", key, err)
	}
	return ok, nil
}

// RecordDay is the day a record is filed under: its call's start (the
// detail's StartTimeStamp, else the push's StartTimestamp or Timestamp),
// else when it was received. The call's start is what reconciliation
// knows, so it finds the record where the push put it.
func RecordDay(body []byte) time.Time {
	var rec struct {
		Push struct {
			StartTimestamp int64
			Timestamp      int64
		} `json:"push"`
		Detail struct {
			StartTimeStamp int64
		} `json:"detail"`
		Meta struct {
			ReceivedAt time.Time `json:"receivedAt"`
		} `json:"meta"`
	}
	// A field of another type than documented is skipped, not fatal: CCC's
	// pushes are read tolerantly.
	if err := json.Unmarshal(body, &rec); err != nil {
		var te *json.UnmarshalTypeError
		if !errors.As(err, &te) {
			return time.Time{}
		}
	}
	for _, ts := range []int64{rec.Detail.StartTimeStamp, rec.Push.StartTimestamp, rec.Push.Timestamp} {
		if ts > 0 {
			return time.Unix(ts, 0).UTC()
		}
	}
	return rec.Meta.ReceivedAt.UTC()
}
