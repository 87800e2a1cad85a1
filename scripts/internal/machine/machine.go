// Package machine describes the machine a measurement runs on, for the
// headers of the load-test and cold-start reports.
package machine

import (
	"os"
	"runtime"
	"strings"
)

// CPUModel returns the processor's model name from /proc/cpuinfo, or the
// architecture where that is not to be had.
func CPUModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return runtime.GOARCH
	}
	return cpuModel(string(b))
}

func cpuModel(cpuinfo string) string {
	for line := range strings.SplitSeq(cpuinfo, "\n") {
		if v, ok := strings.CutPrefix(line, "model name"); ok {
			return strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(v), ":"))
		}
	}
	return runtime.GOARCH
}
