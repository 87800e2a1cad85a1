package deploycheck

import (
	"reflect"
	"strings"
	"testing"

	"github.com/ccc-enricher/ccc-enricher/internal/metrics"
)

// TestTemplateAlarms: template.yaml alarms on the dead-letter queue's
// visible messages, the function's errors and throttles and the API's 5xx
// rate, and its dashboard charts every metric the function writes, in the
// namespace the function is given.
func TestTemplateAlarms(t *testing.T) {
	doc := decode(t, readFile(t, "template.yaml"))
	resources, _ := doc["Resources"].(map[string]any)
	var fnName string
	alarms := map[string]map[string]any{}
	var dashboards []string
	for name, r := range resources {
		switch get(r, "Type") {
		case "AWS::Serverless::Function":
			if name == "EnricherFunction" { // the push function; the worker is optional
				fnName = name
			}
		case "AWS::CloudWatch::Alarm":
			alarms[name], _ = get(r, "Properties").(map[string]any)
		case "AWS::CloudWatch::Dashboard":
			dashboards = append(dashboards, name)
		}
	}
	ns := get(resources, fnName, "Properties", "Environment", "Variables", "METRICS_NAMESPACE")
	if ns == nil {
		t.Fatal("the function has no METRICS_NAMESPACE")
	}

	// find returns the alarm on a plain metric with the given dimension.
	find := func(namespace, metric, dim string, value any) map[string]any {
		for _, a := range alarms {
			if get(a, "MetricName") == metric && reflect.DeepEqual(get(a, "Namespace"), namespace) &&
				get(a, "Dimensions", 0, "Name") == dim && reflect.DeepEqual(get(a, "Dimensions", 0, "Value"), value) {
				return a
			}
		}
		t.Errorf("no alarm on %s %s with %s %v", namespace, metric, dim, value)
		return nil
	}
	queueName := func(q string) any { return map[string]any{"Fn::GetAtt": []any{q, "QueueName"}} }
	dlq, _ := get(resources, fnName, "Properties", "Environment", "Variables", "DLQ_SQS_QUEUE_URL", "Ref").(string)
	find("AWS/SQS", "ApproximateNumberOfMessagesVisible", "QueueName", queueName(dlq))
	find("AWS/Lambda", "Errors", "FunctionName", ref(fnName))
	find("AWS/Lambda", "Throttles", "FunctionName", ref(fnName))
	for name, a := range alarms {
		if a["AlarmActions"] == nil || a["TreatMissingData"] != "notBreaching" {
			t.Errorf("alarm %s: want AlarmActions (the optional topic) and TreatMissingData notBreaching", name)
		}
	}

	rate := false
	for _, a := range alarms {
		var names []string
		expr := ""
		for _, m := range asSlice(a["Metrics"]) {
			if n, ok := get(m, "MetricStat", "Metric", "MetricName").(string); ok && get(m, "MetricStat", "Metric", "Namespace") == "AWS/ApiGateway" {
				names = append(names, n)
			}
			if e, ok := get(m, "Expression").(string); ok {
				expr = e
			}
		}
		if reflect.DeepEqual(names, []string{"5xx", "Count"}) && strings.Contains(expr, "/") {
			rate = true
		}
	}
	if !rate {
		t.Error("no alarm on the API's 5xx rate (metric math on 5xx / Count)")
	}

	if len(dashboards) != 1 {
		t.Fatalf("dashboards %v, want one", dashboards)
	}
	sub := asSlice(get(resources, dashboards[0], "Properties", "DashboardBody", "Fn::Sub"))
	body, _ := get(sub, 0).(string)
	if !reflect.DeepEqual(get(sub, 1, "Namespace"), ns) {
		t.Errorf("dashboard namespace %v, want the function's METRICS_NAMESPACE %v", get(sub, 1, "Namespace"), ns)
	}
	for _, m := range metrics.Names() {
		if !strings.Contains(body, m) {
			t.Errorf("the dashboard does not chart %s", m)
		}
	}
}
