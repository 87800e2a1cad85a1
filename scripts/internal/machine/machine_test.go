package machine

import (
	"runtime"
	"testing"
)

func TestCPUModel(t *testing.T) {
	tests := []struct{ name, cpuinfo, want string }{
		{"x86", "processor\t: 0\nvendor_id\t: GenuineIntel\nmodel name\t: Intel(R) Xeon(R) CPU @ 2.20GHz\nflags\t\t: fpu\n", "Intel(R) Xeon(R) CPU @ 2.20GHz"},
		{"first of several", "model name\t: A\nmodel name\t: B\n", "A"},
		{"none", "processor\t: 0\nBogoMIPS\t: 50.00\n", runtime.GOARCH},
		{"empty", "", runtime.GOARCH},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := cpuModel(tt.cpuinfo); got != tt.want {
				t.Errorf("cpuModel = %q, want %q", got, tt.want)
			}
		})
	}
	if CPUModel() == "" {
		t.Error("CPUModel() is empty")
	}
}
