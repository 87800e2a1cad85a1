package archive

import (
	"net"
	"net/url"
	"strings"
)

// DefaultHosts are the media hosts allowed when none are configured: CCC's
// recording and transcript host and COS's, reached over HTTPS only.
var DefaultHosts = []string{
	"tccc.qcloud.com", "*.tccc.qcloud.com", "tccc.tencentcloud.com", "*.tccc.tencentcloud.com",
	"*.myqcloud.com", "*.tencentcos.cn", "*.tencentcos.com",
}

// Hosts is the allow-list of the hosts media is fetched from, so that a
// forged link cannot make the function fetch an internal address. An
// entry is a host name or IP ("127.0.0.1") or "*." and a domain, which
// matches its subdomains.
type Hosts struct {
	patterns []string
	// explicit hosts were configured: plain HTTP and any port are allowed
	// for them (an emulator on loopback); the defaults need HTTPS on 443.
	explicit bool
}

// NewHosts returns the allow-list of hosts, or DefaultHosts when hosts is
// empty.
func NewHosts(hosts []string) Hosts {
	if len(hosts) == 0 {
		return Hosts{patterns: DefaultHosts}
	}
	h := Hosts{explicit: true}
	for _, p := range hosts {
		h.patterns = append(h.patterns, strings.ToLower(strings.TrimSuffix(p, ".")))
	}
	return h
}

// Allows reports whether media may be fetched from u.
func (h Hosts) Allows(u *url.URL) bool {
	if u == nil || u.User != nil || u.Opaque != "" {
		return false
	}
	switch {
	case u.Scheme == "https" && (u.Port() == "" || u.Port() == "443"):
	case h.explicit && (u.Scheme == "https" || u.Scheme == "http"):
	default:
		return false
	}
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	if host == "" {
		return false
	}
	for _, p := range h.patterns {
		if domain, ok := strings.CutPrefix(p, "*."); ok {
			if strings.HasSuffix(host, "."+domain) && net.ParseIP(host) == nil {
				return true
			}
		} else if host == p {
			return true
		}
	}
	return false
}
