package main

import (
	"bytes"
	"strings"
	"testing"
)

func TestSummarise(t *testing.T) {
	in := strings.Join([]string{
		`{"Action":"run","Package":"p","Test":"TestA"}`,
		`{"Action":"output","Package":"p","Test":"TestA","Output":"=== RUN   TestA\n"}`,
		`{"Action":"output","Package":"p","Test":"TestA","Output":"    a_test.go:9: moto_server not found (pip install 'moto[server]')\n"}`,
		`{"Action":"output","Package":"p","Test":"TestA","Output":"--- SKIP: TestA (0.00s)\n"}`,
		`{"Action":"skip","Package":"p","Test":"TestA"}`,
		`{"Action":"output","Package":"p","Test":"TestB","Output":"    b_test.go:3: got 1, want 2\n"}`,
		`{"Action":"output","Package":"p","Test":"TestB","Output":"--- FAIL: TestB (0.00s)\n"}`,
		`{"Action":"fail","Package":"p","Test":"TestB"}`,
		`{"Action":"output","Package":"p","Test":"TestC","Output":"    c_test.go:3: passing chatter\n"}`,
		`{"Action":"pass","Package":"p","Test":"TestC"}`,
		`{"Action":"output","Package":"p","Output":"PASS\n"}`,
		`{"Action":"output","Package":"p","Output":"FAIL\tp\t0.01s\n"}`,
		`{"Action":"skip","Package":"q"}`,
		`# a build line`,
	}, "\n")
	var out bytes.Buffer
	skips, err := summarise(strings.NewReader(in), &out)
	if err != nil {
		t.Fatal(err)
	}
	want := "    b_test.go:3: got 1, want 2\n--- FAIL: TestB (0.00s)\nFAIL\tp\t0.01s\n# a build line\n"
	if out.String() != want {
		t.Errorf("output %q, want %q", out.String(), want)
	}
	if len(skips) != 1 || skips[0].test != "TestA" || skips[0].why != "a_test.go:9: moto_server not found (pip install 'moto[server]')" {
		t.Errorf("skips %+v", skips)
	}
}
