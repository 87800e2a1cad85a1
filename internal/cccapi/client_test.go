package cccapi

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/ccc-enricher/ccc-enricher/internal/ccc"

	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"

	"github.com/ccc-enricher/ccc-enricher/internal/retry"
	"github.com/ccc-enricher/ccc-enricher/internal/tcemu"
	"github.com/ccc-enricher/ccc-enricher/internal/tcloud"
)

const (
	testID  = "AKIDccc-enricher-test"
	testKey = "test-secret-key"
)

// fast retries, so that the tests spend their time on the limiter only.
var fast = retry.Policy{Attempts: 5, Base: time.Millisecond, Max: 5 * time.Millisecond}

type fixture struct {
	emu    *tcemu.Server
	url    string
	sample tcemu.Sample
	query  ccc.SessionQuery
}

// newFixture starts an emulator on loopback with the sample sessions.
func newFixture(t *testing.T, o tcemu.Options) *fixture {
	t.Helper()
	if o.SecretID == "" {
		o.SecretID, o.SecretKey = testID, testKey
	}
	emu := tcemu.New(o)
	srv := httptest.NewServer(emu)
	t.Cleanup(srv.Close)
	s, err := tcemu.LoadSamples(emu, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{emu: emu, url: srv.URL, sample: s, query: queryOf(t, s)}
}

// queryOf reads the call's times from its CDR push, as the handler does.
func queryOf(t *testing.T, s tcemu.Sample) ccc.SessionQuery {
	t.Helper()
	var push struct{ StartTimestamp, EndedTimestamp int64 }
	if err := json.Unmarshal(s.CDRPush, &push); err != nil {
		t.Fatal(err)
	}
	return ccc.SessionQuery{SdkAppID: s.SdkAppID, SessionID: s.SessionID, Start: push.StartTimestamp, End: push.EndedTimestamp}
}

func (f *fixture) client(t *testing.T, cred common.CredentialIface, timeout time.Duration, o Options) *Client {
	t.Helper()
	if cred == nil {
		cred = tcloud.StaticCredential(testID, testKey, "")
	}
	tc, err := tcloud.NewClient(Service, Version, tcloud.Config{Endpoint: f.url, Timeout: timeout}, cred)
	if err != nil {
		t.Fatal(err)
	}
	if o.Retry == (retry.Policy{}) {
		o.Retry = fast
	}
	return New(tc, o)
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestDescribeSessionDetail(t *testing.T) {
	f := newFixture(t, tcemu.Options{})
	c := f.client(t, nil, 0, Options{})
	d, err := c.DescribeSessionDetail(testContext(t), f.query)
	if err != nil {
		t.Fatal(err)
	}
	if d.RequestID == "" {
		t.Error("no RequestID")
	}
	// Field for field what the emulator holds, less RequestId, plus the
	// two documented fields the sample lacks.
	var want map[string]any
	if err := json.Unmarshal(f.sample.Detail, &want); err != nil {
		t.Fatal(err)
	}
	delete(want, "RequestId")
	for k, v := range map[string]any{"SysHangupReason": 0.0, "SysHangupReasonString": ""} {
		if _, ok := want[k]; !ok {
			want[k] = v
		}
	}
	wantJSON, _ := json.Marshal(want)
	got, _ := json.Marshal(d)
	assertSameJSON(t, got, wantJSON)
	if n := f.emu.Calls("DescribeSessionDetail"); n != 1 {
		t.Errorf("%d calls, want 1", n)
	}
}

func TestDescribeSessionDetailRetries(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(f *fixture)
		timeout time.Duration // of one attempt
		calls   int
	}{
		{name: "rate limited", setup: func(f *fixture) {
			f.emu.Inject("DescribeSessionDetail", tcemu.Fault{Code: "RequestLimitExceeded"})
		}, calls: 2},
		{name: "not yet known", setup: func(f *fixture) { f.emu.HideSession(f.query.SessionID, 2) }, calls: 3},
		{name: "gateway 502", setup: func(f *fixture) { f.emu.Inject("DescribeSessionDetail", tcemu.Fault{Status: 502}) }, calls: 2},
		{name: "internal error", setup: func(f *fixture) {
			f.emu.Inject("DescribeSessionDetail", tcemu.Fault{Code: "InternalError.DBError"}, tcemu.Fault{Code: "ResourceUnavailable"})
		}, calls: 3},
		{name: "slow reply past the attempt's timeout", setup: func(f *fixture) {
			f.emu.Inject("DescribeSessionDetail", tcemu.Fault{Delay: time.Minute})
		}, timeout: 200 * time.Millisecond, calls: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, tcemu.Options{})
			tt.setup(f)
			c := f.client(t, nil, tt.timeout, Options{})
			d, err := c.DescribeSessionDetail(testContext(t), f.query)
			if err != nil {
				t.Fatal(err)
			}
			if d.Caller != "00860755xxxxxxxx" {
				t.Errorf("Caller = %q", d.Caller)
			}
			if n := f.emu.Calls("DescribeSessionDetail"); n != tt.calls {
				t.Errorf("%d calls, want %d", n, tt.calls)
			}
		})
	}
}

func TestDescribeSessionDetailFails(t *testing.T) {
	tests := []struct {
		name      string
		setup     func(f *fixture)
		cred      common.CredentialIface
		o         Options
		query     func(q ccc.SessionQuery) ccc.SessionQuery
		permanent bool
		code      string
		notFound  bool
		calls     int
	}{
		{name: "unknown secret id", cred: tcloud.StaticCredential("AKIDwrong", testKey, ""),
			permanent: true, code: "AuthFailure.SecretIdNotFound"},
		{name: "wrong key", cred: tcloud.StaticCredential(testID, "wrong", ""),
			permanent: true, code: "AuthFailure.SignatureFailure"},
		{name: "invalid parameter value", setup: func(f *fixture) {
			f.emu.Inject("DescribeSessionDetail", tcemu.Fault{Code: "InvalidParameterValue"})
		}, permanent: true, code: "InvalidParameterValue", calls: 1},
		{name: "not found after the grace", setup: func(f *fixture) { f.emu.HideSession(f.query.SessionID, 1) },
			o: Options{SessionGrace: time.Second}, permanent: true, code: "FailedOperation.SessionNotExists", notFound: true, calls: 1},
		{name: "unknown session after the grace", query: func(q ccc.SessionQuery) ccc.SessionQuery { q.SessionID = "nope"; return q },
			o: Options{SessionGrace: time.Second}, permanent: true, notFound: true, calls: 1},
		{name: "not found within the grace, attempts spent", setup: func(f *fixture) { f.emu.HideSession(f.query.SessionID, 10) },
			o: Options{Retry: retry.Policy{Attempts: 3, Base: time.Millisecond}}, code: "FailedOperation.SessionNotExists", calls: 3},
		{name: "always 502", setup: func(f *fixture) {
			f.emu.SetFaults(func(string) *tcemu.Fault { return &tcemu.Fault{Status: 502} })
		}, calls: 5},
		{name: "no session id", query: func(q ccc.SessionQuery) ccc.SessionQuery { q.SessionID = ""; return q }, permanent: true},
		{name: "too old", query: func(q ccc.SessionQuery) ccc.SessionQuery { q.Start, q.End = 1756892198, 1756892230; return q }, permanent: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			f := newFixture(t, tcemu.Options{})
			if tt.setup != nil {
				tt.setup(f)
			}
			q := f.query
			if tt.query != nil {
				q = tt.query(q)
			}
			c := f.client(t, tt.cred, 0, tt.o)
			d, err := c.DescribeSessionDetail(testContext(t), q)
			if err == nil {
				t.Fatalf("no error, detail %+v", d)
			}
			if got := retry.IsPermanent(err); got != tt.permanent {
				t.Errorf("IsPermanent = %v, want %v: %v", got, tt.permanent, err)
			}
			if tt.code != "" && !tcloud.IsCode(err, tt.code) {
				t.Errorf("err = %v, want %s", err, tt.code)
			}
			if got := errors.Is(err, ErrSessionNotFound); got != tt.notFound {
				t.Errorf("errors.Is(ErrSessionNotFound) = %v, want %v: %v", got, tt.notFound, err)
			}
			if want := "describe session " + q.SessionID + ": "; len(err.Error()) < len(want) || err.Error()[:len(want)] != want {
				t.Errorf("err = %q, want prefix %q", err, want)
			}
			if n := f.emu.Calls("DescribeSessionDetail"); n != tt.calls {
				t.Errorf("%d authenticated calls, want %d", n, tt.calls)
			}
		})
	}
}

// A reply slower than the caller's deadline ends the call at the deadline
// with a transient error that says so.
func TestDescribeSessionDetailDeadline(t *testing.T) {
	f := newFixture(t, tcemu.Options{})
	f.emu.SetFaults(func(string) *tcemu.Fault { return &tcemu.Fault{Delay: time.Minute} })
	c := f.client(t, nil, time.Minute, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	_, err := c.DescribeSessionDetail(ctx, f.query)
	if err == nil || retry.IsPermanent(err) || !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("err = %v; want a transient deadline error", err)
	}
	if n := f.emu.Calls("DescribeSessionDetail"); n != 1 {
		t.Errorf("%d calls, want 1", n)
	}
}

// 60 concurrent calls from one Client stay under the API's 20 requests in
// any rolling second, as the emulator sees them; none is refused for rate.
func TestLimiter(t *testing.T) {
	f := newFixture(t, tcemu.Options{})
	c := f.client(t, nil, 0, Options{})
	ctx := testContext(t)
	var wg sync.WaitGroup
	errs := make(chan error, 60)
	for range 60 {
		wg.Go(func() {
			if _, err := c.DescribeSessionDetail(ctx, f.query); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if r := f.emu.MaxRate("DescribeSessionDetail"); r > DefaultRate {
		t.Errorf("MaxRate = %d, want ≤ %d", r, DefaultRate)
	}
	if n := f.emu.Calls("DescribeSessionDetail"); n != 60 {
		t.Errorf("%d calls, want 60: some were refused for rate", n)
	}
}

// The limiter is shared by all actions of a Client.
func TestLimiterShared(t *testing.T) {
	f := newFixture(t, tcemu.Options{})
	c := f.client(t, nil, 0, Options{Rate: 5})
	ctx := testContext(t)
	from := f.query.Start - 3600
	var wg sync.WaitGroup
	for range 6 {
		wg.Go(func() {
			if _, err := c.DescribeSessionDetail(ctx, f.query); err != nil {
				t.Error(err)
			}
		})
		wg.Go(func() {
			if _, err := c.DescribeTelCdr(ctx, ccc.TelCdrQuery{SdkAppID: f.query.SdkAppID, Start: from, End: f.query.End + 60}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	if r := f.emu.MaxRate("DescribeSessionDetail") + f.emu.MaxRate("DescribeTelCdr"); r > 2*5 {
		t.Errorf("MaxRate sum = %d", r)
	}
}

// SCF rotates its role credential between calls: each call signs with the
// variables as they are then. Two emulators stand for the API before and
// after the rotation, each knowing only its credential.
func TestRotatingCredential(t *testing.T) {
	before := newFixture(t, tcemu.Options{SecretID: "AKIDrole1", SecretKey: "key1", Token: "token1"})
	after := newFixture(t, tcemu.Options{SecretID: "AKIDrole2", SecretKey: "key2", Token: "token2"})
	var current atomic.Pointer[tcemu.Server]
	current.Store(before.emu)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		current.Load().ServeHTTP(w, r)
	}))
	defer front.Close()

	var mu sync.Mutex
	env := map[string]string{"TENCENTCLOUD_SECRETID": "AKIDrole1", "TENCENTCLOUD_SECRETKEY": "key1", "TENCENTCLOUD_SESSIONTOKEN": "token1"}
	cred, err := tcloud.NewCredential(tcloud.Credentials{Rotating: func() tcloud.Keys {
		mu.Lock()
		defer mu.Unlock()
		return tcloud.Keys{ID: env["TENCENTCLOUD_SECRETID"], Key: env["TENCENTCLOUD_SECRETKEY"], Token: env["TENCENTCLOUD_SESSIONTOKEN"]}
	}})
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{url: front.URL}
	c := f.client(t, cred, 0, Options{})
	ctx := testContext(t)

	if _, err := c.DescribeSessionDetail(ctx, before.query); err != nil {
		t.Fatalf("before rotation: %v", err)
	}
	mu.Lock()
	env["TENCENTCLOUD_SECRETID"], env["TENCENTCLOUD_SECRETKEY"], env["TENCENTCLOUD_SESSIONTOKEN"] = "AKIDrole2", "key2", "token2"
	mu.Unlock()
	current.Store(after.emu)
	if _, err := c.DescribeSessionDetail(ctx, after.query); err != nil {
		t.Fatalf("after rotation: %v", err)
	}
	if before.emu.Calls("DescribeSessionDetail") != 1 || after.emu.Calls("DescribeSessionDetail") != 1 {
		t.Errorf("calls: before %d, after %d; want 1 and 1 (no failed attempt)",
			before.emu.Calls("DescribeSessionDetail"), after.emu.Calls("DescribeSessionDetail"))
	}
}

func (f *fixture) cdrQuery() ccc.TelCdrQuery {
	return ccc.TelCdrQuery{SdkAppID: f.query.SdkAppID, Start: f.query.Start - 86400, End: f.query.End + 60}
}

func TestListTelCdr(t *testing.T) {
	f := newFixture(t, tcemu.Options{})
	c := f.client(t, nil, 0, Options{})
	ctx := testContext(t)
	q := f.cdrQuery()
	q.PageSize = 1

	var got []ccc.TelCdrInfo
	if err := c.ListTelCdr(ctx, q, func(cdr ccc.TelCdrInfo) error { got = append(got, cdr); return nil }); err != nil {
		t.Fatal(err)
	}
	ids := []string{f.sample.SessionID}
	for _, o := range f.sample.Others {
		ids = append(ids, o.SessionID)
	}
	var gotIDs []string
	for _, cdr := range got {
		gotIDs = append(gotIDs, cdr.SessionId)
	}
	slices.Sort(ids)
	slices.Sort(gotIDs)
	if len(ids) != 3 || !slices.Equal(gotIDs, ids) {
		t.Errorf("sessions %v, want %v", gotIDs, ids)
	}
	if n := f.emu.Calls("DescribeTelCdr"); n != 3 {
		t.Errorf("%d pages asked, want 3", n)
	}
	for _, cdr := range got {
		if cdr.SessionId == f.sample.SessionID && (cdr.EndStatus != 1 || cdr.SeatUser.Mail != "foo@tencent.com" || cdr.StartTimestamp != f.query.Start) {
			t.Errorf("documented session's CDR: %+v", cdr)
		}
	}

	// A page of 100 holds all three: one call.
	q.PageSize = 0
	n := 0
	if err := c.ListTelCdr(ctx, q, func(ccc.TelCdrInfo) error { n++; return nil }); err != nil || n != 3 {
		t.Errorf("one page: %d records, %v", n, err)
	}
	if n := f.emu.Calls("DescribeTelCdr"); n != 4 {
		t.Errorf("%d pages asked in all, want 4", n)
	}
}

func TestListTelCdrStops(t *testing.T) {
	f := newFixture(t, tcemu.Options{})
	c := f.client(t, nil, 0, Options{})
	q := f.cdrQuery()
	q.PageSize = 1
	stop := errors.New("enough")
	n := 0
	err := c.ListTelCdr(testContext(t), q, func(ccc.TelCdrInfo) error {
		n++
		if n == 2 {
			return stop
		}
		return nil
	})
	if err != stop || n != 2 {
		t.Errorf("err = %v after %d records; want the callback's error after 2", err, n)
	}
	if n := f.emu.Calls("DescribeTelCdr"); n != 2 {
		t.Errorf("%d pages asked, want 2", n)
	}

	// A failing page ends the walk with its error, after retries.
	f.emu.SetFaults(func(string) *tcemu.Fault { return &tcemu.Fault{Code: "InternalError"} })
	err = c.ListTelCdr(testContext(t), q, func(ccc.TelCdrInfo) error { return nil })
	if !tcloud.IsCode(err, "InternalError") || retry.IsPermanent(err) {
		t.Errorf("err = %v; want a transient InternalError", err)
	}
}

func TestDescribeTelCdrRejects(t *testing.T) {
	f := newFixture(t, tcemu.Options{})
	c := f.client(t, nil, 0, Options{})
	now := time.Now().Unix()
	base := f.cdrQuery()
	tests := []struct {
		name string
		q    func(q ccc.TelCdrQuery) ccc.TelCdrQuery
	}{
		{"page too large", func(q ccc.TelCdrQuery) ccc.TelCdrQuery { q.PageSize = 101; return q }},
		{"negative page size", func(q ccc.TelCdrQuery) ccc.TelCdrQuery { q.PageSize = -1; return q }},
		{"negative page", func(q ccc.TelCdrQuery) ccc.TelCdrQuery { q.PageNumber = -1; return q }},
		{"no app", func(q ccc.TelCdrQuery) ccc.TelCdrQuery { q.SdkAppID = 0; return q }},
		{"too old", func(q ccc.TelCdrQuery) ccc.TelCdrQuery { q.Start, q.End = now-181*86400, now-180*86400; return q }},
		{"too long", func(q ccc.TelCdrQuery) ccc.TelCdrQuery { q.Start, q.End = now-90*86400, now; return q }},
		{"reversed", func(q ccc.TelCdrQuery) ccc.TelCdrQuery { q.Start, q.End = q.End, q.Start; return q }},
	}
	for _, tt := range tests {
		_, err := c.DescribeTelCdr(testContext(t), tt.q(base))
		if err == nil || !retry.IsPermanent(err) {
			t.Errorf("%s: err = %v; want permanent", tt.name, err)
		}
	}
	if n := f.emu.Calls("DescribeTelCdr"); n != 0 {
		t.Errorf("%d calls, want none", n)
	}
	// Filters reach the API.
	q := base
	q.SessionIDs = []string{f.sample.SessionID}
	p, err := c.DescribeTelCdr(testContext(t), q)
	if err != nil || p.TotalCount != 1 || len(p.TelCdrList) != 1 || p.TelCdrList[0].SessionId != f.sample.SessionID || p.RequestID == "" {
		t.Errorf("by session id: %+v, %v", p, err)
	}
}

// A caller queued behind another's long wait for the limiter gives up at
// its own deadline. (At 0.001 requests per second the next slot is 18
// minutes away: a wait not bounded by the context would hang the test.)
func TestLimiterHonoursDeadline(t *testing.T) {
	f := newFixture(t, tcemu.Options{})
	c := f.client(t, nil, 0, Options{Rate: 0.001})
	if _, err := c.DescribeSessionDetail(testContext(t), f.query); err != nil {
		t.Fatal(err)
	}
	ctxB, cancelB := context.WithCancel(context.Background())
	doneB := make(chan error)
	go func() {
		_, err := c.DescribeSessionDetail(ctxB, f.query)
		doneB <- err
	}()
	ctxC, cancelC := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancelC()
	_, err := c.DescribeSessionDetail(ctxC, f.query)
	if err == nil || retry.IsPermanent(err) {
		t.Errorf("queued caller: err = %v; want a transient error", err)
	}
	cancelB()
	if err := <-doneB; err == nil {
		t.Error("waiting caller succeeded")
	}
	if n := f.emu.Calls("DescribeSessionDetail"); n != 1 {
		t.Errorf("%d calls, want 1", n)
	}
}

func assertSameJSON(t *testing.T, got, want []byte) {
	t.Helper()
	var g, w any
	if json.Unmarshal(got, &g) != nil || json.Unmarshal(want, &w) != nil || !reflect.DeepEqual(g, w) {
		t.Errorf("JSON differs:\n got %s\nwant %s", got, want)
	}
}
