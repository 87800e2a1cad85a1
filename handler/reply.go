package handler

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"

	"github.com/ccc-enricher/ccc-enricher/internal/enrich"
	"github.com/ccc-enricher/ccc-enricher/internal/retry"
)

// code is one ErrCode of the reply, with its HTTP status. ErrCode 0 is
// success; any other makes CCC push again (at most three more times). The
// first three digits are the HTTP status, so a code says by itself whether
// CCC's retry can help: 4xx codes are the push's or the configuration's
// fault and will fail again; 5xx codes are transient.
type code struct {
	errCode int
	status  int
	message string
}

var (
	codeOK                = code{0, http.StatusOK, "ok"}
	codeBadRequest        = code{40001, http.StatusBadRequest, "invalid body"}
	codeBadAction         = code{40002, http.StatusBadRequest, "unknown action"}
	codeBadVersion        = code{40003, http.StatusBadRequest, "unsupported version"}
	codeUnauthorized      = code{40101, http.StatusUnauthorized, "authentication failed"}
	codeForbiddenApp      = code{40301, http.StatusForbidden, "SdkAppId not allowed"}
	codeNotFound          = code{40401, http.StatusNotFound, "not found"}
	codeMethodNotAllowed  = code{40501, http.StatusMethodNotAllowed, "method not allowed"}
	codeTooLarge          = code{41301, http.StatusRequestEntityTooLarge, "body too large"}
	codeInternal          = code{50001, http.StatusInternalServerError, "internal error"}
	codeSinkRefused       = code{50201, http.StatusBadGateway, "the sink refused the record and no dead-letter sink took it"}
	codeDetailLater       = code{50301, http.StatusServiceUnavailable, "session detail not available yet; push again later"}
	codeSinkUnavailable   = code{50302, http.StatusServiceUnavailable, "the sink is unavailable; push again later"}
	codeDetailFailed      = code{50202, http.StatusBadGateway, "session detail could not be fetched"}
	codeIntakeRefused     = code{50203, http.StatusBadGateway, "the intake queue refused the push"}
	codeIntakeUnavailable = code{50303, http.StatusServiceUnavailable, "the intake queue is unavailable; push again later"}
	codeTimeout           = code{50401, http.StatusGatewayTimeout, "ran out of time; push again"}
	codeMediaFailed       = code{50204, http.StatusBadGateway, "the recordings could not be archived"}
	codeMediaLater        = code{50304, http.StatusServiceUnavailable, "the recordings could not be archived yet; push again later"}
)

// errIntake marks a failure to write a push to the intake queue.
var errIntake = errors.New("intake queue")

// classify maps a pipeline error to its reply. It is the one place where
// an error's class becomes an answer to CCC. Only the request's own
// deadline is a timeout: one attempt that timed out is the failure of what
// it called.
func classify(ctx context.Context, err error) code {
	detail := errors.Is(err, enrich.ErrDetail)
	queued := errors.Is(err, errIntake)
	switch {
	case ctx.Err() != nil && errors.Is(err, context.DeadlineExceeded):
		return codeTimeout
	case queued && retry.IsPermanent(err):
		return codeIntakeRefused
	case queued:
		return codeIntakeUnavailable
	case detail && retry.IsPermanent(err):
		return codeDetailFailed
	case detail:
		return codeDetailLater
	case errors.Is(err, enrich.ErrMedia) && retry.IsPermanent(err):
		return codeMediaFailed
	case errors.Is(err, enrich.ErrMedia):
		return codeMediaLater
	case retry.IsPermanent(err):
		return codeSinkRefused
	default:
		return codeSinkUnavailable
	}
}

// reply writes CCC's reply form.
func reply(w http.ResponseWriter, c code, msg string) {
	if rec, ok := w.(*recorder); ok {
		rec.errCode = c.errCode
		rec.errMsg = msg
	}
	h := w.Header()
	h["Content-Type"], h["Cache-Control"] = contentTypeJSON, noStore
	w.WriteHeader(c.status)
	w.Write(replyBody(c.errCode, msg))
}

// The reply's fixed header values, shared by every reply: Header.Set would
// allocate them each time.
var (
	contentTypeJSON = []string{"application/json"}
	noStore         = []string{"no-store"}
)

// replyBody is what json.Encoder writes for {ErrCode, ErrMsg}, newline
// included. A message of plain printable ASCII, as almost all are, is
// quoted as it is; any other goes through encoding/json for its escapes.
func replyBody(errCode int, msg string) []byte {
	b := make([]byte, 0, len(`{"ErrCode":,"ErrMsg":""}`)+12+len(msg)+1)
	b = append(b, `{"ErrCode":`...)
	b = strconv.AppendInt(b, int64(errCode), 10)
	b = append(b, `,"ErrMsg":`...)
	if plainASCII(msg) {
		b = append(append(append(b, '"'), msg...), '"')
	} else {
		q, _ := json.Marshal(msg)
		b = append(b, q...)
	}
	return append(b, "}\n"...)
}

// plainASCII reports whether s needs no escape in JSON, HTML-safe as
// encoding/json escapes by default.
func plainASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x20 || c >= 0x7f || c == '"' || c == '\\' || c == '<' || c == '>' || c == '&' {
			return false
		}
	}
	return true
}
