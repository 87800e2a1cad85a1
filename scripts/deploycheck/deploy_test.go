package deploycheck

import (
	"archive/zip"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// root is the repository root, where the deployment files live.
const root = "../.."

func readFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root, name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// decode parses YAML into plain Go values. CloudFormation's short-form
// intrinsic tags become their long forms: !Ref x is {"Ref": x}, !GetAtt a.b
// is {"Fn::GetAtt": [a, b]}, !Sub s is {"Fn::Sub": s}, and so on.
func decode(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	v, err := value(doc.Content[0])
	if err != nil {
		t.Fatal(err)
	}
	m, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("document is a %T, want a mapping", v)
	}
	return m
}

func value(n *yaml.Node) (any, error) {
	var v any
	tag := n.Tag
	switch n.Kind {
	case yaml.AliasNode:
		return value(n.Alias)
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			val, err := value(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			m[n.Content[i].Value] = val
		}
		v = m
	case yaml.SequenceNode:
		s := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			val, err := value(c)
			if err != nil {
				return nil, err
			}
			s = append(s, val)
		}
		v = s
	default:
		// A custom tag would make Decode fail; the scalar underneath is
		// what it tags.
		plain := *n
		if strings.HasPrefix(tag, "!") && !strings.HasPrefix(tag, "!!") {
			plain.Tag = ""
		}
		if err := plain.Decode(&v); err != nil {
			return nil, err
		}
	}
	switch {
	case tag == "!Ref":
		return map[string]any{"Ref": v}, nil
	case tag == "!GetAtt":
		if s, ok := v.(string); ok {
			a, b, _ := strings.Cut(s, ".")
			v = []any{a, b}
		}
		return map[string]any{"Fn::GetAtt": v}, nil
	case tag == "!Condition":
		return map[string]any{"Condition": v}, nil
	case strings.HasPrefix(tag, "!") && !strings.HasPrefix(tag, "!!"):
		return map[string]any{"Fn::" + tag[1:]: v}, nil
	}
	return v, nil
}

// get walks nested mappings and sequences: get(m, "a", "b", 0) is m.a.b[0].
func get(v any, path ...any) any {
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			s, _ := v.([]any)
			if k >= len(s) {
				return nil
			}
			v = s[k]
		}
	}
	return v
}

func TestDecodeIntrinsics(t *testing.T) {
	got := decode(t, []byte("a: !Ref P\nb: !GetAtt Q.Arn\nc: !Sub 'x-${P}'\nd: !If [C, !Ref P, !Ref AWS::NoValue]\ne: !Equals [!Ref P, 'true']\n"))
	want := map[string]any{
		"a": map[string]any{"Ref": "P"},
		"b": map[string]any{"Fn::GetAtt": []any{"Q", "Arn"}},
		"c": map[string]any{"Fn::Sub": "x-${P}"},
		"d": map[string]any{"Fn::If": []any{"C", map[string]any{"Ref": "P"}, map[string]any{"Ref": "AWS::NoValue"}}},
		"e": map[string]any{"Fn::Equals": []any{map[string]any{"Ref": "P"}, "true"}},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("decode = %#v\nwant     %#v", got, want)
	}
}

// The component's published rules (serverless-components/tencent-types
// scf@0.0.4.yml and tencent-scf docs/configure.md).
var (
	scfNamePattern    = regexp.MustCompile(`^[A-Za-z][\w-]*[A-Za-z0-9]$`)
	scfServicePattern = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9(_)]{0,48}[a-zA-Z0-9]?$`)
	scfRuntimes       = []string{"Python2.7", "Python3.6", "Python3.7", "Python3.9", "Nodejs6.10", "Nodejs8.9", "Nodejs10.15", "Nodejs12.16", "Nodejs14.18", "Nodejs16.13", "Php5", "Php7", "Php7.4", "Php8.0", "Go1", "Java8", "Java11", "CustomRuntime"}
	scfRegions        = []string{"ap-beijing", "ap-chengdu", "ap-chongqing", "ap-guangzhou", "ap-hongkong", "ap-mumbai", "ap-seoul", "ap-shanghai", "ap-shanghai-fsi", "ap-shenzhen-fsi", "ap-singapore", "ap-tokyo", "eu-frankfurt", "na-siliconvalley", "na-toronto"}
	scfMethods        = []string{"ANY", "GET", "HEAD", "POST", "PUT", "DELETE"}
	// scfInputs are the inputs configure.md documents; anything else is a
	// typo that the CLI would pass on silently.
	scfInputs = []string{"name", "namespace", "role", "enableRoleAuth", "src", "handler", "runtime", "region", "description",
		"memorySize", "timeout", "initTimeout", "environment", "publicAccess", "vpcConfig", "cfs", "deadLetter", "layers",
		"cls", "eip", "asyncRunEnable", "tags", "events", "type", "installDependency", "image", "l5Enable"}
)

// resolve substitutes the instance variables ${name}, ${stage} and ${app}.
func resolve(s string, doc map[string]any) string {
	for _, k := range []string{"name", "stage", "app"} {
		v, _ := doc[k].(string)
		s = strings.ReplaceAll(s, "${"+k+"}", v)
	}
	return s
}

func checkSCFName(t *testing.T, what, name string) {
	t.Helper()
	if !scfNamePattern.MatchString(name) || len(name) < 2 || len(name) > 60 {
		t.Errorf("%s %q: want 2-60 letters, digits, - and _, starting with a letter, ending with a letter or digit", what, name)
	}
}

func TestServerlessYML(t *testing.T) {
	raw := readFile(t, "serverless.yml")
	doc := decode(t, raw)
	in, _ := doc["inputs"].(map[string]any)
	if doc["component"] != "scf" || in == nil {
		t.Fatalf("component = %v, inputs = %v: want a component: scf file", doc["component"], in)
	}
	checkSCFName(t, "instance name", resolve(doc["name"].(string), doc))
	checkSCFName(t, "function name", resolve(in["name"].(string), doc))
	for k := range in {
		if !slices.Contains(scfInputs, k) {
			t.Errorf("inputs.%s is not a documented input", k)
		}
	}

	checks := []struct {
		key  string
		want any
	}{
		{"type", "event"},
		{"runtime", "CustomRuntime"},
		{"handler", "bootstrap"},
		{"memorySize", 128},
		{"timeout", 30},
		{"initTimeout", 3},
		{"namespace", "default"},
	}
	for _, c := range checks {
		if got := in[c.key]; got != c.want {
			t.Errorf("inputs.%s = %v, want %v", c.key, got, c.want)
		}
	}
	if rt, _ := in["runtime"].(string); !slices.Contains(scfRuntimes, rt) {
		t.Errorf("runtime %q is not one the component accepts", rt)
	}
	if r, _ := in["region"].(string); !slices.Contains(scfRegions, r) {
		t.Errorf("region %q is not one the component accepts", r)
	}
	if mem, _ := in["memorySize"].(int); mem != 64 && (mem < 128 || mem > 3072 || mem%128 != 0) {
		t.Errorf("memorySize %d: want 64 or 128-3072 in steps of 128", mem)
	}
	if to, _ := in["timeout"].(int); to < 1 || to > 900 {
		t.Errorf("timeout %d: want 1-900", to)
	}
	// The component's docs say 1-30, the platform 3-300: keep to both.
	if it, _ := in["initTimeout"].(int); it < 3 || it > 30 {
		t.Errorf("initTimeout %d: want 3-30", it)
	}
	if role, _ := in["role"].(string); role == "" {
		t.Error("inputs.role: want the execution role whose keys the function uses")
	}
	if src := get(in, "src", "src"); src != "./dist/scf" {
		t.Errorf("inputs.src.src = %v, want ./dist/scf (scripts/build.sh puts bootstrap at its root)", src)
	}

	vars, ok := get(in, "environment", "variables").(map[string]any)
	if !ok {
		t.Fatal("inputs.environment.variables: want a mapping")
	}
	for _, k := range []string{"PUSH_AUTH", "CCC_SDK_APP_IDS", "CCC_ENDPOINT", "SINK", "WEBHOOK_URL", "WEBHOOK_SECRET",
		"PUSH_BASIC_USERNAME", "PUSH_BASIC_PASSWORD", "PUSH_OAUTH_CLIENT_ID", "PUSH_OAUTH_CLIENT_SECRET"} {
		if v := vars[k]; v != "${env:"+k+"}" {
			t.Errorf("environment %s = %v, want ${env:%s}", k, v, k)
		}
	}

	// The least-privilege policy is documented beside the role.
	for _, action := range []string{"ccc:DescribeSessionDetail", "ccc:DescribeTelCdr", "tdmq:SendCmqMsg"} {
		if !bytes.Contains(raw, []byte(action)) {
			t.Errorf("serverless.yml does not document the CAM action %s", action)
		}
	}

	events, _ := in["events"].([]any)
	var apigw, fnURL, timer []map[string]any
	for _, e := range events {
		m, _ := e.(map[string]any)
		if len(m) != 1 {
			t.Errorf("event %v: want one trigger kind per entry", e)
		}
		if a, ok := m["apigw"].(map[string]any); ok {
			apigw = append(apigw, a)
		}
		if h, ok := m["http"].(map[string]any); ok {
			fnURL = append(fnURL, h)
		}
		if tm, ok := m["timer"].(map[string]any); ok {
			timer = append(timer, tm)
		}
	}
	if len(apigw) != 1 || len(fnURL) != 1 || len(timer) != 1 {
		t.Fatalf("triggers: %d apigw, %d http and %d timer, want one of each", len(apigw), len(fnURL), len(timer))
	}
	checkAPIGW(t, apigw[0])
	checkFunctionURL(t, fnURL[0])
	checkTimer(t, timer[0])
}

// TestServerlessYMLRedriveExample checks the commented CKafka trigger at the
// end of serverless.yml, as a user who uncomments it would deploy it,
// against the component's ckafka trigger rules, and the commented
// dead-letter variables it needs.
func TestServerlessYMLRedriveExample(t *testing.T) {
	raw := string(readFile(t, "serverless.yml"))
	example := uncomment(t, raw, "- ckafka:")
	var triggers []map[string]any
	if err := yaml.Unmarshal([]byte(example), &triggers); err != nil || len(triggers) != 1 {
		t.Fatalf("commented ckafka trigger does not parse as one trigger: %v\n%s", err, example)
	}
	checkCKafkaTrigger(t, triggers[0])

	vars := uncomment(t, raw, "DLQ_SINK: kafka")
	var env map[string]any
	if err := yaml.Unmarshal([]byte(vars), &env); err != nil {
		t.Fatalf("commented dead-letter variables: %v\n%s", err, vars)
	}
	for _, k := range []string{"DLQ_KAFKA_BROKERS", "DLQ_KAFKA_TOPIC"} {
		if env[k] != "${env:"+k+"}" {
			t.Errorf("commented %s = %v, want ${env:%s}", k, env[k], k)
		}
	}
}

// checkCKafkaTrigger checks a ckafka trigger against the component's rules
// and returns its parameters.
func checkCKafkaTrigger(t *testing.T, trigger map[string]any) map[string]any {
	t.Helper()
	k, _ := trigger["ckafka"].(map[string]any)
	name, _ := k["name"].(string)
	checkSCFName(t, "ckafka trigger name", name)
	p, _ := k["parameters"].(map[string]any)
	for _, key := range []string{"name", "topic", "maxMsgNum", "offset", "retry"} {
		if p[key] == nil {
			t.Errorf("ckafka parameters.%s is required", key)
		}
	}
	if n, _ := p["maxMsgNum"].(int); n < 1 || n > 10000 {
		t.Errorf("maxMsgNum = %v, want 1-10000", p["maxMsgNum"])
	}
	if p["offset"] != "latest" {
		t.Errorf("offset = %v: the component accepts only latest", p["offset"])
	}
	// The default is 10,000 retries, during which the topic's later
	// messages wait behind one that keeps failing.
	if n, _ := p["retry"].(int); n < 1 || n > 1000 {
		t.Errorf("retry = %v, want 1-1000", p["retry"])
	}
	if p["enable"] != true {
		t.Errorf("enable = %v, want true", p["enable"])
	}
	return p
}

// TestServerlessYMLIntakeExample checks the commented intake setup of
// serverless.yml as a user who uncomments it would deploy it: the INTAKE
// variables, a ckafka trigger on the intake topic (not the dead-letter
// one), and the global budget: the reserved concurrency W (the tccli
// command's memory over memorySize) times CCC_RATE_LIMIT within CCC's 20
// detail calls a second, and a batch the rate limit gets through well
// within the function's timeout.
func TestServerlessYMLIntakeExample(t *testing.T) {
	raw := string(readFile(t, "serverless.yml"))
	var env map[string]any
	if err := yaml.Unmarshal([]byte(uncomment(t, raw, "INTAKE: kafka")), &env); err != nil {
		t.Fatalf("commented intake variables: %v", err)
	}
	for _, k := range []string{"INTAKE_KAFKA_BROKERS", "INTAKE_KAFKA_TOPIC"} {
		if env[k] != "${env:"+k+"}" {
			t.Errorf("commented %s = %v, want ${env:%s}", k, env[k], k)
		}
	}
	rate, err := strconv.ParseFloat(fmt.Sprint(env["CCC_RATE_LIMIT"]), 64)
	if err != nil || rate <= 0 {
		t.Fatalf("commented CCC_RATE_LIMIT = %v, want a rate", env["CCC_RATE_LIMIT"])
	}
	m := regexp.MustCompile(`(?s)PutReservedConcurrencyConfig.{0,200}?--ReservedConcurrencyMem (\d+)`).FindStringSubmatch(raw)
	if m == nil {
		t.Fatal("serverless.yml does not say how to set the reserved concurrency (tccli scf PutReservedConcurrencyConfig --ReservedConcurrencyMem)")
	}
	mem, _ := strconv.Atoi(m[1])
	in := decode(t, []byte(raw))["inputs"].(map[string]any)
	size, _ := in["memorySize"].(int)
	if size == 0 || mem%size != 0 || mem < size {
		t.Fatalf("ReservedConcurrencyMem %d: want a multiple of memorySize %d", mem, size)
	}
	if w := mem / size; float64(w)*rate > 20 {
		t.Errorf("reserved concurrency %d x CCC_RATE_LIMIT %g = %g detail calls/s, beyond CCC's 20", w, rate, float64(w)*rate)
	}

	var intake, redrive map[string]any
	for _, block := range uncommentAll(raw, "- ckafka:") {
		var triggers []map[string]any
		if err := yaml.Unmarshal([]byte(block), &triggers); err != nil || len(triggers) != 1 {
			t.Fatalf("commented ckafka trigger does not parse as one trigger: %v\n%s", err, block)
		}
		p := checkCKafkaTrigger(t, triggers[0])
		switch get(triggers[0], "ckafka", "name") {
		case "intake":
			intake = p
		case "redrive":
			redrive = p
		}
	}
	if intake == nil || redrive == nil {
		t.Fatal("want the commented ckafka triggers intake and redrive")
	}
	if intake["topic"] == redrive["topic"] {
		t.Errorf("the intake and redrive triggers share topic %v", intake["topic"])
	}
	timeout, _ := in["timeout"].(int)
	if n, _ := intake["maxMsgNum"].(int); float64(n)/rate > float64(timeout)/2 {
		t.Errorf("intake maxMsgNum %d at %g detail calls/s takes more than half the %d s timeout", n, rate, timeout)
	}
}

// uncomment returns the first commented block of YAML that starts with the
// line "# "+first: that line and the next ones commented at the same
// indentation, without their "# ".
func uncomment(t *testing.T, text, first string) string {
	t.Helper()
	blocks := uncommentAll(text, first)
	if len(blocks) == 0 {
		t.Fatalf("no commented %q in serverless.yml", first)
	}
	return blocks[0]
}

// uncommentAll returns every such block, in order.
func uncommentAll(text, first string) []string {
	var blocks []string
	lines := strings.Split(text, "\n")
	for i, l := range lines {
		indent, ok := strings.CutSuffix(l, "# "+first)
		if !ok || strings.TrimSpace(indent) != "" {
			continue
		}
		var out []string
		for _, l := range lines[i:] {
			rest, ok := strings.CutPrefix(l, indent+"# ")
			if !ok {
				break
			}
			out = append(out, rest)
		}
		blocks = append(blocks, strings.Join(out, "\n"))
	}
	return blocks
}

func checkAPIGW(t *testing.T, a map[string]any) {
	t.Helper()
	p, _ := a["parameters"].(map[string]any)
	if p == nil {
		t.Fatal("apigw.parameters missing")
	}
	if got := p["protocols"]; !reflect.DeepEqual(got, []any{"https"}) {
		t.Errorf("protocols = %v, want [https]", got)
	}
	for _, nt := range asSlice(p["netTypes"]) {
		if nt != "OUTER" && nt != "INNER" {
			t.Errorf("netTypes has %v", nt)
		}
	}
	if env := p["environment"]; env != "release" {
		t.Errorf("environment = %v, want release", env)
	}
	if sn, _ := p["serviceName"].(string); sn != "" && !scfServicePattern.MatchString(sn) {
		t.Errorf("serviceName %q does not match %s", sn, scfServicePattern)
	}
	want := map[string]bool{"POST /push": true, "POST /oauth/token": true, "POST /sessions/{id}/enrich": true, "GET /healthz": true}
	got := map[string]bool{}
	for _, e := range asSlice(p["endpoints"]) {
		ep, _ := e.(map[string]any)
		path, _ := ep["path"].(string)
		method, _ := ep["method"].(string)
		if path == "" {
			t.Errorf("endpoint %v without path", ep)
		}
		if !slices.Contains(scfMethods, method) {
			t.Errorf("endpoint %s: method %q not one of %v", path, method, scfMethods)
		}
		got[method+" "+path] = true
		if st, ok := ep["serviceTimeout"].(int); ok && (st < 1 || st > 1800) {
			t.Errorf("endpoint %s: serviceTimeout %d, want 1-1800", path, st)
		}
		if c, ok := ep["enableCORS"]; ok {
			if _, isBool := c.(bool); !isBool {
				t.Errorf("endpoint %s: enableCORS %v is not a boolean", path, c)
			}
		}
		if ir := get(ep, "function", "isIntegratedResponse"); ir != true {
			t.Errorf("endpoint %s: function.isIntegratedResponse = %v, want true (the function replies in the integrated-response shape)", path, ir)
		}
		// Path parameters must be declared.
		for _, m := range regexp.MustCompile(`\{(\w+)\}`).FindAllStringSubmatch(path, -1) {
			declared := false
			for _, prm := range asSlice(ep["param"]) {
				if get(prm, "name") == m[1] && get(prm, "position") == "PATH" {
					declared = true
				}
			}
			if !declared {
				t.Errorf("endpoint %s: path parameter %s not declared in param with position PATH", path, m[1])
			}
		}
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("endpoints = %v, want %v", got, want)
	}
}

// checkFunctionURL checks the http (function URL) trigger. The component
// names it http with its settings under parameters, netConfig among them
// (reference/platforms.md §1.4b, from Tencent's component docs 1154/39271);
// the member names follow SCF's CreateTrigger description for the type
// http (AuthType, NetConfig.EnableIntranet/EnableExtranet), lower-camel as
// the component spells its parameters.
func checkFunctionURL(t *testing.T, h map[string]any) {
	t.Helper()
	if name, ok := h["name"].(string); ok {
		checkSCFName(t, "http trigger name", name)
	}
	p, ok := h["parameters"].(map[string]any)
	if !ok {
		t.Fatal("http.parameters: want a mapping")
	}
	// CCC cannot sign its pushes with CAM: the URL is open and PUSH_AUTH
	// authenticates the push.
	if a := p["authType"]; a != "NONE" {
		t.Errorf("http authType = %v, want NONE", a)
	}
	nc, ok := p["netConfig"].(map[string]any)
	if !ok {
		t.Fatal("http.parameters.netConfig: want a mapping")
	}
	for k, v := range nc {
		if k != "enableIntranet" && k != "enableExtranet" {
			t.Errorf("netConfig.%s is not a network setting", k)
		}
		if _, isBool := v.(bool); !isBool {
			t.Errorf("netConfig.%s = %v, want a boolean", k, v)
		}
	}
	// CCC pushes from the internet.
	if nc["enableExtranet"] != true {
		t.Errorf("netConfig.enableExtranet = %v, want true", nc["enableExtranet"])
	}
}

func checkTimer(t *testing.T, tm map[string]any) {
	t.Helper()
	p, _ := tm["parameters"].(map[string]any)
	cron, _ := p["cronExpression"].(string)
	// Tencent cron: second minute hour day month weekday year.
	if f := strings.Fields(cron); len(f) != 7 || f[0] != "0" || f[1] != "*/10" || strings.Join(f[2:], " ") != "* * * * *" {
		t.Errorf("cronExpression %q, want every 10 minutes: 0 */10 * * * * *", cron)
	}
	if tm["name"] != "reconcile" && p["name"] != "reconcile" {
		t.Errorf("timer name = %v / %v, want reconcile (the job the timer runs)", tm["name"], p["name"])
	}
	if p["argument"] != "reconcile" {
		t.Errorf("timer argument = %v, want reconcile: it arrives as the event's Message", p["argument"])
	}
	if p["enable"] != true {
		t.Errorf("timer enable = %v, want true", p["enable"])
	}
}

// checkIntake checks queued intake (EnableIntake, off by default): the
// intake queue's redrive after IntakeMaxReceives, the worker's event
// source mapping (batch, MaximumConcurrency = IntakeWorkers, batch item
// failures) and its per-instance CCC_RATE_LIMIT, whose product with the
// workers stays within the account's 20 calls a second.
func checkIntake(t *testing.T, resources, params map[string]any, mappings any) {
	t.Helper()
	if get(params, "EnableIntake", "Default") != "false" {
		t.Errorf("EnableIntake default = %v, want 'false'", get(params, "EnableIntake", "Default"))
	}
	for _, name := range []string{"IntakeQueue", "IntakeDeadLetterQueue", "WorkerFunction"} {
		if get(resources, name, "Condition") != "UseIntake" {
			t.Errorf("%s: Condition = %v, want UseIntake", name, get(resources, name, "Condition"))
		}
	}
	if got := get(resources, "IntakeQueue", "Properties", "RedrivePolicy", "maxReceiveCount"); !reflect.DeepEqual(got, ref("IntakeMaxReceives")) {
		t.Errorf("IntakeQueue maxReceiveCount = %v, want !Ref IntakeMaxReceives", got)
	}
	w, _ := get(resources, "WorkerFunction", "Properties").(map[string]any)
	vars, _ := get(w, "Environment", "Variables").(map[string]any)
	if vars["INTAKE"] != "sqs" || !reflect.DeepEqual(vars["INTAKE_MAX_RECEIVES"], ref("IntakeMaxReceives")) {
		t.Errorf("worker INTAKE = %v, INTAKE_MAX_RECEIVES = %v", vars["INTAKE"], vars["INTAKE_MAX_RECEIVES"])
	}
	e := get(w, "Events", "Intake", "Properties")
	if get(e, "BatchSize") == nil || !reflect.DeepEqual(get(e, "ScalingConfig", "MaximumConcurrency"), ref("IntakeWorkers")) ||
		!reflect.DeepEqual(get(e, "FunctionResponseTypes"), []any{"ReportBatchItemFailures"}) {
		t.Errorf("worker event source = %v, want BatchSize, MaximumConcurrency !Ref IntakeWorkers, ReportBatchItemFailures", e)
	}
	for _, workers := range asSlice(get(params, "IntakeWorkers", "AllowedValues")) {
		n, _ := strconv.Atoi(fmt.Sprint(workers))
		rate, err := strconv.ParseFloat(fmt.Sprint(get(mappings, "IntakeRate", fmt.Sprint(workers), "Rate")), 64)
		if err != nil || n < 2 || float64(n)*rate > 20 {
			t.Errorf("IntakeWorkers %v: CCC_RATE_LIMIT %v per worker; want workers x rate <= 20", workers, get(mappings, "IntakeRate", fmt.Sprint(workers), "Rate"))
		}
	}
}

func asSlice(v any) []any {
	s, _ := v.([]any)
	return s
}

func ref(name string) map[string]any { return map[string]any{"Ref": name} }

func TestTemplateYAML(t *testing.T) {
	doc := decode(t, readFile(t, "template.yaml"))
	if doc["Transform"] != "AWS::Serverless-2016-10-31" {
		t.Errorf("Transform = %v", doc["Transform"])
	}
	resources, _ := doc["Resources"].(map[string]any)
	params, _ := doc["Parameters"].(map[string]any)
	var fnName string
	byType := map[string][]string{}
	for name, r := range resources {
		typ, _ := get(r, "Type").(string)
		byType[typ] = append(byType[typ], name)
		// The intake worker (EnableIntake) is the one other function,
		// checked by checkIntake.
		if typ == "AWS::Serverless::Function" && name != "WorkerFunction" {
			fnName = name
		}
	}
	if n := len(byType["AWS::Serverless::Function"]); fnName == "" || n > 2 || (n == 2 && resources["WorkerFunction"] == nil) {
		t.Fatalf("functions: %v, want the enricher and at most the intake worker", byType["AWS::Serverless::Function"])
	}
	checkIntake(t, resources, params, doc["Mappings"])
	fn, _ := get(resources, fnName, "Properties").(map[string]any)

	for key, want := range map[string]any{
		"Runtime": "provided.al2023", "Handler": "bootstrap", "MemorySize": 128, "Timeout": 30,
	} {
		if fn[key] != want {
			t.Errorf("%s = %v, want %v", key, fn[key], want)
		}
	}
	if code, _ := fn["CodeUri"].(string); !strings.HasPrefix(code, "dist/aws/") {
		t.Errorf("CodeUri = %v, want the package scripts/build.sh writes under dist/aws/", fn["CodeUri"])
	}
	if got := fn["Architectures"]; !reflect.DeepEqual(got, []any{ref("Architecture")}) {
		t.Errorf("Architectures = %v, want [!Ref Architecture]", got)
	}
	if got := get(params, "Architecture", "AllowedValues"); !reflect.DeepEqual(got, []any{"arm64", "x86_64"}) || get(params, "Architecture", "Default") != "arm64" {
		t.Errorf("Architecture parameter = %v", params["Architecture"])
	}

	vars, _ := get(fn, "Environment", "Variables").(map[string]any)
	for _, k := range []string{"PUSH_AUTH", "CCC_SDK_APP_IDS", "CCC_ENDPOINT", "SINK", "WEBHOOK_URL", "WEBHOOK_SECRET", "TENCENTCLOUD_SECRET_ARN"} {
		if vars[k] == nil {
			t.Errorf("Environment lacks %s", k)
		}
	}
	if vars["TENCENTCLOUD_SECRET_ARN"] != nil && !reflect.DeepEqual(vars["TENCENTCLOUD_SECRET_ARN"], ref("TencentSecretArn")) {
		t.Errorf("TENCENTCLOUD_SECRET_ARN = %v, want !Ref TencentSecretArn", vars["TENCENTCLOUD_SECRET_ARN"])
	}
	for _, secret := range []string{"WebhookSecret", "PushBasicPassword", "PushOAuthClientSecret"} {
		if get(params, secret, "NoEcho") != true {
			t.Errorf("parameter %s: want NoEcho", secret)
		}
	}

	// Secrets Manager: read access to that one secret; SQS: sending to the
	// dead-letter queue. Nothing else.
	var statements []any
	for _, p := range asSlice(fn["Policies"]) {
		for _, st := range asSlice(get(p, "Statement")) {
			// The intake statement exists only with EnableIntake (checkIntake).
			if get(st, "Fn::If") == nil {
				statements = append(statements, st)
			}
		}
	}
	if len(statements) != 2 {
		t.Fatalf("policy statements = %v, want exactly the one for the Tencent secret and the one for the dead-letter queue", statements)
	}
	st := statements[0]
	if get(st, "Effect") != "Allow" || get(st, "Action") != "secretsmanager:GetSecretValue" || !reflect.DeepEqual(get(st, "Resource"), ref("TencentSecretArn")) {
		t.Errorf("statement = %v, want Allow secretsmanager:GetSecretValue on !Ref TencentSecretArn", st)
	}
	checkDeadLetterQueue(t, resources, fn, statements[1])

	// Failed asynchronous invocations (the schedule) go to an SQS queue.
	dest := get(fn, "EventInvokeConfig", "DestinationConfig", "OnFailure")
	queue, _ := get(dest, "Destination", "Fn::GetAtt", 0).(string)
	if get(dest, "Type") != "SQS" || get(resources, queue, "Type") != "AWS::SQS::Queue" {
		t.Errorf("EventInvokeConfig on-failure destination = %v, want an SQS queue of this template", dest)
	}

	wantRoutes := map[string]bool{"POST /push": true, "POST /oauth/token": true, "POST /sessions/{id}/enrich": true, "GET /healthz": true}
	routes := map[string]bool{}
	var schedules []any
	for name, e := range get(fn, "Events").(map[string]any) {
		switch get(e, "Type") {
		case "HttpApi":
			routes[get(e, "Properties", "Method").(string)+" "+get(e, "Properties", "Path").(string)] = true
			if v := get(e, "Properties", "PayloadFormatVersion"); v != nil && v != "2.0" {
				t.Errorf("event %s: PayloadFormatVersion %v", name, v)
			}
		case "Schedule", "ScheduleV2":
			schedules = append(schedules, e)
		case "SQS":
			// Checked with the dead-letter queue.
		default:
			t.Errorf("event %s of type %v", name, get(e, "Type"))
		}
	}
	if !reflect.DeepEqual(routes, wantRoutes) {
		t.Errorf("HttpApi routes = %v, want %v", routes, wantRoutes)
	}
	if len(schedules) != 1 || get(schedules[0], "Properties", "Schedule") != "rate(10 minutes)" ||
		!strings.Contains(strings.ToLower(strings.Join(flatten(get(schedules[0], "Properties", "Name")), " ")), "reconcile") {
		t.Errorf("schedules = %v, want one rate(10 minutes) named reconcile", schedules)
	}

	// The function URL is optional, by condition on a parameter.
	urls := byType["AWS::Lambda::Url"]
	if len(urls) != 1 {
		t.Fatalf("function URLs: %v, want one", urls)
	}
	cond, _ := get(resources, urls[0], "Condition").(string)
	eq := asSlice(get(doc, "Conditions", cond, "Fn::Equals"))
	if cond == "" || len(eq) != 2 || !reflect.DeepEqual(eq[0], ref("EnableFunctionUrl")) || params["EnableFunctionUrl"] == nil {
		t.Errorf("function URL condition %q = %v, want one on the EnableFunctionUrl parameter", cond, eq)
	}
	for _, p := range byType["AWS::Lambda::Permission"] {
		if get(resources, p, "Condition") != cond {
			t.Errorf("permission %s is not under the function URL's condition", p)
		}
	}

	groups := byType["AWS::Logs::LogGroup"]
	if len(groups) != 1 || !reflect.DeepEqual(get(resources, groups[0], "Properties", "RetentionInDays"), ref("LogRetentionInDays")) {
		t.Errorf("log groups %v: want one with RetentionInDays: !Ref LogRetentionInDays", groups)
	} else if !reflect.DeepEqual(get(fn, "LoggingConfig", "LogGroup"), ref(groups[0])) {
		t.Errorf("LoggingConfig.LogGroup = %v, want !Ref %s", get(fn, "LoggingConfig", "LogGroup"), groups[0])
	}

	outputs, _ := doc["Outputs"].(map[string]any)
	if outputs["ApiUrl"] == nil || outputs["FunctionUrl"] == nil || get(outputs, "FunctionUrl", "Condition") != cond {
		t.Errorf("Outputs = %v, want ApiUrl and a conditional FunctionUrl", outputs)
	}
}

// checkDeadLetterQueue checks the dead-letter sink of the template and its
// redrive: DLQ_SINK=sqs on a queue of the template that the function may
// send to, an SQS event on that queue reporting partial batch failures,
// and a redrive policy that parks a message failing too often in another
// queue of the template.
func checkDeadLetterQueue(t *testing.T, resources, fn map[string]any, statement any) {
	t.Helper()
	vars, _ := get(fn, "Environment", "Variables").(map[string]any)
	dlqRef, _ := get(vars, "DLQ_SQS_QUEUE_URL", "Ref").(string)
	if vars["DLQ_SINK"] != "sqs" || get(resources, dlqRef, "Type") != "AWS::SQS::Queue" {
		t.Fatalf("DLQ_SINK = %v, DLQ_SQS_QUEUE_URL = %v: want sqs and !Ref a queue of this template", vars["DLQ_SINK"], vars["DLQ_SQS_QUEUE_URL"])
	}
	arn := map[string]any{"Fn::GetAtt": []any{dlqRef, "Arn"}}
	if get(statement, "Effect") != "Allow" || get(statement, "Action") != "sqs:SendMessage" || !reflect.DeepEqual(get(statement, "Resource"), arn) {
		t.Errorf("statement = %v, want Allow sqs:SendMessage on !GetAtt %s.Arn", statement, dlqRef)
	}

	var sqsEvents []any
	for _, e := range get(fn, "Events").(map[string]any) {
		if get(e, "Type") == "SQS" {
			sqsEvents = append(sqsEvents, e)
		}
	}
	if len(sqsEvents) != 1 {
		t.Fatalf("SQS events: %d, want one, on the dead-letter queue", len(sqsEvents))
	}
	ev, _ := get(sqsEvents[0], "Properties").(map[string]any)
	if !reflect.DeepEqual(ev["Queue"], arn) {
		t.Errorf("SQS event queue = %v, want !GetAtt %s.Arn", ev["Queue"], dlqRef)
	}
	if !reflect.DeepEqual(ev["FunctionResponseTypes"], []any{"ReportBatchItemFailures"}) {
		t.Errorf("FunctionResponseTypes = %v, want [ReportBatchItemFailures]: without it a batch with one failure is retried whole, or lost", ev["FunctionResponseTypes"])
	}
	if n, _ := ev["BatchSize"].(int); n < 1 || n > 10 {
		t.Errorf("BatchSize = %v, want 1-10 (SQS without a batching window)", ev["BatchSize"])
	}
	if e, ok := ev["Enabled"]; ok && e != true {
		t.Errorf("SQS event Enabled = %v", e)
	}

	q, _ := get(resources, dlqRef, "Properties").(map[string]any)
	timeout, _ := fn["Timeout"].(int)
	if vt, _ := q["VisibilityTimeout"].(int); vt < 6*timeout {
		t.Errorf("%s VisibilityTimeout = %v, want at least 6 × the function's %d s timeout", dlqRef, q["VisibilityTimeout"], timeout)
	}
	parking, _ := get(q, "RedrivePolicy", "deadLetterTargetArn", "Fn::GetAtt", 0).(string)
	if parking == dlqRef || get(resources, parking, "Type") != "AWS::SQS::Queue" {
		t.Errorf("%s RedrivePolicy = %v, want a deadLetterTargetArn on another queue of this template", dlqRef, q["RedrivePolicy"])
	}
	if n, _ := get(q, "RedrivePolicy", "maxReceiveCount").(int); n < 2 || n > 10 {
		t.Errorf("%s maxReceiveCount = %v, want 2-10: a few redrives, then parked", dlqRef, get(q, "RedrivePolicy", "maxReceiveCount"))
	}
	for _, name := range []string{dlqRef, parking} {
		if get(resources, name, "Properties", "MessageRetentionPeriod") != 1209600 {
			t.Errorf("%s: want MessageRetentionPeriod 1209600 (14 days, the most SQS keeps)", name)
		}
	}
}

// flatten lists the strings in v, however nested (a !Sub is a mapping).
func flatten(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, e := range x {
			out = append(out, flatten(e)...)
		}
		return out
	case map[string]any:
		var out []string
		for _, e := range x {
			out = append(out, flatten(e)...)
		}
		return out
	}
	return nil
}

// tool finds an external checker, or skips the test where it is missing
// unless the environment variable require is 1 (as CI sets it).
func tool(t *testing.T, name, require, install string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv(require) == "1" {
			t.Fatalf("%s not found and %s=1", name, require)
		}
		t.Skipf("%s not found (%s); set %s=1 to make this a failure", name, install, require)
	}
	return p
}

func TestCFNLint(t *testing.T) {
	bin := tool(t, "cfn-lint", "CCC_ENRICHER_REQUIRE_CFNLINT", "pip install cfn-lint")
	cmd := exec.Command(bin, "template.yaml")
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil || len(bytes.TrimSpace(out)) > 0 {
		t.Errorf("cfn-lint template.yaml: %v\n%s", err, out)
	}
}

// scripts are the scripts this package checks.
var scripts = []string{"build.sh", "deploy-scf.sh", "deploy-aws.sh", "invoke-rie.sh", "send-push.sh"}

func TestScripts(t *testing.T) {
	for _, s := range scripts {
		path := filepath.Join(root, "scripts", s)
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		text := string(b)
		if !strings.HasPrefix(text, "#!/usr/bin/env bash\n# Usage: ") {
			t.Errorf("%s: want a bash shebang and a usage comment", s)
		}
		if !strings.Contains(text, "\nset -euo pipefail\n") {
			t.Errorf("%s: want set -euo pipefail", s)
		}
		if fi, err := os.Stat(path); err == nil && fi.Mode()&0o111 == 0 {
			t.Errorf("%s is not executable", s)
		}
		if out, err := exec.Command("bash", "-n", path).CombinedOutput(); err != nil {
			t.Errorf("bash -n %s: %v\n%s", s, err, out)
		}
	}
}

func TestShellcheck(t *testing.T) {
	bin := tool(t, "shellcheck", "CCC_ENRICHER_REQUIRE_SHELLCHECK", "apt-get install shellcheck")
	// -x follows the scripts' source directives into scripts/lib.sh.
	args := []string{"-x"}
	for _, s := range scripts {
		args = append(args, filepath.Join("scripts", s))
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = root
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("shellcheck: %v\n%s", err, out)
	}
}

// TestBuildReproducible runs scripts/build.sh twice into different
// directories and wants byte-identical packages with bootstrap, executable,
// at the root of each zip. It builds amd64 only, to stay quick on a cold
// build cache; the arm64 build differs in GOARCH alone.
func TestBuildReproducible(t *testing.T) {
	if testing.Short() {
		t.Skip("builds bootstrap twice per architecture")
	}
	var dirs [2]string
	for i := range dirs {
		dirs[i] = t.TempDir()
		cmd := exec.Command("bash", "scripts/build.sh", "amd64")
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "DIST="+dirs[i])
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("build.sh: %v\n%s", err, out)
		}
	}
	for _, f := range []string{"aws/bootstrap-amd64.zip", "scf-amd64.zip", "scf/bootstrap"} {
		a, err := os.ReadFile(filepath.Join(dirs[0], f))
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(dirs[1], f))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs between two builds of the same source", f)
		}
		if !strings.HasSuffix(f, ".zip") {
			continue
		}
		zr, err := zip.NewReader(bytes.NewReader(a), int64(len(a)))
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if len(zr.File) != 1 || zr.File[0].Name != "bootstrap" || zr.File[0].Mode().Perm() != 0o755 {
			var names []string
			for _, zf := range zr.File {
				names = append(names, zf.Name+" "+zf.Mode().String())
			}
			t.Errorf("%s holds %v, want only bootstrap with mode 0755", f, names)
		}
	}
	if fi, err := os.Stat(filepath.Join(dirs[0], "scf", "bootstrap")); err != nil || fi.Mode().Perm() != 0o755 {
		t.Errorf("dist/scf/bootstrap: %v, want an executable", err)
	}
}
