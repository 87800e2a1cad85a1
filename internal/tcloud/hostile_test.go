package tcloud

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/ccc-enricher/ccc-enricher/internal/retry"
)

// TestCallRefusesRedirect: a 302 from the endpoint is a permanent error
// naming the status, and the signed request never reaches the other host.
func TestCallRefusesRedirect(t *testing.T) {
	var elsewhere atomic.Int32
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		elsewhere.Add(1)
	}))
	defer other.Close()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, other.URL+"/steal", http.StatusFound)
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, Config{Region: "ap-guangzhou"}, StaticCredential("the-id", "the-key", "the-token"))
	err := c.Call(context.Background(), "DescribeSessionDetail", nil, nil)
	if err == nil || !retry.IsPermanent(err) || !strings.Contains(err.Error(), "HTTP 302") || strings.Contains(err.Error(), "steal") {
		t.Errorf("Call = %v (permanent %v)", err, retry.IsPermanent(err))
	}
	if n := elsewhere.Load(); n != 0 {
		t.Errorf("the redirect was followed %d times", n)
	}
}

// TestCallErrorQuotesNothing: the API's message, and a code or request id
// that are not tokens, stay out of the error.
func TestCallErrorQuotesNothing(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"Response":{"Error":{"Code":"InvalidParameterValue","Message":"Caller 008613812345678 https://x.example/tcccadmin/getRecord/s"},"RequestId":"008613812345678"}}`)
	}))
	defer srv.Close()
	c := newTestClient(t, srv.URL, Config{Region: "ap-guangzhou"}, StaticCredential("the-id", "the-key", "the-token"))
	err := c.Call(context.Background(), "DescribeSessionDetail", nil, nil)
	if err == nil || !IsCode(err, "InvalidParameterValue") {
		t.Fatalf("Call = %v", err)
	}
	if s := err.Error(); strings.Contains(s, "008613812345678") || strings.Contains(s, "getRecord") {
		t.Errorf("error quotes the reply: %q", s)
	}
}
