// Package tcemu is a Tencent Cloud API 3.0 emulator for loopback use: it
// verifies TC3-HMAC-SHA256 signatures the way the real endpoints do and
// serves the CCC (ccc 2020-02-10: DescribeSessionDetail, DescribeTelCdr) and
// TDMQ for CMQ (tdmq 2020-02-17: SendCmqMsg) actions ccc-enricher calls.
//
// No real CCC account can be reached from tests or from the offline demo, so
// the emulator stands in for it. It is deliberately not a stub: a request is
// refused, with the error envelope and code the real API would answer, when
// its signature, timestamp, credential scope, token, action, version or
// parameters are wrong, and when it exceeds the per-action rate limit. The
// verifier is written from the public signing specification, not taken
// from an SDK, so an SDK-signed request that passes here is evidence that the
// client is built right.
//
// Faults (API error codes, gateway HTTP statuses, slow answers) can be queued
// per action with Inject or drawn at random through SetFaults, and
// HideSession reproduces CCC's lag between the call-end push and the moment
// DescribeSessionDetail knows the session.
//
// Every answer is HTTP 200 with the API's envelope,
// {"Response":{...,"RequestId":"<uuid>"}} or
// {"Response":{"Error":{"Code":"…","Message":"…"},"RequestId":"<uuid>"}}.
// The codes, in the order the checks run:
//
//   - UnsupportedProtocol: not POST, or not Content-Type application/json;
//     RequestSizeLimitExceeded: a body over 10 MiB.
//   - MissingParameter / InvalidParameter: X-TC-Action, X-TC-Version or
//     X-TC-Timestamp absent or malformed.
//   - AuthFailure.InvalidAuthorization: a malformed Authorization header, a
//     credential scope date other than X-TC-Timestamp's UTC date, or a scope
//     service other than the action's product (the real API's wording:
//     "`Service` in Credential not valid").
//   - AuthFailure.SignatureExpire: X-TC-Timestamp over 5 minutes off the clock.
//   - AuthFailure.SecretIdNotFound, AuthFailure.TokenFailure.
//   - AuthFailure.SignatureFailure: no Authorization, or a signature that
//     does not match (a body, header or key changed).
//   - InvalidAction, NoSuchVersion.
//   - RequestLimitExceeded: over Options.RateLimit requests of the action in
//     a rolling second. Injected faults are served at this point.
//   - MissingParameter (also X-TC-Region for tdmq), UnknownParameter,
//     InvalidParameter (wrong JSON type), InvalidParameterValue (query
//     window, PageSize, queue name...), FailedOperation.SessionNotExists.
//
// A Server is an http.Handler; mount it on an httptest.Server or any
// loopback listener and point the SDK's HttpProfile.Endpoint at it with
// Scheme "http".
package tcemu

import (
	"bytes"
	"crypto/rand"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Options configures a Server.
type Options struct {
	// SecretID and SecretKey are the one key pair the emulator accepts.
	SecretID, SecretKey string
	// Token, when set, must arrive in X-TC-Token, as with role or other
	// temporary credentials. When empty, a request carrying a token is
	// refused: the real API rejects a token that belongs to no temporary key.
	Token string
	// Now is the emulator's clock, used for the 5-minute signature window,
	// the 180-day query window and the rate limit. Default time.Now.
	Now func() time.Time
	// RateLimit is the number of requests per action admitted in any rolling
	// one-second window; 0 means 20 (DescribeSessionDetail's real limit),
	// negative means no limit.
	RateLimit int
}

// Fault is one injected failure.
type Fault struct {
	// Code is an API error code such as "RequestLimitExceeded" or
	// "InternalError", answered in the error envelope with HTTP 200.
	Code string
	// Status, when non-zero, answers that HTTP status with a non-JSON body,
	// as a gateway in front of the API would. It takes precedence over Code.
	// A value outside 100-999 answers 502.
	Status int
	// Delay is waited before answering (a slow API), or before serving the
	// request normally when Code and Status are empty. The wait ends early
	// when the request's context is done, and then nothing is answered.
	Delay time.Duration
}

// CMQMessage is one message accepted by SendCmqMsg.
type CMQMessage struct {
	MsgID, Content string
	DelaySeconds   int
}

// Server is the emulator. The zero value is not usable; call New.
type Server struct {
	opts Options

	mu       sync.Mutex
	stats    map[string]*actionState
	faultFn  func(action string) *Fault
	sessions map[sessionKey]*session
	cdrs     map[sessionKey]cdrEntry // explicit TelCdrInfo from AddCdr
	hidden   map[string]int
	queues   map[string][]CMQMessage
}

// actionState is the per-action bookkeeping: call counts, the request
// times inside the current rate window and queued faults.
type actionState struct {
	calls    int
	seen     []time.Time // every authenticated request, for MaxRate
	admitted []time.Time // requests let through the rate limit
	maxRate  int
	faults   []Fault
}

const (
	defaultRateLimit = 20
	// maxSkew is how far X-TC-Timestamp may be from the server clock.
	maxSkew = 5 * time.Minute
	// maxBody is the real API's request size limit for POST.
	maxBody = 10 << 20
)

// New returns an emulator accepting the key pair in o.
func New(o Options) *Server {
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.RateLimit == 0 {
		o.RateLimit = defaultRateLimit
	}
	return &Server{
		opts:     o,
		stats:    make(map[string]*actionState),
		sessions: make(map[sessionKey]*session),
		cdrs:     make(map[sessionKey]cdrEntry),
		hidden:   make(map[string]int),
		queues:   make(map[string][]CMQMessage),
	}
}

// apiError is an answer in the API's error envelope.
type apiError struct {
	Code    string `json:"Code"`
	Message string `json:"Message"`
}

func errorf(code, format string, args ...any) *apiError {
	return &apiError{Code: code, Message: fmt.Sprintf(format, args...)}
}

// action describes one served API action.
type action struct {
	service, version string
	serve            func(s *Server, params map[string]json.RawMessage) ([]byte, *apiError)
	needsRegion      bool
}

var actions = map[string]action{
	"DescribeSessionDetail": {service: "ccc", version: "2020-02-10", serve: (*Server).describeSessionDetail},
	"DescribeTelCdr":        {service: "ccc", version: "2020-02-10", serve: (*Server).describeTelCdr},
	// TDMQ is a regional product: its endpoint refuses a request without
	// X-TC-Region, unlike CCC.
	"SendCmqMsg": {service: "tdmq", version: "2020-02-17", serve: (*Server).sendCmqMsg, needsRegion: true},
}

// ServeHTTP answers one API 3.0 request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	reqID := newRequestID()
	if r.URL.Path != "/" {
		http.NotFound(w, r)
		return
	}
	resp, aerr := s.answer(w, r)
	switch {
	case aerr != nil:
		writeError(w, reqID, aerr)
	case resp != nil:
		writeResponse(w, reqID, resp)
	}
}

// answer runs the checks of the package comment, in their order, and then
// the action. It returns the Response object, or the error to answer, or
// neither when a fault has answered already or nothing is to be answered.
func (s *Server) answer(w http.ResponseWriter, r *http.Request) ([]byte, *apiError) {
	body, aerr := readBody(w, r)
	if aerr != nil {
		return nil, aerr
	}
	name, a, aerr := s.authenticate(r, body)
	if aerr != nil {
		return nil, aerr
	}
	fault, limited := s.admit(name)
	if fault != nil {
		if done, aerr := serveFault(w, r, fault); done {
			return nil, aerr
		}
	}
	if limited != nil {
		return nil, limited
	}
	if a.needsRegion && r.Header.Get("X-TC-Region") == "" {
		return nil, errorf("MissingParameter", "The request is missing a required parameter `Region`.")
	}
	var params map[string]json.RawMessage
	if err := json.Unmarshal(body, &params); err != nil || params == nil {
		return nil, errorf("InvalidParameter", "The request body is not a valid JSON object.")
	}
	return a.serve(s, params)
}

// readBody checks the protocol of r (POST with a JSON body within the size
// limit) and reads the body.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, *apiError) {
	if r.Method != http.MethodPost {
		return nil, errorf("UnsupportedProtocol", "The emulator accepts only POST requests with a JSON body; got %s.", r.Method)
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		return nil, errorf("UnsupportedProtocol", "The request Content-Type must be application/json.")
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		return nil, errorf("RequestSizeLimitExceeded", "The request body could not be read or exceeds %d bytes.", maxBody)
	}
	return body, nil
}

// serveFault serves an injected fault: it waits its delay, then answers a
// gateway's HTTP status itself or returns the API error to answer. done is
// false when the request is to be served normally after the delay, and
// true with a nil error when the answer is given, or is not to be given
// because the request's context ended during the delay.
func serveFault(w http.ResponseWriter, r *http.Request, f *Fault) (done bool, aerr *apiError) {
	if f.Delay > 0 {
		t := time.NewTimer(f.Delay)
		select {
		case <-r.Context().Done():
			t.Stop()
			return true, nil
		case <-t.C:
		}
	}
	switch {
	case f.Status != 0:
		status := f.Status
		if status < 100 || status > 999 {
			// net/http refuses such codes; answer as a broken gateway.
			status = http.StatusBadGateway
		}
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(status)
		fmt.Fprintf(w, "<html><head><title>%d %s</title></head><body><center><h1>%d %s</h1></center></body></html>\n",
			status, http.StatusText(status), status, http.StatusText(status))
		return true, nil
	case f.Code != "":
		return true, errorf(f.Code, "Injected fault %s.", f.Code)
	}
	return false, nil
}

// admit records an authenticated request of an action and decides its
// fate: a fault to serve (queued ones first, then the SetFaults function),
// or a rate-limit refusal. Both may be returned; the fault wins.
func (s *Server) admit(name string) (*Fault, *apiError) {
	now := s.opts.Now()
	s.mu.Lock()
	st := s.state(name)
	st.calls++
	st.seen = append(prune(st.seen, now), now)
	st.maxRate = max(st.maxRate, len(st.seen))
	st.admitted = prune(st.admitted, now)
	var aerr *apiError
	if limit := s.opts.RateLimit; limit > 0 && len(st.admitted) >= limit {
		aerr = errorf("RequestLimitExceeded", "Your current request times equals to `%d` in a second, which exceeds the frequency limit `%d` for a second. Please reduce the frequency of calls.", len(st.admitted)+1, limit)
	} else {
		st.admitted = append(st.admitted, now)
	}
	var fault *Fault
	if len(st.faults) > 0 {
		f := st.faults[0]
		st.faults = st.faults[1:]
		fault = &f
	}
	fn := s.faultFn
	s.mu.Unlock()
	// The function is called unlocked: it belongs to the test and may well
	// call back into the Server.
	if fault == nil && fn != nil {
		fault = fn(name)
	}
	return fault, aerr
}

// prune drops the times that fell out of the one-second window ending now.
func prune(ts []time.Time, now time.Time) []time.Time {
	i := 0
	for i < len(ts) && now.Sub(ts[i]) >= time.Second {
		i++
	}
	return append(ts[:0], ts[i:]...)
}

func (s *Server) state(name string) *actionState {
	st := s.stats[name]
	if st == nil {
		st = &actionState{}
		s.stats[name] = st
	}
	return st
}

// Inject queues faults for an action, consumed one per request in order.
func (s *Server) Inject(action string, faults ...Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	st := s.state(action)
	st.faults = append(st.faults, faults...)
}

// SetFaults installs a function consulted on every authenticated request
// that has no queued fault left; a nil result means no fault. nil removes it.
func (s *Server) SetFaults(fn func(action string) *Fault) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.faultFn = fn
}

// Calls reports how many requests of the action passed authentication
// (signature, credential scope, action and version), whatever was answered
// to them afterwards: faults, rate-limit refusals and parameter errors
// count.
func (s *Server) Calls(action string) int {
	calls, _ := s.counts(action)
	return calls
}

// MaxRate reports the most requests of the action seen in any rolling
// one-second window, counting those refused for rate.
func (s *Server) MaxRate(action string) int {
	_, maxRate := s.counts(action)
	return maxRate
}

// counts returns the action's call count and highest rate, zero for an
// action never called.
func (s *Server) counts(action string) (calls, maxRate int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if st := s.stats[action]; st != nil {
		return st.calls, st.maxRate
	}
	return 0, 0
}

// writeResponse answers {"Response": obj + RequestId}. obj is a JSON object
// without RequestId.
func writeResponse(w http.ResponseWriter, reqID string, obj []byte) {
	obj = bytes.TrimSpace(obj)
	var b bytes.Buffer
	b.WriteString(`{"Response":`)
	b.Write(obj[:len(obj)-1])
	if len(bytes.TrimSpace(obj[1:len(obj)-1])) > 0 {
		b.WriteByte(',')
	}
	fmt.Fprintf(&b, `"RequestId":%q}}`, reqID)
	w.Header().Set("Content-Type", "application/json")
	w.Write(b.Bytes())
}

func writeError(w http.ResponseWriter, reqID string, e *apiError) {
	resp := struct {
		Response struct {
			Error     *apiError `json:"Error"`
			RequestId string    `json:"RequestId"`
		} `json:"Response"`
	}{}
	resp.Response.Error = e
	resp.Response.RequestId = reqID
	b, _ := marshal(resp) // two strings cannot fail to encode
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
}

// marshal encodes v without HTML escaping: the real API answers URLs with
// a literal '&', and tests compare bytes.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}

// internalError answers a failure of the emulator itself the way the API
// answers its own.
func internalError(err error) *apiError {
	return errorf("InternalError", "An internal error occurred: %v.", err)
}

// newRequestID returns a random UUID (version 4), the form of the real
// API's RequestId.
func newRequestID() string {
	var u [16]byte
	rand.Read(u[:])
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:])
}

// newMsgID returns a random decimal message id, the form of CMQ's.
func newMsgID() string {
	var b [8]byte
	rand.Read(b[:])
	var n uint64
	for _, c := range b {
		n = n<<8 | uint64(c)
	}
	return strconv.FormatUint(n>>1, 10)
}
