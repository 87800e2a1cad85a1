package config

import (
	"strings"
	"testing"
)

func TestLoadArchive(t *testing.T) {
	hook := map[string]string{"WEBHOOK_URL": "https://example.com/hook", "WEBHOOK_SECRET": testSecret}
	with := func(extra map[string]string) map[string]string {
		m := map[string]string{}
		for k, v := range hook {
			m[k] = v
		}
		for k, v := range extra {
			m[k] = v
		}
		return m
	}
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string
		check   func(*Config) bool
	}{
		{name: "s3 and two sinks", env: with(map[string]string{"SINK": "webhook, archive", "ARCHIVE": "s3", "ARCHIVE_BUCKET": "calls", "ARCHIVE_PREFIX": "/ccc",
			"AWS_ENDPOINT_URL_S3": "http://127.0.0.1:5000", "MEDIA_HOSTS": "127.0.0.1, *.Media.Example", "RECONCILE_SKIP_DELIVERED": "true"}),
			check: func(c *Config) bool {
				a := c.Archive
				return len(c.Sinks) == 2 && c.Sink.Kind == KindWebhook && c.Sinks[1].Kind == KindArchive && c.ArchivesRecords() &&
					a.Kind == ArchiveS3 && a.Prefix == "ccc/" && a.S3Endpoint == "http://127.0.0.1:5000" &&
					strings.Join(a.MediaHosts, " ") == "127.0.0.1 *.media.example" && a.MaxBytes == 512<<20 &&
					a.Failure == ArchiveRetry && c.Reconcile.SkipDelivered
			}},
		{name: "cos media only", env: with(map[string]string{"SINK": "webhook", "ARCHIVE": "cos", "ARCHIVE_BUCKET": "calls-1250000000", "ARCHIVE_REGION": "ap-guangzhou",
			"ARCHIVE_FAILURE": "forward", "KEEP_SIGNED_LINKS": "true", "ARCHIVE_MAX_BYTES": "1048576"}),
			check: func(c *Config) bool {
				a := c.Archive
				return len(c.Sinks) == 1 && !c.ArchivesRecords() && a.Failure == ArchiveForward && a.KeepSignedLinks && a.MaxBytes == 1<<20
			}},
		{name: "archive sink alone", env: map[string]string{"SINK": "archive", "ARCHIVE": "s3", "ARCHIVE_BUCKET": "calls"},
			check: func(c *Config) bool { return c.Sink.Kind == KindArchive }},
		{name: "no bucket", env: map[string]string{"ARCHIVE": "s3"}, wantErr: "ARCHIVE_BUCKET is required when ARCHIVE is set"},
		{name: "cos without region", env: map[string]string{"ARCHIVE": "cos", "ARCHIVE_BUCKET": "calls-125"}, wantErr: "ARCHIVE_REGION is required when ARCHIVE=cos"},
		{name: "cos bucket without appid", env: map[string]string{"ARCHIVE": "cos", "ARCHIVE_BUCKET": "calls", "ARCHIVE_REGION": "ap-guangzhou"}, wantErr: "ARCHIVE_BUCKET must be a COS bucket name"},
		{name: "unknown cloud", env: map[string]string{"ARCHIVE": "gcs"}, wantErr: `ARCHIVE is "gcs"`},
		{name: "archive sink without archive", env: with(map[string]string{"SINK": "webhook,archive"}), wantErr: "SINK lists archive but ARCHIVE is not set"},
		{name: "sink twice", env: with(map[string]string{"SINK": "webhook,webhook"}), wantErr: "SINK names webhook twice"},
		{name: "unknown sink in a list", env: with(map[string]string{"SINK": "webhook,s3"}), wantErr: `SINK has "s3"`},
		{name: "list needs the sinks' variables", env: map[string]string{"SINK": "stdout,webhook"}, wantErr: "WEBHOOK_URL is required when SINK=webhook"},
		{name: "skip delivered without the records archive", env: map[string]string{"RECONCILE_SKIP_DELIVERED": "true"}, wantErr: "RECONCILE_SKIP_DELIVERED needs the records archive"},
		{name: "media host with a scheme", env: map[string]string{"MEDIA_HOSTS": "http://127.0.0.1:8080"}, wantErr: `MEDIA_HOSTS has "http://127.0.0.1:8080"`},
		{name: "max bytes", env: map[string]string{"ARCHIVE_MAX_BYTES": "0"}, wantErr: "ARCHIVE_MAX_BYTES is"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) { checkLoad(t, tt.env, tt.wantErr, tt.check) })
	}
}

// checkLoad loads the configuration of env (on top of base) and checks
// that it passes check, or fails with wantErr quoting no secret.
func checkLoad(t *testing.T, vars map[string]string, wantErr string, check func(*Config) bool) {
	t.Helper()
	c, err := Load(env(base(vars)))
	if wantErr == "" {
		if err != nil {
			t.Fatal(err)
		}
		if !check(c) {
			t.Errorf("unexpected configuration: sinks %+v, dead-letter %+v, archive %+v", c.Sinks, c.DeadLetter, c.Archive)
		}
		return
	}
	if err == nil || !strings.Contains(err.Error(), wantErr) {
		t.Fatalf("Load = %v, want %q", err, wantErr)
	}
	for _, leak := range []string{"tok3n", "hunter2", strings.TrimPrefix(testSecret, "whsec_")} {
		if strings.Contains(err.Error(), leak) {
			t.Errorf("error %q reveals %q", err, leak)
		}
	}
}
