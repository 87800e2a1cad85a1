package config

import (
	"net"
	"strconv"
)

// Platforms, the values of Runtime.Platform.
const (
	// PlatformLocal is a local HTTP server on PORT.
	PlatformLocal = "local"
	// PlatformLambda is AWS Lambda: AWS_LAMBDA_RUNTIME_API is set.
	PlatformLambda = "lambda"
	// PlatformSCF is a Tencent SCF custom runtime: SCF_RUNTIME_API is set
	// (and AWS_LAMBDA_RUNTIME_API is not).
	PlatformSCF = "scf"
)

// Runtime says which platform runs the function, from the variables each
// platform sets.
type Runtime struct {
	// Platform is PlatformLocal, PlatformLambda or PlatformSCF.
	Platform string
	// SCFRuntimeAPI is the SCF runtime API's "host:port"
	// (SCF_RUNTIME_API, SCF_RUNTIME_API_PORT), on SCF.
	SCFRuntimeAPI string
}

// runtime reads the platform's variables as they are, untrimmed: the
// platform sets them, and whether they are set at all is what counts.
func (r *reader) runtime() Runtime {
	switch {
	case r.getenv("AWS_LAMBDA_RUNTIME_API") != "":
		return Runtime{Platform: PlatformLambda}
	case r.getenv("SCF_RUNTIME_API") != "":
		port := r.getenv("SCF_RUNTIME_API_PORT")
		if n, err := strconv.Atoi(port); err != nil || n < 1 || n > 65535 {
			r.fail("SCF_RUNTIME_API_PORT", "must be a port number from 1 to 65535 when SCF_RUNTIME_API is set")
		}
		return Runtime{Platform: PlatformSCF, SCFRuntimeAPI: net.JoinHostPort(r.getenv("SCF_RUNTIME_API"), port)}
	}
	return Runtime{Platform: PlatformLocal}
}
