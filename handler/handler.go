// Package handler is ccc-enricher's core: one http.Handler that serves
// CCC's data push, the OAuth2 token endpoint CCC fetches bearer tokens
// from, on-demand enrichment and a health check.
//
// It knows no cloud runtime. The local server serves it with net/http; the
// SCF and Lambda adapters turn their API Gateway events into requests for
// it. Every reply to CCC is CCC's {"ErrCode":…,"ErrMsg":…} form: ErrCode 0
// only once the record is durably in the sink or the dead-letter sink, and
// a non-zero ErrCode, which makes CCC push again, whenever something
// failed.
package handler

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"path"
	"strings"
	"time"

	"github.com/ccc-enricher/ccc-enricher/internal/enrich"
	"github.com/ccc-enricher/ccc-enricher/internal/intake"
	"github.com/ccc-enricher/ccc-enricher/internal/logging"
	"github.com/ccc-enricher/ccc-enricher/internal/metrics"
	"github.com/ccc-enricher/ccc-enricher/internal/push"
	"github.com/ccc-enricher/ccc-enricher/internal/pushauth"
	"github.com/ccc-enricher/ccc-enricher/internal/record"
	"github.com/ccc-enricher/ccc-enricher/internal/sink"
)

// Options wires the handler. Auth and Enricher are required.
type Options struct {
	// Auth checks every push (none, basic or OAuth2 bearer).
	Auth pushauth.Authenticator
	// TokenEndpoint serves POST /oauth/token; nil when PUSH_AUTH is not
	// oauth2, and the route then answers 404.
	TokenEndpoint http.Handler
	// AllowApp reports whether pushes for a CCC application are accepted.
	AllowApp func(sdkAppID int64) bool
	Enricher *enrich.Enricher
	// Intake, when set, is the queue a push is written to instead of being
	// enriched at once (INTAKE): CCC is answered once the queue has it,
	// and workers enrich it later (package intake).
	Intake sink.Sink
	// DropUnknownKinds answers pushes of an action this program does not
	// know with ErrCode 0 without forwarding them (UNKNOWN_PUSH_KINDS=drop);
	// by default they are forwarded as records of kind unknown.
	DropUnknownKinds bool
	// APIToken authorises on-demand enrichment; empty turns the route off.
	APIToken string
	// MaxBodyBytes caps request bodies; zero means push.MaxBodyBytes.
	MaxBodyBytes int64
	// Timeout bounds a request whose context has no deadline (the local
	// server; the platforms set their own).
	Timeout time.Duration
	Logger  *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

type handler struct {
	Options
	mux *http.ServeMux
}

// New returns the core handler.
func New(o Options) http.Handler {
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = push.MaxBodyBytes
	}
	if o.Logger == nil {
		o.Logger = logging.Discard()
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.AllowApp == nil {
		o.AllowApp = func(int64) bool { return false }
	}
	h := &handler{Options: o, mux: http.NewServeMux()}
	h.mux.HandleFunc("POST /push", h.push)
	h.mux.HandleFunc("POST /oauth/token", h.token)
	h.mux.HandleFunc("POST /sessions/{id}/enrich", h.enrich)
	h.mux.HandleFunc("GET /healthz", h.healthz)
	return h
}

// ServeHTTP adds what every route needs: a request id and logger, a
// deadline, panic recovery, and CCC-form replies for unknown routes.
func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	id := r.Header.Get("X-Request-Id")
	if id == "" || len(id) > 128 {
		id = newID()
	}
	// The recorder and the log attributes live as long as the request: one
	// allocation for both.
	st := &struct {
		rec  recorder
		info requestInfo
	}{rec: recorder{ResponseWriter: w}}
	rec, info := &st.rec, &st.info
	info.attrs = info.buf[:0]
	ctx := context.WithValue(r.Context(), infoKey{}, info)
	if _, ok := ctx.Deadline(); !ok && h.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, h.Timeout)
		defer cancel()
	}
	rec.Header().Set("X-Request-Id", id)
	defer func() {
		if v := recover(); v != nil {
			h.Logger.Error("panic", "request_id", id, "panic", fmt.Sprint(v), "path", r.URL.Path)
			if !rec.wrote {
				reply(rec, codeInternal, "internal error")
			}
		}
		// request_id leads the attributes rather than coming from
		// Logger.With, which would clone the handler for every request;
		// the line is the same.
		var buf [24]slog.Attr
		attrs := append(buf[:0],
			slog.String("request_id", id), slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", rec.status), slog.Int("err_code", rec.errCode),
			slog.Int64("duration_ms", time.Since(start).Milliseconds()),
		)
		if rec.status >= 400 && rec.status < 500 && !info.has("reason") {
			attrs = append(attrs, slog.String("reason", rec.errMsg))
		}
		level := levelFor(rec.status)
		if info.deadLettered && level < slog.LevelWarn {
			level = slog.LevelWarn // acknowledged, but not where the user wants it
		}
		h.Logger.LogAttrs(ctx, level, "request", append(attrs, info.attrs...)...)
		if info.kind != "" {
			metrics.FromContext(ctx).Push(info.kind, rec.errCode)
		}
	}()
	_, pattern := h.mux.Handler(r)
	if pattern == "" || path.Clean(r.URL.Path) != r.URL.Path {
		// ServeMux would redirect an unclean path; CCC wants its own form,
		// and an unclean path names no route (K6).
		if path.Clean(r.URL.Path) == r.URL.Path && h.routeExists(r) {
			reply(rec, codeMethodNotAllowed, "method not allowed")
		} else {
			reply(rec, codeNotFound, "no such route")
		}
		return
	}
	h.mux.ServeHTTP(rec, r.WithContext(ctx))
}

// routeExists reports whether the path is served with another method.
func (h *handler) routeExists(r *http.Request) bool {
	for _, m := range []string{http.MethodGet, http.MethodPost} {
		probe := r.Clone(r.Context())
		probe.Method = m
		if _, p := h.mux.Handler(probe); p != "" {
			return true
		}
	}
	return false
}

func (h *handler) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	io.WriteString(w, `{"status":"ok"}`+"\n")
}

func (h *handler) token(w http.ResponseWriter, r *http.Request) {
	if h.TokenEndpoint == nil {
		reply(w, codeNotFound, "the token endpoint is served only when PUSH_AUTH=oauth2")
		return
	}
	h.TokenEndpoint.ServeHTTP(w, r)
}

// push serves CCC's data push: POST /push?action=…&version=1.
func (h *handler) push(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	info := infoOf(ctx)
	// CCC's X-TCCC-PUSH-UUID, spelled canonically: Get would allocate the
	// canonical form of any other spelling on every push.
	pushUUID := r.Header.Get("X-Tccc-Push-Uuid")
	if len(pushUUID) > 128 {
		pushUUID = pushUUID[:128]
	}
	info.add(slog.String("push_uuid", pushUUID))
	info.kind = "none" // until the action names one
	if err := h.Auth.Authenticate(r); err != nil {
		info.add(slog.String("reason", err.Error()))
		if ae, ok := errors.AsType[*pushauth.AuthError](err); ok && ae.Challenge != "" {
			w.Header().Set("WWW-Authenticate", ae.Challenge)
		}
		reply(w, codeUnauthorized, "authentication failed")
		return
	}
	q := r.URL.Query()
	if !single(w, q) {
		return
	}
	info.add(slog.String("action", safeToken(q.Get("action"))))
	if v := q.Get("version"); v != "" && v != "1" {
		reply(w, codeBadVersion, fmt.Sprintf("unsupported push version %q: this function understands version 1", safeToken(v)))
		return
	}
	kind, err := push.ParseKind(q.Get("action"))
	if err != nil {
		reply(w, codeBadAction, err.Error())
		return
	}
	info.kind = metricKind(kind)
	body, ok := h.readBody(w, r)
	if !ok {
		return
	}
	p, err := push.Parse(kind, body, h.Now())
	if err != nil {
		reply(w, codeBadRequest, err.Error())
		return
	}
	if p.TypeMismatch != "" {
		// Tolerated, but worth knowing: CCC sent a field in another shape
		// than documented. The path and the types, never the value.
		info.add(slog.String("type_mismatch", p.TypeMismatch))
	}
	if !h.allowed(w, info, p) {
		return
	}
	if !p.Kind.Known() && h.DropUnknownKinds {
		// Still ErrCode 0: a refusal would only make CCC send it again.
		info.add(slog.String("dropped", "unknown action"))
		reply(w, codeOK, "ok")
		return
	}
	if h.Intake != nil {
		h.enqueue(ctx, w, p, pushUUID)
		return
	}
	rec, out, err := h.Enricher.Process(ctx, enrich.Request{Push: p, Source: record.SourcePush, PushUUID: pushUUID})
	if rec != nil {
		info.add(slog.String("record_id", rec.ID), slog.String("completeness", rec.Completeness))
	}
	if out.DeadLettered {
		// Durable, so CCC gets ErrCode 0; the log line says where it went.
		info.deadLettered = true
		info.add(slog.Bool("dead_lettered", true), slog.String("dead_letter_cause", out.Cause.Error()))
	}
	if err != nil {
		h.fail(ctx, w, err)
		return
	}
	reply(w, codeOK, "ok")
}

// enqueue writes a validated push to the intake queue and answers CCC:
// ErrCode 0 only once the queue has it.
func (h *handler) enqueue(ctx context.Context, w http.ResponseWriter, p *push.Push, pushUUID string) {
	m, err := intake.Message(p, pushUUID, h.Now())
	if err == nil {
		infoOf(ctx).add(slog.String("record_id", m.ID), slog.String("queued", h.Intake.Name()))
		start := time.Now()
		err = h.Intake.Send(ctx, m)
		metrics.FromContext(ctx).Enqueue(time.Since(start))
	}
	if err != nil {
		h.fail(ctx, w, fmt.Errorf("%w: %w", errIntake, err))
		return
	}
	reply(w, codeOK, "ok")
}

// enrichRequest is the body of POST /sessions/{id}/enrich.
type enrichRequest struct {
	SdkAppID       int64 `json:"SdkAppId"`
	StartTimestamp int64 `json:"StartTimestamp"`
	EndTimestamp   int64 `json:"EndTimestamp"`
}

// onDemandWindow is how far back an on-demand enrichment looks when the
// request gives no timestamps: just under DescribeSessionDetail's 90-day
// span.
const onDemandWindow = 89 * 24 * time.Hour

// enrich serves on-demand enrichment of one session.
func (h *handler) enrich(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	info := infoOf(ctx)
	if h.APIToken == "" {
		reply(w, codeNotFound, "on-demand enrichment is off: set API_TOKEN to turn it on")
		return
	}
	got, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || subtle.ConstantTimeCompare([]byte(got), []byte(h.APIToken)) != 1 {
		w.Header().Set("WWW-Authenticate", `Bearer realm="ccc-enricher"`)
		reply(w, codeUnauthorized, "a valid API_TOKEN bearer token is required")
		return
	}
	info.onDemand = true
	body, ok := h.readBody(w, r)
	if !ok {
		return
	}
	var req enrichRequest
	if err := decodeEnrich(body, &req); err != nil {
		info.add(slog.String("reason", err.Error()))
		reply(w, codeBadRequest, "body: "+err.Error())
		return
	}
	forward, err := boolParam(r.URL.Query(), "forward")
	if err != nil {
		reply(w, codeBadRequest, err.Error())
		return
	}
	now := h.Now()
	if req.EndTimestamp == 0 {
		req.EndTimestamp = now.Unix()
	}
	if req.StartTimestamp == 0 {
		req.StartTimestamp = now.Add(-onDemandWindow).Unix()
	}
	p, err := push.ForSession(r.PathValue("id"), req.SdkAppID, now)
	if err != nil {
		reply(w, codeBadRequest, err.Error())
		return
	}
	if !h.allowed(w, info, p) {
		return
	}
	// A caller asking for a record wants the detail or an error.
	rec, err := h.Enricher.Build(ctx, enrich.Request{
		Push: p, Source: record.SourceEnrich, Start: req.StartTimestamp, End: req.EndTimestamp, RequireDetail: true,
	})
	if err == nil && forward {
		_, err = h.Enricher.Deliver(ctx, rec)
	}
	if err != nil {
		h.fail(ctx, w, err)
		return
	}
	info.add(slog.String("record_id", rec.ID))
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store") // the record holds signed recording links
	json.NewEncoder(w).Encode(rec)
}

// allowed notes the call in the log line and answers 403 for an
// application not in the allow-list.
func (h *handler) allowed(w http.ResponseWriter, info *requestInfo, p *push.Push) bool {
	info.add(slog.Int64("sdk_app_id", p.SdkAppID), slog.String("session_id", p.SessionID))
	if !h.AllowApp(p.SdkAppID) {
		reply(w, codeForbiddenApp, fmt.Sprintf("SdkAppId %d is not in CCC_SDK_APP_IDS", p.SdkAppID))
		return false
	}
	return true
}

// readBody reads a bounded body, answering itself when it cannot.
func (h *handler) readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := readAll(http.MaxBytesReader(w, r.Body, h.MaxBodyBytes), r.ContentLength, h.MaxBodyBytes)
	switch _, tooBig := errors.AsType[*http.MaxBytesError](err); {
	case tooBig:
		reply(w, codeTooLarge, fmt.Sprintf("body exceeds %d bytes", h.MaxBodyBytes))
		return nil, false
	case err != nil:
		reply(w, codeBadRequest, "reading body failed")
		return nil, false
	}
	return body, true
}

// readAll is io.ReadAll into a buffer sized by the request's Content-Length
// when it is known and within limit, so that a body is read into one
// allocation instead of a growing series.
func readAll(r io.Reader, size, limit int64) ([]byte, error) {
	if size <= 0 || size > limit {
		return io.ReadAll(r)
	}
	// One byte more, so that EOF is seen without growing the buffer.
	b := make([]byte, 0, size+1)
	for {
		n, err := r.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			return b, nil
		}
		if err != nil {
			return b, err
		}
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
	}
}

// fail answers a pipeline failure and logs it.
func (h *handler) fail(ctx context.Context, w http.ResponseWriter, err error) {
	c := classify(ctx, err)
	infoOf(ctx).add(slog.String("error", err.Error()))
	if we, ok := errors.AsType[*enrich.WindowError](err); ok {
		// The push's or the caller's timestamps: their fault, not CCC's.
		infoOf(ctx).add(slog.String("reason", we.Error()))
		reply(w, codeBadRequest, we.Error())
		return
	}
	msg := c.message
	if infoOf(ctx).onDemand {
		msg = strings.Replace(msg, "push again", "try again", 1)
	}
	reply(w, c, msg)
}

func strictJSON(b []byte, v any) error {
	d := json.NewDecoder(strings.NewReader(string(b)))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return err
	}
	if d.More() {
		return errors.New("trailing data after the JSON object")
	}
	return nil
}

// safeToken shortens and cleans a query value before it is logged or
// echoed.
func safeToken(s string) string {
	if len(s) > 32 {
		s = s[:32]
	}
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r > 0x7e {
			return '?'
		}
		return r
	}, s)
}

func newID() string {
	var b [16]byte
	rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// metricKind is k as a metrics dimension: an action this version does not
// know is "unknown", so that a sender cannot mint dimension values.
func metricKind(k push.Kind) string {
	if !k.Known() {
		return "unknown"
	}
	return string(k)
}

func levelFor(status int) slog.Level {
	switch {
	case status >= 500:
		return slog.LevelError
	case status >= 400:
		return slog.LevelWarn
	}
	return slog.LevelInfo
}

// requestInfo gathers log attributes as a request goes through, for the one
// log line written when it ends.
type requestInfo struct {
	attrs []slog.Attr
	// buf holds the attributes of a request, which are fewer than its
	// length: they need no allocation of their own.
	buf          [8]slog.Attr
	deadLettered bool
	// kind is the push's kind as the metrics name it; "" when the request
	// is not a push.
	kind     string
	onDemand bool // the enrich route: a person or a program asked, not CCC
}

func (i *requestInfo) add(attrs ...slog.Attr) { i.attrs = append(i.attrs, attrs...) }

// has reports whether key was added.
func (i *requestInfo) has(key string) bool {
	for _, a := range i.attrs {
		if a.Key == key {
			return true
		}
	}
	return false
}

type infoKey struct{}

func infoOf(ctx context.Context) *requestInfo {
	if i, ok := ctx.Value(infoKey{}).(*requestInfo); ok {
		return i
	}
	return &requestInfo{}
}

// recorder remembers what was answered, for the log line.
type recorder struct {
	http.ResponseWriter
	status  int
	errCode int
	errMsg  string // for the log line's reason
	wrote   bool
}

func (r *recorder) WriteHeader(status int) {
	if !r.wrote {
		r.status, r.wrote = status, true
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(b []byte) (int, error) {
	if !r.wrote {
		r.WriteHeader(http.StatusOK)
	}
	return r.ResponseWriter.Write(b)
}
