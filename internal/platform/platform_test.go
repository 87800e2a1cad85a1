package platform

import "testing"

func TestDescribe(t *testing.T) {
	tests := []struct {
		event, want string
	}{
		{`{"b":1,"a":{"secret":"x"}}`, "object with members [a b]"},
		{`{}`, "object with members []"},
		{`{"k":1,"j":1,"i":1,"h":1,"g":1,"f":1,"e":1,"d":1,"c":1,"b":1,"a":1}`, "object with members [a b c d e f g h i j …]"},
		{`[1]`, "not a JSON object"},
		{`"x"`, "not a JSON object"},
		{`not json`, "not a JSON object"},
	}
	for _, tt := range tests {
		if got := Describe([]byte(tt.event)); got != tt.want {
			t.Errorf("Describe(%s) = %q, want %q", tt.event, got, tt.want)
		}
	}
}
