package testenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
)

// LambdaFixture reads one of aws-lambda-go's own event fixtures from the
// module cache, for the version this module requires; they are never
// copied into the repository.
func LambdaFixture(t testing.TB, name string) []byte {
	t.Helper()
	version := "v1.55.1"
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, d := range bi.Deps {
			if d.Path == "github.com/aws/aws-lambda-go" {
				version = d.Version
			}
		}
	}
	out, err := exec.Command("go", "env", "GOMODCACHE").Output()
	if err != nil {
		t.Fatalf("go env GOMODCACHE: %v", err)
	}
	p := filepath.Join(strings.TrimSpace(string(out)), "github.com/aws/aws-lambda-go@"+version, "events", "testdata", name)
	b, err := os.ReadFile(p)
	if err != nil {
		t.Fatalf("aws-lambda-go fixture: %v (run go mod download github.com/aws/aws-lambda-go)", err)
	}
	return b
}
