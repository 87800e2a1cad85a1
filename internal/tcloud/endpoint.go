package tcloud

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// Endpoint is where API requests go.
type Endpoint struct {
	// Scheme is "https" or "http".
	Scheme string
	// Host is a host name or IP address, with an optional port.
	Host string
}

// String returns the endpoint as a URL.
func (e Endpoint) String() string { return e.Scheme + "://" + e.Host }

// ParseEndpoint parses an endpoint setting. A bare host
// ("ccc.intl.tencentcloudapi.com", "127.0.0.1:9000") means https; a URL
// ("http://127.0.0.1:9000", "https://ccc.tencentcloudapi.com/") names its
// scheme. Only the root path is allowed, since API 3.0 signs "/" as the
// request path; user information, queries and fragments are refused, so
// that no secret hides in the setting.
func ParseEndpoint(s string) (Endpoint, error) {
	if s == "" {
		return Endpoint{}, errors.New("endpoint is empty")
	}
	if strings.TrimSpace(s) != s || strings.ContainsAny(s, " \t\r\n\\") {
		return Endpoint{}, errors.New("endpoint contains white space or a backslash")
	}
	raw := s
	if !strings.Contains(s, "://") {
		raw = "https://" + s
	}
	u, err := url.Parse(raw)
	if err != nil {
		// url.Error repeats the input; the checks above keep that harmless,
		// but say only what is wrong.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return Endpoint{}, fmt.Errorf("endpoint is not a host or URL: %w", err)
	}
	if err := checkURL(u); err != nil {
		return Endpoint{}, err
	}
	return Endpoint{Scheme: u.Scheme, Host: u.Host}, nil
}

// checkURL checks a parsed endpoint: http or https to a host (and port),
// nothing more.
func checkURL(u *url.URL) error {
	switch {
	case u.Scheme != "https" && u.Scheme != "http":
		return fmt.Errorf("endpoint scheme %q is not http or https", u.Scheme)
	case u.User != nil:
		return errors.New("endpoint must not carry user information")
	case u.Opaque != "" || (u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.ForceQuery || u.Fragment != "":
		return errors.New("endpoint must be a host, without a path, query or fragment")
	case u.Hostname() == "":
		return errors.New("endpoint has no host")
	}
	if p := u.Port(); p != "" || strings.HasSuffix(u.Host, ":") {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return fmt.Errorf("endpoint port %q is not a number from 1 to 65535", p)
		}
	}
	if h := u.Hostname(); net.ParseIP(h) == nil && !validHostname(h) {
		return fmt.Errorf("endpoint host %q is not a valid host name", h)
	}
	return nil
}

// validHostname accepts DNS names: dot-separated labels of letters, digits,
// hyphens and underscores, none empty.
func validHostname(h string) bool {
	if len(h) > 253 {
		return false
	}
	for label := range strings.SplitSeq(strings.TrimSuffix(h, "."), ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return false
			}
		}
	}
	return true
}
