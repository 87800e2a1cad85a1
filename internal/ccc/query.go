package ccc

import (
	"errors"
	"fmt"
	"time"
)

// SessionQuery names one call for DescribeSessionDetail.
type SessionQuery struct {
	SdkAppID  int64
	SessionID string
	// Start and End are the call's own times (Unix seconds) as its push
	// tells them; the query window is derived with QueryWindow. Either may
	// be zero when unknown.
	Start, End int64
}

// TelCdrQuery selects call records for DescribeTelCdr.
type TelCdrQuery struct {
	SdkAppID int64
	// Start and End bound the calls' start times, Unix seconds: Start
	// within the last 180 days, End − Start under 90 days.
	Start, End int64
	// PageSize is 1 to 100; zero means 100. PageNumber counts from 0.
	PageSize   int
	PageNumber int
	// Phones and SessionIDs, when set, keep only the matching records.
	Phones     []string
	SessionIDs []string
}

// MaxPageSize is DescribeTelCdr's largest page.
const MaxPageSize = 100

// Request returns the DescribeTelCdr request for q, checked against the
// API's limits as of now.
func (q TelCdrQuery) Request(now time.Time) (DescribeTelCdrRequest, error) {
	size := q.PageSize
	if size == 0 {
		size = MaxPageSize
	}
	switch {
	case q.SdkAppID <= 0:
		return DescribeTelCdrRequest{}, errors.New("SdkAppId is required")
	case size < 1 || size > MaxPageSize:
		return DescribeTelCdrRequest{}, fmt.Errorf("page size %d is not from 1 to %d", size, MaxPageSize)
	case q.PageNumber < 0:
		return DescribeTelCdrRequest{}, fmt.Errorf("page number %d is negative", q.PageNumber)
	}
	if err := checkWindow(q.Start, q.End, now); err != nil {
		return DescribeTelCdrRequest{}, err
	}
	return DescribeTelCdrRequest{
		StartTimeStamp: q.Start,
		EndTimeStamp:   q.End,
		SdkAppId:       q.SdkAppID,
		PageSize:       int64(size),
		PageNumber:     int64(q.PageNumber),
		Phones:         q.Phones,
		SessionIds:     q.SessionIDs,
	}, nil
}
