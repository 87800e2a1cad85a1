package mask

import (
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/ccc-enricher/ccc-enricher/internal/push"
)

// load reads one of the push package's sample pushes.
func load(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", "push", "testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestMaskPhone(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"", ""},
		{"15812341234", "158****1234"},
		{"008615812341234", "0086158****1234"},
		{"+8615812341234", "+86158****1234"},
		{"+86 158 1234 1234", "+86 158 **** 1234"},
		{"075512345678", "0755****5678"},
		{"0086075512345678", "0086075*****5678"},
		{"12345678", "****5678"},
		{"1234567890", "12****7890"},
		{"12345678901234567890", "1234567*********7890"},
		// Separators stay where they are, also inside the masked part.
		{"138-1234-5678", "138-****-5678"},
		{"1381-234-5678", "138*-***-5678"},
		{"00A0000000", "0*A***0000"},
		// Short numbers are masked whole.
		{"1234567", "*******"},
		{"8001", "****"},
		{"95555", "*****"},
		// Already masked, by CCC or by MaskPhone.
		{"xxxxxxxx", "xxxxxxxx"},
		{"0086158xxxxxxxx", "0086158xxxxxxxx"},
		{"00860755xxxxxxxx", "00860755xxxxxxxx"},
		{"158****1234", "158****1234"},
		{"0086158XXXX1234", "0086158XXXX1234"},
		// A mask-like run followed by a whole number is not masked.
		{"xxxx13812345678", "xxxx138****5678"},
		{"***", "***"},
		// No digits: nothing to mask.
		{"anonymous", "anonymous"},
		{"foo@tencent.com", "foo@tencent.com"},
	} {
		if got := MaskPhone(tc.in); got != tc.want {
			t.Errorf("MaskPhone(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if got := MaskPhone(MaskPhone(tc.in)); got != MaskPhone(tc.in) {
			t.Errorf("MaskPhone is not idempotent on %q: %q", tc.in, got)
		}
	}
}

func TestMaskRaw(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{
			"top-level and nested",
			`{"Caller":"008613812345678","Callee":"13812345678","CallerLocation":"Shenzhen 0755",
			  "SeatUser":{"Phone":"008613900001111","Mail":"a@b.c","StaffNumber":"20012345"},
			  "ServeParticipants":[{"Phone":"","TransferFrom":"foo@x.com","TransferTo":"13812345678","RecordId":"12345678-1"}]}`,
			`{"Caller":"0086138****5678","Callee":"138****5678","CallerLocation":"Shenzhen 0755",` +
				`"SeatUser":{"Phone":"0086139****1111","Mail":"a@b.c","StaffNumber":"20012345"},` +
				`"ServeParticipants":[{"Phone":"","TransferFrom":"foo@x.com","TransferTo":"138****5678","RecordId":"12345678-1"}]}`,
		},
		{
			"arrays and numbers under phone keys",
			`{"Phones":["13812345678",13812345678,null],"EndpointUser":13123456789,"ProtectedCallee":"13812345678",
			  "IsForceUseMobile":1,"CalleeCount":13812345678,"Other":"13812345678"}`,
			`{"Phones":["138****5678","138****5678",null],"EndpointUser":"131****6789","ProtectedCallee":"138****5678",` +
				`"IsForceUseMobile":1,"CalleeCount":13812345678,"Other":"13812345678"}`,
		},
		{
			"EndpointUser mail stays",
			`{"EndpointUser":"foo@tencent.com","RecordURL":"https://x/13812345678.mp3"}`,
			`{"EndpointUser":"foo@tencent.com","RecordURL":"https://x/13812345678.mp3"}`,
		},
		{
			"case-insensitive keys, objects in phone arrays start afresh",
			`{"callee":"13812345678","Callers":[{"Name":"13812345678","Phone":"13812345678"}]}`,
			`{"callee":"138****5678","Callers":[{"Name":"13812345678","Phone":"138****5678"}]}`,
		},
		{
			"everything else kept: order, duplicates, literals, numbers as written",
			`{"b":1.50,"a":[true,false,null,{}],"a":-0,"e":1E+2,"s":"<&>\u2028é\"\\\n\t\u0001","Phone":""}`,
			`{"b":1.50,"a":[true,false,null,{}],"a":-0,"e":1E+2,"s":"<&>` + "\u2028" + `é\"\\\n\t\u0001","Phone":""}`,
		},
		{"not an object", `["13812345678"]`, `["13812345678"]`},
		{"scalar", `"13812345678"`, `"13812345678"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := MaskRaw(json.RawMessage(tc.in))
			if string(got) != tc.want {
				t.Errorf("MaskRaw =\n%s\nwant\n%s", got, tc.want)
			}
			if again := MaskRaw(got); string(again) != string(got) {
				t.Errorf("MaskRaw is not idempotent:\n%s", again)
			}
		})
	}
}

func TestMaskRawSample(t *testing.T) {
	body := load(t, "push-cdr.json")
	got := MaskRaw(body)
	// The sample's numbers are masked by CCC already: nothing changes.
	var a, b any
	if err := json.Unmarshal(body, &a); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(got, &b); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(a, b) {
		t.Errorf("MaskRaw changed the sample:\n%s", got)
	}
}

func TestMaskRawRefuses(t *testing.T) {
	for _, in := range []string{
		``,
		`{`,
		`{"Caller":"13812345678"`,
		`{"Caller":"13812345678"} x`,
		"{\"Caller\":\"\xff\"}x",
		`{"a":` + strings.Repeat("[", push.MaxDepth) + strings.Repeat("]", push.MaxDepth) + `}`,
	} {
		if got := MaskRaw(json.RawMessage(in)); got != nil {
			t.Errorf("MaskRaw(%q) = %s, want nil", in, got)
		}
	}
}
