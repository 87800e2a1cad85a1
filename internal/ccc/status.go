package ccc

// endStatusNames names the EndStatus codes shared by DescribeSessionDetail,
// DescribeTelCdr and the CDR push (EndStatusString in the latter two).
var endStatusNames = map[int64]string{
	1:   "ok",
	100: "blackList",
	102: "ivrGiveUp",
	103: "waitingGiveUp",
	104: "ringingGiveUp",
	105: "noSeatOnline",
	106: "notWorkTime",
	107: "ivrEnd",
	108: "restrictedCallee",
	109: "tooManyRequest",
	110: "restrictedArea",
	111: "restrictedTime",
	// 17 and 225–233 are on CCC's status-code pages, not in the SDK's
	// comment.
	17:  "seatGiveUp",
	202: "notAnswer",
	203: "userReject",
	204: "powerOff",
	205: "numberNotExist",
	206: "busy",
	207: "outOfCredit",
	208: "operatorError",
	209: "callerCancel",
	210: "notInService",
	211: "clientError",
	212: "carrierBlocked",
	213: "callReminder",
	215: "numberInvalid",
	216: "callRestricted",
	217: "calleeRestricted",
	218: "areaRestricted",
	219: "promptCallForwarding",
	220: "callerCancelWhileRing",
	221: "callerCancelWithoutRing",
	222: "voiceMailReached",
	501: "callConflict",
	502: "clientTimeout",
	503: "voipClientError",
	// The AI voice agent's.
	225: "asrError",
	226: "llmasrError",
	227: "ttsError",
	228: "functionCallHangup",
	229: "maxCallDurationReached",
	230: "userInactivity",
	231: "callTerminatedByAPI",
	232: "userHangupDuringAiCall",
	233: "aiAgentEndCall",
}

// EndStatusName returns the API's name of an EndStatus code ("ok",
// "notAnswer", …), or "" for a code it does not know: CCC adds codes, and a
// record keeps the number in any case, so an invented name would only have
// to be recognised and skipped downstream.
func EndStatusName(code int64) string {
	return endStatusNames[code]
}

// endStatusCodes is endStatusNames the other way round.
var endStatusCodes = func() map[string]int64 {
	m := make(map[string]int64, len(endStatusNames))
	for code, name := range endStatusNames {
		m[name] = code
	}
	return m
}()

// EndStatusCode returns the code of an EndStatus name, as a CDR push gives
// it (EndStatusString: the push has no numeric EndStatus), and whether the
// name is known. Names are matched exactly, as the API spells them.
func EndStatusCode(name string) (int64, bool) {
	code, ok := endStatusCodes[name]
	return code, ok
}
