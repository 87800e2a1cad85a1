// Package config reads ccc-enricher's configuration from the environment
// once, at start-up, into a typed struct, and validates it there: a bad
// value fails fast with a message that names the variable, instead of
// failing the first push an hour later.
//
// The variable names are the product's public interface; README.md lists
// them all.
package config

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Push authentication modes, the values of PUSH_AUTH: the three modes the
// CCC console offers for data push.
const (
	AuthNone   = "none"
	AuthBasic  = "basic"
	AuthOAuth2 = "oauth2"
)

// Policies for a push whose session detail cannot be fetched in time, the
// values of ON_DETAIL_FAILURE.
const (
	// DetailRetry answers CCC with an error so that it pushes again later.
	DetailRetry = "retry"
	// DetailForwardPartial forwards the push data alone, flagged partial.
	DetailForwardPartial = "forward-partial"
)

// What becomes of a push of an action this version does not know, the
// values of UNKNOWN_PUSH_KINDS. Either way CCC gets ErrCode 0: a refusal
// would only make it send the same body three more times.
const (
	// UnknownForward forwards it as a record of kind unknown.
	UnknownForward = "forward"
	// UnknownDrop drops it.
	UnknownDrop = "drop"
)

// Reconciliation modes, the values of RECONCILE_MODE.
const (
	// ReconcileDetail enriches every reconciled call with DescribeSessionDetail.
	ReconcileDetail = "detail"
	// ReconcileCDROnly forwards the CDR-list data without the detail call.
	ReconcileCDROnly = "cdr-only"
)

// EmulatorEndpoint is the CCC_ENDPOINT value that starts the embedded CCC
// API emulator, for running offline.
const EmulatorEndpoint = "emulator"

// Config is the whole configuration.
type Config struct {
	// Port is the local server's port (PORT), when no cloud runtime is present.
	Port int
	// LogLevel is debug, info, warn or error (LOG_LEVEL).
	LogLevel string
	// RequestTimeout bounds one request when the platform sets no deadline
	// (REQUEST_TIMEOUT).
	RequestTimeout time.Duration

	Push Push
	CCC  CCC

	// Sink is the destination of enriched records (SINK and its variables):
	// the first of Sinks.
	Sink Sink
	// Sinks are every destination SINK lists; each record goes to all of
	// them, in order.
	Sinks []Sink
	// DeadLetter is where a record goes when Sink refuses it (DLQ_SINK and
	// the same variables with a DLQ_ prefix); Kind "" means none.
	DeadLetter Sink

	// OnDetailFailure is DetailRetry or DetailForwardPartial.
	OnDetailFailure string
	// UnknownPushKinds is UnknownForward or UnknownDrop: what becomes of a
	// push whose action this version does not know (UNKNOWN_PUSH_KINDS).
	UnknownPushKinds string
	// APIToken authorises on-demand enrichment (API_TOKEN); empty turns the
	// route off.
	APIToken string
	// MaskPhoneNumbers masks phone numbers in logs and records.
	MaskPhoneNumbers bool

	Reconcile Reconcile

	// Intake is the queue pushes wait in for a worker (INTAKE and its
	// variables); Intake.Queue.Kind "" means the synchronous path.
	Intake Intake

	Runtime Runtime
	Tencent Tencent
	// AWS is what the AWS clients are built from (AWS_REGION, the
	// credential and endpoint variables).
	AWS AWS

	Metrics Metrics
	// Archive keeps media and records in the customer's bucket (ARCHIVE).
	Archive Archive
}

// Metrics configures the one metrics line per invocation and job run.
type Metrics struct {
	// On writes the line (METRICS=on, the default; off writes none).
	On bool
	// Namespace is the CloudWatch namespace of the EMF line on Lambda
	// (METRICS_NAMESPACE).
	Namespace string
}

// DefaultMetricsNamespace is METRICS_NAMESPACE's default, the namespace
// template.yaml's alarms and dashboard read.
const DefaultMetricsNamespace = "ccc-enricher"

// Push configures the push intake.
type Push struct {
	Auth          string
	BasicUsername string
	BasicPassword string
	OAuthClientID string
	OAuthSecret   string
	OAuthTokenTTL time.Duration
	// MaxBodyBytes caps a push body.
	MaxBodyBytes int64
	// SdkAppIDs is the allow-list of CCC applications.
	SdkAppIDs []int64
}

// CCC configures the CCC API client.
type CCC struct {
	// Endpoint is a host (https), a URL, or EmulatorEndpoint.
	Endpoint string
	Region   string
	// Rate is the most DescribeSessionDetail/DescribeTelCdr calls per second
	// from one instance.
	Rate float64
	// SessionGrace is how long after a call's end a missing session is
	// still retried: detail can lag the push.
	SessionGrace time.Duration
	// Timeout bounds one API request.
	Timeout time.Duration
}

// Reconcile configures the reconciliation job.
type Reconcile struct {
	// Slot is the span of call time one scheduled run covers.
	Slot time.Duration
	// Delay is how long after a slot ends it is reconciled, so that pushes
	// and CCC's retries have had their chance.
	Delay time.Duration
	// Lookback is the longest call accounted for: CDRs are listed by start
	// time, so a slot's calls are searched from Lookback before it.
	Lookback time.Duration
	// Mode is ReconcileDetail or ReconcileCDROnly.
	Mode string
	// SkipDelivered skips calls whose record is in the records archive
	// before calling DescribeSessionDetail (RECONCILE_SKIP_DELIVERED).
	SkipDelivered bool
}

// AllowsApp reports whether pushes for the CCC application id are accepted.
func (c *Config) AllowsApp(id int64) bool {
	for _, a := range c.Push.SdkAppIDs {
		if a == id {
			return true
		}
	}
	return false
}

// Use is what the configuration is loaded for; each requires only the
// variables it uses.
type Use int

const (
	// Serve is the function itself: pushes need PUSH_AUTH and
	// CCC_SDK_APP_IDS.
	Serve Use = iota
	// ReconcileCommand is bootstrap reconcile: CCC_SDK_APP_IDS names the
	// applications to reconcile; it takes no pushes, so PUSH_AUTH is not
	// needed.
	ReconcileCommand
	// BackfillCommand is bootstrap backfill: its -sdk-app-id flag names
	// the application, so CCC_SDK_APP_IDS is optional (when set, the flag
	// must be one of them).
	BackfillCommand
)

// Load reads the configuration with getenv (os.Getenv in production) and
// validates it. The error lists every problem found, one per line, each
// naming its variable.
func Load(getenv func(string) string) (*Config, error) { return LoadFor(getenv, Serve) }

// LoadFor is Load for a use other than serving.
func LoadFor(getenv func(string) string, use Use) (*Config, error) {
	r := reader{getenv: getenv, optionalIDs: use == BackfillCommand}
	c := &Config{
		Port:           r.int("PORT", 9000, 1, 65535),
		LogLevel:       r.oneOf("LOG_LEVEL", "info", "debug", "info", "warn", "error"),
		RequestTimeout: r.duration("REQUEST_TIMEOUT", 25*time.Second),
		Push: Push{
			Auth:          r.oneOf("PUSH_AUTH", "", AuthNone, AuthBasic, AuthOAuth2),
			BasicUsername: r.str("PUSH_BASIC_USERNAME"),
			BasicPassword: r.str("PUSH_BASIC_PASSWORD"),
			OAuthClientID: r.str("PUSH_OAUTH_CLIENT_ID"),
			OAuthSecret:   r.str("PUSH_OAUTH_CLIENT_SECRET"),
			OAuthTokenTTL: r.duration("PUSH_OAUTH_TOKEN_TTL", 15*time.Minute),
			MaxBodyBytes:  int64(r.int("PUSH_MAX_BODY_BYTES", 1<<20, 1024, 64<<20)),
			SdkAppIDs:     r.ids("CCC_SDK_APP_IDS"),
		},
		CCC: CCC{
			Endpoint:     r.endpoint("CCC_ENDPOINT", "ccc.intl.tencentcloudapi.com"),
			Region:       r.str("CCC_REGION"),
			Rate:         r.float("CCC_RATE_LIMIT", 20, 0.1, 20),
			SessionGrace: r.duration("CCC_SESSION_GRACE", 2*time.Minute),
			Timeout:      r.duration("CCC_TIMEOUT", 5*time.Second),
		},
		Sinks:            r.sinks(),
		DeadLetter:       r.sink("DLQ_"),
		OnDetailFailure:  r.oneOf("ON_DETAIL_FAILURE", DetailRetry, DetailRetry, DetailForwardPartial),
		UnknownPushKinds: r.oneOf("UNKNOWN_PUSH_KINDS", UnknownForward, UnknownForward, UnknownDrop),
		APIToken:         r.str("API_TOKEN"),
		MaskPhoneNumbers: r.bool("MASK_PHONE_NUMBERS", false),
		Reconcile: Reconcile{
			Slot:          r.duration("RECONCILE_SLOT", 10*time.Minute),
			Delay:         r.duration("RECONCILE_DELAY", 20*time.Minute),
			Lookback:      r.duration("RECONCILE_LOOKBACK", 6*time.Hour),
			Mode:          r.oneOf("RECONCILE_MODE", ReconcileDetail, ReconcileDetail, ReconcileCDROnly),
			SkipDelivered: r.bool("RECONCILE_SKIP_DELIVERED", false),
		},
		Intake:  r.intake(),
		Runtime: r.runtime(),
		Tencent: r.tencent(),
		AWS:     r.aws(),
		Metrics: Metrics{
			On:        r.oneOf("METRICS", "on", "on", "off") == "on",
			Namespace: r.namespace("METRICS_NAMESPACE", DefaultMetricsNamespace),
		},
		Archive: r.archive(),
	}
	if c.Sinks[0].Kind == "" {
		c.Sinks[0].Kind = KindStdout
	}
	c.Sink = c.Sinks[0]
	c.validate(&r, use)
	if len(r.errs) > 0 {
		return nil, fmt.Errorf("invalid configuration:\n%w", errors.Join(r.errs...))
	}
	return c, nil
}

// validate checks what depends on more than one variable.
func (c *Config) validate(r *reader, use Use) {
	switch c.Push.Auth {
	case "":
		if use != Serve {
			break
		}
		r.fail("PUSH_AUTH", "is required: none, basic or oauth2 (as set in the CCC console's data push authentication)")
	case AuthBasic:
		r.required("PUSH_BASIC_USERNAME", c.Push.BasicUsername, "when PUSH_AUTH=basic")
		r.required("PUSH_BASIC_PASSWORD", c.Push.BasicPassword, "when PUSH_AUTH=basic")
		if strings.Contains(c.Push.BasicUsername, ":") {
			// Basic splits user:password at the first colon, so no
			// credential could ever match.
			r.fail("PUSH_BASIC_USERNAME", "must not contain ':' (HTTP Basic splits the credential at the first colon)")
		}
	case AuthOAuth2:
		r.required("PUSH_OAUTH_CLIENT_ID", c.Push.OAuthClientID, "when PUSH_AUTH=oauth2")
		r.required("PUSH_OAUTH_CLIENT_SECRET", c.Push.OAuthSecret, "when PUSH_AUTH=oauth2")
		if s := c.Push.OAuthSecret; s != "" && len(s) < 16 {
			r.fail("PUSH_OAUTH_CLIENT_SECRET", "must be at least 16 characters: it also keys the token signatures")
		}
	}
	if t := c.APIToken; t != "" && len(t) < 16 {
		r.fail("API_TOKEN", "must be at least 16 characters")
	}
	if c.Reconcile.Slot < time.Minute || c.Reconcile.Slot > 24*time.Hour {
		r.fail("RECONCILE_SLOT", "must be between 1m and 24h")
	}
	if c.Reconcile.Delay < 0 {
		r.fail("RECONCILE_DELAY", "must not be negative")
	}
	if c.Reconcile.Lookback < time.Minute || c.Reconcile.Lookback > 7*24*time.Hour {
		r.fail("RECONCILE_LOOKBACK", "must be between 1m and 168h")
	}
	if q := c.Intake.Queue; q.Kind != "" && (where(q) == where(c.Sink) || where(q) == where(c.DeadLetter)) {
		r.fail("INTAKE", "must not name the same queue as SINK or DLQ_SINK: workers would take records for pushes")
	}
	c.validateArchive(r)
	if c.DeadLetter.Kind != "" && where(c.DeadLetter) == where(c.Sink) {
		r.fail("DLQ_SINK", "must not be the same destination as SINK: a record the sink refuses would be refused again")
	}
}

// reader collects every problem instead of stopping at the first, so that
// one deploy shows all the mistakes at once.
type reader struct {
	getenv func(string) string
	errs   []error
	// optionalIDs lets CCC_SDK_APP_IDS be empty.
	optionalIDs bool
}

func (r *reader) fail(name, msg string) {
	r.errs = append(r.errs, fmt.Errorf("%s %s", name, msg))
}

func (r *reader) required(name, value, when string) {
	if value == "" {
		r.fail(name, "is required "+when)
	}
}

func (r *reader) str(name string) string { return strings.TrimSpace(r.getenv(name)) }

func (r *reader) oneOf(name, def string, allowed ...string) string {
	v := r.str(name)
	if v == "" {
		return def
	}
	for _, a := range allowed {
		if strings.EqualFold(v, a) {
			return a
		}
	}
	r.fail(name, fmt.Sprintf("is %q; want one of %s", v, strings.Join(allowed, ", ")))
	return def
}

func (r *reader) int(name string, def, lo, hi int) int {
	v := r.str(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < lo || n > hi {
		r.fail(name, fmt.Sprintf("is %q; want a whole number from %d to %d", v, lo, hi))
		return def
	}
	return n
}

func (r *reader) float(name string, def, lo, hi float64) float64 {
	v := r.str(name)
	if v == "" {
		return def
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || !(f >= lo && f <= hi) { // written so that NaN fails too
		r.fail(name, fmt.Sprintf("is %q; want a number from %g to %g", v, lo, hi))
		return def
	}
	return f
}

func (r *reader) bool(name string, def bool) bool {
	v := r.str(name)
	if v == "" {
		return def
	}
	b, err := strconv.ParseBool(v)
	if err != nil {
		r.fail(name, fmt.Sprintf("is %q; want true or false", v))
		return def
	}
	return b
}

func (r *reader) duration(name string, def time.Duration) time.Duration {
	v := r.str(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < 0 {
		r.fail(name, fmt.Sprintf("is %q; want a duration such as 30s or 10m", v))
		return def
	}
	return d
}

// ids reads a required comma-separated list of application ids. A value
// of only separators and spaces (of any kind) is as good as none.
func (r *reader) ids(name string) []int64 {
	var ids []int64
	bad := false
	for _, f := range strings.Split(r.str(name), ",") {
		f = strings.TrimSpace(f)
		if f == "" {
			continue
		}
		id, err := strconv.ParseInt(f, 10, 64)
		if err != nil || id <= 0 {
			r.fail(name, fmt.Sprintf("has %q; want positive whole numbers separated by commas", f))
			bad = true
			continue
		}
		ids = append(ids, id)
	}
	if len(ids) == 0 && !bad && !r.optionalIDs {
		r.fail(name, "is required: the comma-separated CCC application ids whose pushes are accepted")
	}
	return ids
}

// endpoint accepts a bare host, an http(s) URL with a host, or the
// emulator keyword.
func (r *reader) endpoint(name, def string) string {
	v := r.str(name)
	if v == "" {
		return def
	}
	if v == EmulatorEndpoint {
		return v
	}
	if !strings.Contains(v, "://") {
		if strings.ContainsAny(v, "/?# ") {
			r.fail(name, fmt.Sprintf("is %q; want a host such as ccc.tencentcloudapi.com or a URL such as http://127.0.0.1:8080", v))
		}
		return v
	}
	if !httpURL(v, false) {
		r.fail(name, fmt.Sprintf("is %q; want a host such as ccc.tencentcloudapi.com or a URL such as http://127.0.0.1:8080", v))
	}
	return v
}

// namespace reads a CloudWatch namespace: up to 255 of the characters
// CloudWatch allows, not in the reserved AWS/ space.
func (r *reader) namespace(name, def string) string {
	v := r.str(name)
	if v == "" {
		return def
	}
	ok := len(v) <= 255 && !strings.HasPrefix(v, "AWS/")
	for _, c := range v {
		ok = ok && (c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune("._-/#:", c))
	}
	if !ok {
		r.fail(name, fmt.Sprintf("is %q; want up to 255 letters, digits and . _ - / # : (not starting AWS/)", v))
		return def
	}
	return v
}
