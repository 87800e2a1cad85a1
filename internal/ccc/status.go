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
}

// EndStatusName returns the API's name of an EndStatus code ("ok",
// "notAnswer", …), or "" for a code it does not know: CCC adds codes, and a
// record keeps the number in any case, so an invented name would only have
// to be recognised and skipped downstream.
func EndStatusName(code int64) string {
	return endStatusNames[code]
}
