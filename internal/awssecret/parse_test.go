package awssecret

import (
	"errors"
	"strings"
	"testing"
)

func TestParseTencentSecret(t *testing.T) {
	tests := []struct {
		name, raw, id, key string
		ok                 bool
	}{
		{"SDK names", `{"SecretId":"AKIDa","SecretKey":"k1"}`, "AKIDa", "k1", true},
		{"environment names", `{"TENCENTCLOUD_SECRET_ID":"AKIDb","TENCENTCLOUD_SECRET_KEY":"k2"}`, "AKIDb", "k2", true},
		{"both: SDK names win", `{"SecretId":"AKIDa","SecretKey":"k1","TENCENTCLOUD_SECRET_ID":"AKIDb","TENCENTCLOUD_SECRET_KEY":"k2"}`, "AKIDa", "k1", true},
		{"incomplete SDK pair falls back", `{"SecretId":"AKIDa","TENCENTCLOUD_SECRET_ID":"AKIDb","TENCENTCLOUD_SECRET_KEY":"k2"}`, "AKIDb", "k2", true},
		{"spaces trimmed", `{"SecretId":" AKIDa\n","SecretKey":"k1 "}`, "AKIDa", "k1", true},
		{"extra members", `{"SecretId":"AKIDa","SecretKey":"k1","note":"rotated"}`, "AKIDa", "k1", true},
		{"mixed pair refused", `{"SecretId":"AKIDa","TENCENTCLOUD_SECRET_KEY":"k2"}`, "", "", false},
		{"empty value", `{"SecretId":"AKIDa","SecretKey":""}`, "", "", false},
		{"number value", `{"SecretId":"AKIDa","SecretKey":12345}`, "", "", false},
		{"not JSON", `AKIDa:k1`, "", "", false},
		{"array", `["AKIDa","k1"]`, "", "", false},
		{"empty", ``, "", "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			id, key, err := parseTencentSecret([]byte(tt.raw))
			if (err == nil) != tt.ok || id != tt.id || key != tt.key {
				t.Fatalf("parseTencentSecret = %q, %q, %v; want %q, %q, ok=%v", id, key, err, tt.id, tt.key, tt.ok)
			}
			if err != nil && (strings.Contains(err.Error(), "AKIDa") || strings.Contains(err.Error(), "k1") || strings.Contains(err.Error(), "12345")) {
				t.Errorf("error %q quotes the secret", err)
			}
		})
	}
}

func FuzzParseTencentSecret(f *testing.F) {
	f.Add([]byte(`{"SecretId":"AKIDa","SecretKey":"k1"}`))
	f.Add([]byte(`{"TENCENTCLOUD_SECRET_ID":"AKIDb","TENCENTCLOUD_SECRET_KEY":"k2"}`))
	f.Add([]byte(`{"SecretId":"AKIDa","SecretKey":{"x":1}}`))
	f.Add([]byte(`{"SecretId":"\u0041KID"`))
	f.Fuzz(func(t *testing.T, raw []byte) {
		id, key, err := parseTencentSecret(raw)
		if err != nil {
			if !errors.Is(err, errSecretShape) {
				t.Fatalf("error %v is not errSecretShape, so it may quote the secret", err)
			}
			return
		}
		if id == "" || key == "" {
			t.Fatalf("success with an empty half: %q, %q", id, key)
		}
	})
}
