package scf

import "testing"

func TestRoutePath(t *testing.T) {
	tests := []struct {
		name, path string
		rc         apigwReqCtx
		want       string
	}{
		{"no stage", "/push", apigwReqCtx{Stage: "release", Path: "/push"}, "/push"},
		{"event's stage", "/release/push", apigwReqCtx{Stage: "release", Path: "/push"}, "/push"},
		{"event's own stage name", "/canary/push", apigwReqCtx{Stage: "canary"}, "/push"},
		{"documented stage", "/prepub/healthz", apigwReqCtx{}, "/healthz"},
		{"documented stage, another declared", "/test/push", apigwReqCtx{Stage: "release", Path: "/"}, "/push"},
		{"stage alone", "/release", apigwReqCtx{Stage: "release"}, "/"},
		{"stage and slash", "/release/", apigwReqCtx{Stage: "release"}, "/"},
		{"nested path", "/release/sessions/s-1/enrich", apigwReqCtx{Stage: "release", Path: "/sessions/{id}/enrich"}, "/sessions/s-1/enrich"},
		{"route that begins with a stage name", "/test/value", apigwReqCtx{Stage: "release", Path: "/test/{path}"}, "/test/value"},
		{"route that is the stage name", "/release", apigwReqCtx{Stage: "release", Path: "/release"}, "/release"},
		{"undeclared, undocumented stage", "/canary/push", apigwReqCtx{Stage: "release"}, "/canary/push"},
		{"only a whole segment", "/releases/push", apigwReqCtx{Stage: "release"}, "/releases/push"},
		{"empty stage", "//push", apigwReqCtx{}, "//push"},
		{"relative path", "release/push", apigwReqCtx{Stage: "release"}, "release/push"},
		{"empty", "", apigwReqCtx{Stage: "release"}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := routePath(tt.path, tt.rc); got != tt.want {
				t.Errorf("routePath(%q, %+v) = %q, want %q", tt.path, tt.rc, got, tt.want)
			}
		})
	}
}
