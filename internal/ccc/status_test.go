package ccc

import "testing"

func TestEndStatusName(t *testing.T) {
	// The EndStatus table of ccc-api.md, in full.
	want := map[int64]string{
		1: "ok", 100: "blackList", 102: "ivrGiveUp", 103: "waitingGiveUp", 104: "ringingGiveUp",
		105: "noSeatOnline", 106: "notWorkTime", 107: "ivrEnd", 108: "restrictedCallee",
		109: "tooManyRequest", 110: "restrictedArea", 111: "restrictedTime", 202: "notAnswer",
		203: "userReject", 204: "powerOff", 205: "numberNotExist", 206: "busy", 207: "outOfCredit",
		208: "operatorError", 209: "callerCancel", 210: "notInService", 211: "clientError",
		212: "carrierBlocked", 213: "callReminder", 215: "numberInvalid", 216: "callRestricted",
		217: "calleeRestricted", 218: "areaRestricted", 219: "promptCallForwarding",
		220: "callerCancelWhileRing", 221: "callerCancelWithoutRing", 222: "voiceMailReached",
		501: "callConflict", 502: "clientTimeout", 503: "voipClientError",
		17: "seatGiveUp", 225: "asrError", 226: "llmasrError", 227: "ttsError",
		228: "functionCallHangup", 229: "maxCallDurationReached", 230: "userInactivity",
		231: "callTerminatedByAPI", 232: "userHangupDuringAiCall", 233: "aiAgentEndCall",
	}
	for code, name := range want {
		if got := EndStatusName(code); got != name {
			t.Errorf("EndStatusName(%d) = %q, want %q", code, got, name)
		}
		if got, ok := EndStatusCode(name); !ok || got != code {
			t.Errorf("EndStatusCode(%q) = %d, %v; want %d", name, got, ok, code)
		}
	}
	for _, name := range []string{"", "OK", "unknownFutureStatus", " ok"} {
		if code, ok := EndStatusCode(name); ok {
			t.Errorf("EndStatusCode(%q) = %d, want unknown", name, code)
		}
	}
	if len(endStatusNames) != len(want) {
		t.Errorf("%d names, want %d", len(endStatusNames), len(want))
	}
	for _, code := range []int64{0, -1, 2, 101, 214, 999} {
		if got := EndStatusName(code); got != "" {
			t.Errorf("EndStatusName(%d) = %q, want \"\"", code, got)
		}
	}
}
