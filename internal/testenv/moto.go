package testenv

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// StartMoto runs moto_server on a free loopback port for the test and
// returns its endpoint. Without moto_server the test is skipped, unless
// CCC_ENRICHER_REQUIRE_MOTO=1 (as in CI) makes that a failure.
func StartMoto(t testing.TB) string {
	t.Helper()
	bin, err := exec.LookPath("moto_server")
	if err != nil {
		if os.Getenv("CCC_ENRICHER_REQUIRE_MOTO") == "1" {
			t.Fatal("moto_server not found on PATH and CCC_ENRICHER_REQUIRE_MOTO=1")
		}
		t.Skip("moto_server not found on PATH: test skipped (set CCC_ENRICHER_REQUIRE_MOTO=1 to fail instead)")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	ln.Close()

	var logs Buffer
	cmd := exec.Command(bin, "-H", "127.0.0.1", "-p", fmt.Sprint(port))
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatalf("start moto_server: %v", err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-exited
	})

	endpoint := fmt.Sprintf("http://127.0.0.1:%d", port)
	ready := time.NewTicker(50 * time.Millisecond)
	defer ready.Stop()
	giveUp := time.After(30 * time.Second)
	for {
		select {
		case <-exited:
			t.Fatalf("moto_server exited:\n%s", logs.String())
		case <-giveUp:
			t.Fatalf("moto_server did not answer on %s:\n%s", endpoint, logs.String())
		case <-ready.C:
		}
		if resp, err := http.Get(endpoint + "/moto-api/"); err == nil {
			resp.Body.Close()
			return endpoint
		}
	}
}

// AWSConfig is an AWS configuration for the moto_server at endpoint, with
// test credentials.
func AWSConfig(endpoint string) aws.Config {
	return aws.Config{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(endpoint),
		HTTPClient:   &http.Client{},
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return aws.Credentials{AccessKeyID: "AKIDTEST", SecretAccessKey: "test-secret"}, nil
		}),
	}
}
