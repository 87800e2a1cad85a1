// Package cccapi calls Tencent Cloud Contact Center (CCC, API 3.0, version
// 2020-02-10) for what ccc-enricher needs: DescribeSessionDetail for the
// details of one finished call, and DescribeTelCdr for reconciliation and
// backfill. It signs with tencentcloud-sdk-go (through package tcloud),
// keeps to the API's rate limit and retries what can be retried within the
// caller's deadline. The models and query windows are package ccc's.
package cccapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"golang.org/x/time/rate"

	"github.com/ccc-enricher/ccc-enricher/internal/ccc"
	"github.com/ccc-enricher/ccc-enricher/internal/metrics"
	"github.com/ccc-enricher/ccc-enricher/internal/retry"
	"github.com/ccc-enricher/ccc-enricher/internal/tcloud"
)

// Service and Version name the API for tcloud.NewClient.
const (
	Service = "ccc"
	Version = "2020-02-10"
)

// Defaults of Options.
const (
	// DefaultRate is DescribeSessionDetail's documented limit, requests per
	// second.
	DefaultRate = 20
	// DefaultSessionGrace is how long after a call's end CCC may still
	// answer that it does not know the session.
	DefaultSessionGrace = 2 * time.Minute
)

// ErrSessionNotFound is wrapped by DescribeSessionDetail's error when CCC
// still does not know the session once SessionGrace has passed since the
// call's end. The error is retry.Permanent.
var ErrSessionNotFound = errors.New("session not found")

// Options configures a Client. The zero value means the defaults.
type Options struct {
	// Rate is the API's request limit per second, shared by all actions of
	// the Client; zero means DefaultRate.
	Rate float64
	// SessionGrace is how long after the call's end
	// FailedOperation.SessionNotExists is still retried; zero means
	// DefaultSessionGrace.
	SessionGrace time.Duration
	// Retry bounds the attempts of one call; the zero value means
	// retry.Default. The context's deadline bounds them in any case.
	Retry retry.Policy
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

// Client calls CCC. It is safe for concurrent use, and meant to be shared:
// its limiter keeps all calls of the process under the API's rate.
type Client struct {
	tc      *tcloud.Client
	limiter *rate.Limiter
	// queue lets one caller at a time wait for the limiter; see wait.
	queue chan struct{}
	grace time.Duration
	retry retry.Policy
	now   func() time.Time
}

// New returns a Client calling CCC through tc, a tcloud.Client for Service
// and Version.
//
// The limiter spaces requests evenly (burst 1), one caller at a time, 10%
// wider than Rate allows. The API counts the requests that arrive in any
// rolling second, and arrivals jitter around sends: at exactly Rate, about
// every other full second would see one request too many and answer
// RequestLimitExceeded, and a burst would add its size to the count. The
// margin leaves 100 ms a second for that jitter: enough on a loaded
// two-core machine, where 50 ms was not. An even pace costs a single call
// nothing and a flood of calls 1.1/Rate each. The limit is per process: instances of a function do not
// share it, and RequestLimitExceeded, retried after a jittered second,
// covers the rest.
func New(tc *tcloud.Client, o Options) *Client {
	if o.Rate <= 0 {
		o.Rate = DefaultRate
	}
	if o.SessionGrace <= 0 {
		o.SessionGrace = DefaultSessionGrace
	}
	if o.Retry == (retry.Policy{}) {
		o.Retry = retry.Default
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	interval := time.Duration(float64(time.Second) / o.Rate * 1.10)
	return &Client{
		tc:      tc,
		limiter: rate.NewLimiter(rate.Every(interval), 1),
		queue:   make(chan struct{}, 1),
		grace:   o.SessionGrace,
		retry:   o.Retry,
		now:     o.Now,
	}
}

// sessionWait is the least wait after SessionNotExists: the detail lags the
// call-end push by seconds, so quicker retries only spend attempts.
const sessionWait = 500 * time.Millisecond

// DescribeSessionDetail returns the details of one call.
//
// Each attempt waits for the limiter. RequestLimitExceeded, network
// failures, 5xx replies and timeouts are retried; so is
// FailedOperation.SessionNotExists while the call ended less than
// SessionGrace ago, after which the error wraps ErrSessionNotFound and is
// permanent. Retries end with the Retry policy or ctx's deadline,
// whichever comes first; the error then is the last attempt's, transient.
func (c *Client) DescribeSessionDetail(ctx context.Context, q ccc.SessionQuery) (*ccc.SessionDetail, error) {
	d, err := c.describeSessionDetail(ctx, q)
	if err != nil {
		return nil, fmt.Errorf("describe session %s: %w", q.SessionID, err)
	}
	return d, nil
}

func (c *Client) describeSessionDetail(ctx context.Context, q ccc.SessionQuery) (*ccc.SessionDetail, error) {
	if q.SdkAppID <= 0 || q.SessionID == "" {
		return nil, retry.Permanent(errors.New("SdkAppId and SessionId are required"))
	}
	from, to, err := ccc.QueryWindow(q.Start, q.End, c.now())
	if err != nil {
		return nil, err
	}
	req := ccc.DescribeSessionDetailRequest{SdkAppId: q.SdkAppID, SessionId: q.SessionID, StartTimestamp: from, EndTimestamp: to}
	graceEnd := time.Unix(max(q.Start, q.End), 0).Add(c.grace)
	var raw json.RawMessage
	err = c.call(ctx, "DescribeSessionDetail", req, &raw, func(err error) error {
		if !tcloud.IsCode(err, "FailedOperation.SessionNotExists") {
			return err
		}
		if c.now().Before(graceEnd) {
			return retry.After(err, sessionWait*4/5+rand.N(sessionWait*2/5))
		}
		return retry.Permanent(fmt.Errorf("%w: %w", ErrSessionNotFound, err))
	})
	if err != nil {
		return nil, err
	}
	return ccc.DecodeSessionDetail(raw)
}

// DescribeTelCdr returns one page of call records, with the limiter and
// retries of DescribeSessionDetail.
func (c *Client) DescribeTelCdr(ctx context.Context, q ccc.TelCdrQuery) (*ccc.TelCdrPage, error) {
	req, err := q.Request(c.now())
	if err != nil {
		return nil, fmt.Errorf("describe tel cdr: %w", retry.Permanent(err))
	}
	var resp ccc.DescribeTelCdrResponse
	if err := c.call(ctx, "DescribeTelCdr", req, &resp, nil); err != nil {
		return nil, fmt.Errorf("describe tel cdr page %d: %w", req.PageNumber, err)
	}
	p := resp.TelCdrPage
	p.RequestID = resp.RequestId
	return &p, nil
}

// ListTelCdr calls fn with every record q selects, page after page from
// q.PageNumber, and stops at the first error, fn's returned as it is. Calls
// that start while it walks may shift the pages, so a record can come twice
// or, rarely, not at all: reconciliation deduplicates by record id, and
// overlaps its windows.
func (c *Client) ListTelCdr(ctx context.Context, q ccc.TelCdrQuery, fn func(ccc.TelCdrInfo) error) error {
	if q.PageSize == 0 {
		q.PageSize = ccc.MaxPageSize
	}
	for {
		p, err := c.DescribeTelCdr(ctx, q)
		if err != nil {
			return err
		}
		list := p.TelCdrList
		if len(list) == 0 {
			list = p.TelCdrs // older replies fill only the deprecated twin
		}
		for _, cdr := range list {
			if err := fn(cdr); err != nil {
				return err
			}
		}
		seen := int64(q.PageNumber+1) * int64(q.PageSize)
		if len(list) < q.PageSize || seen >= p.TotalCount {
			return nil
		}
		q.PageNumber++
	}
}

// wait waits for the limiter's next slot, one caller at a time. Without
// the queue, each caller would reserve its slot ahead and sleep until it: a
// process short of CPU wakes several late at once and sends them together,
// while the API counts arrivals. Queued, a caller reserves only once the one
// before has woken, so a late wake delays those behind it instead of
// bunching them.
func (c *Client) wait(ctx context.Context) error {
	select {
	case c.queue <- struct{}{}:
	case <-ctx.Done():
		return ctx.Err()
	}
	defer func() { <-c.queue }()
	return c.limiter.Wait(ctx)
}

// call runs one action under the limiter and the retry policy. adjust, when
// set, reclassifies an attempt's error.
func (c *Client) call(ctx context.Context, action string, req, resp any, adjust func(error) error) error {
	var last error
	start, attempts, limited := time.Now(), 0, 0
	defer func() { metrics.FromContext(ctx).CCCCall(action, time.Since(start), attempts, limited) }()
	return retry.Do(ctx, c.retry, func(ctx context.Context) error {
		attempts++
		if err := c.wait(ctx); err != nil {
			// The deadline is too close for another request: the previous
			// attempt's error says more than the limiter's.
			if last != nil {
				return last
			}
			return fmt.Errorf("%s: waiting for the rate limiter: %w", action, err)
		}
		err := c.tc.Call(ctx, action, req, resp)
		if tcloud.IsCode(err, "RequestLimitExceeded") {
			limited++
		}
		if err != nil && adjust != nil {
			err = adjust(err)
		}
		last = err
		return err
	})
}
