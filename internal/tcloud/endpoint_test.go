package tcloud

import (
	"strings"
	"testing"
)

func TestParseEndpoint(t *testing.T) {
	tests := []struct {
		in   string
		want Endpoint
		err  string
	}{
		{in: "ccc.intl.tencentcloudapi.com", want: Endpoint{"https", "ccc.intl.tencentcloudapi.com"}},
		{in: "ccc.tencentcloudapi.com", want: Endpoint{"https", "ccc.tencentcloudapi.com"}},
		{in: "127.0.0.1:9000", want: Endpoint{"https", "127.0.0.1:9000"}},
		{in: "http://127.0.0.1:9000", want: Endpoint{"http", "127.0.0.1:9000"}},
		{in: "http://127.0.0.1:9000/", want: Endpoint{"http", "127.0.0.1:9000"}},
		{in: "https://tdmq.ap-guangzhou.tencentcloudapi.com", want: Endpoint{"https", "tdmq.ap-guangzhou.tencentcloudapi.com"}},
		{in: "http://[::1]:8080", want: Endpoint{"http", "[::1]:8080"}},
		{in: "http://localhost", want: Endpoint{"http", "localhost"}},
		{in: "", err: "empty"},
		{in: " ccc.tencentcloudapi.com", err: "white space"},
		{in: "ccc tencentcloudapi.com", err: "white space"},
		{in: "ftp://host", err: "scheme"},
		{in: "HTTP://host", want: Endpoint{"http", "host"}},
		{in: "https://user:secret@host", err: "user information"},
		{in: "user:secret@host", err: "user information"},
		{in: "https://host/path", err: "path"},
		{in: "host/path", err: "path"},
		{in: "https://host?x=1", err: "query"},
		{in: "https://host?", err: "query"},
		{in: "https://host#f", err: "fragment"},
		{in: "https://", err: "no host"},
		{in: "https://:8080", err: "no host"},
		{in: "host:", err: "port"},
		{in: "host:0", err: "port"},
		{in: "host:65536", err: "port"},
		{in: "host:http", err: "not a host or URL"},
		{in: "ho%st", err: "not a host or URL"},
		{in: "-host.com", err: "host name"},
		{in: "a..b", err: "host name"},
		{in: "mailto:x", err: "not a host or URL"},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := ParseEndpoint(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("ParseEndpoint(%q) = %v, %v; want error containing %q", tt.in, got, err, tt.err)
				}
				if strings.Contains(err.Error(), "secret") {
					t.Errorf("error %q repeats the user information", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseEndpoint(%q) = %v, %v; want %v", tt.in, got, err, tt.want)
			}
		})
	}
}

func FuzzParseEndpoint(f *testing.F) {
	for _, s := range []string{"ccc.intl.tencentcloudapi.com", "http://127.0.0.1:9000", "https://[::1]:1/", "user:pw@h", "h:99999", "https://h/p?q#f"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		ep, err := ParseEndpoint(s)
		if err != nil {
			return
		}
		if ep.Scheme != "http" && ep.Scheme != "https" || ep.Host == "" {
			t.Fatalf("ParseEndpoint(%q) = %+v", s, ep)
		}
		// The result is stable: parsing its own form gives it back.
		again, err := ParseEndpoint(ep.String())
		if err != nil || again != ep {
			t.Fatalf("ParseEndpoint(%q) = %+v, but its String %q parses to %+v, %v", s, ep, ep.String(), again, err)
		}
	})
}
