package main

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/tencentcloud/tencentcloud-sdk-go/tencentcloud/common"

	"github.com/ccc-enricher/ccc-enricher/handler"
	"github.com/ccc-enricher/ccc-enricher/internal/archive"
	"github.com/ccc-enricher/ccc-enricher/internal/awsconf"
	"github.com/ccc-enricher/ccc-enricher/internal/awssecret"
	"github.com/ccc-enricher/ccc-enricher/internal/cccapi"
	"github.com/ccc-enricher/ccc-enricher/internal/config"
	"github.com/ccc-enricher/ccc-enricher/internal/enrich"
	"github.com/ccc-enricher/ccc-enricher/internal/metrics"
	"github.com/ccc-enricher/ccc-enricher/internal/platform"
	"github.com/ccc-enricher/ccc-enricher/internal/pushauth"
	"github.com/ccc-enricher/ccc-enricher/internal/sink"
	"github.com/ccc-enricher/ccc-enricher/internal/tcemu"
	"github.com/ccc-enricher/ccc-enricher/internal/tcloud"
)

// app is the wired program: one handler and the jobs, built once per
// process (a cold start) from the configuration.
type app struct {
	cfg      *config.Config
	log      *slog.Logger
	handler  http.Handler
	enricher *enrich.Enricher
	// primary is the sink alone, without the dead-letter fallback that
	// enricher sends through: redrive sends there.
	primary sink.Sink
	ccc     *cccapi.Client
	// jobs are the scheduled jobs, by the names a platform's timer or
	// schedule gives.
	jobs platform.Jobs
	// sample is the embedded emulator's sample call, when CCC_ENDPOINT=emulator.
	sample *tcemu.Sample
	// intakeQueue is what queue triggers of the intake queue feed; nil
	// when INTAKE is unset.
	intakeQueue *platform.Intake
	closers     []func()
	// metrics writes the metrics lines; nil when they are off (observe).
	metrics *metrics.Writer

	// store is the archive's bucket (ARCHIVE), or nil.
	store archive.Store
	// aws is the AWS configuration every AWS client shares, with one
	// credentials cache, built when the first client needs it.
	aws func() (aws.Config, error)
}

// emulatorKeys are the demo key pair the embedded emulator accepts. They
// open nothing but the emulator.
const (
	emulatorSecretID  = "AKIDemulatorEXAMPLE0000000000000000"
	emulatorSecretKey = "emulatorSecretKeyEXAMPLE000000000"
)

func newApp(ctx context.Context, cfg *config.Config, log *slog.Logger) (*app, error) {
	a := &app{cfg: cfg, log: log}
	a.aws = sync.OnceValues(func() (aws.Config, error) { return awsconf.New(cfg.AWS) })
	a.jobs = platform.Jobs{"reconcile": a.reconcileJob}
	cred, endpoint, err := a.tencent(ctx)
	if err != nil {
		a.close()
		return nil, err
	}
	tc, err := tcloud.NewClient("ccc", "2020-02-10", tcloud.Config{
		Endpoint: endpoint, Region: cfg.CCC.Region, Timeout: cfg.CCC.Timeout,
	}, cred)
	if err != nil {
		a.close()
		return nil, fmt.Errorf("CCC_ENDPOINT: %w", err)
	}
	a.ccc = cccapi.New(tc, cccapi.Options{Rate: cfg.CCC.Rate, SessionGrace: cfg.CCC.SessionGrace})

	deps := sinkDeps{
		httpClient: &http.Client{},
		stdout:     os.Stdout,
		aws:        func(context.Context) (aws.Config, error) { return a.aws() },
		tencent:    cred,
	}
	if a.store, err = newArchiveStore(ctx, cfg.Archive, deps); err != nil {
		a.close()
		return nil, err
	}
	if a.primary, err = newSinks(ctx, cfg, deps, a.store); err != nil {
		a.close()
		return nil, err
	}
	a.primary = measuredSink{a.primary, metrics.Primary}
	out := a.primary
	if cfg.DeadLetter.Kind != "" {
		dlq, err := newSink(ctx, cfg.DeadLetter, deps, "DLQ_")
		if err != nil {
			a.close()
			return nil, err
		}
		out = sink.WithDeadLetter(out, measuredSink{dlq, metrics.DeadLetter})
	}

	a.enricher = &enrich.Enricher{
		Detail:         a.ccc,
		Sink:           out,
		ForwardPartial: cfg.OnDetailFailure == config.DetailForwardPartial,
		MaskPhones:     cfg.MaskPhoneNumbers,
		Media:          newMedia(cfg.Archive, a.store),

		ForwardWithoutMedia: cfg.Archive.Failure == config.ArchiveForward,
	}
	opts := handler.Options{
		AllowApp:         cfg.AllowsApp,
		Enricher:         a.enricher,
		APIToken:         cfg.APIToken,
		MaxBodyBytes:     cfg.Push.MaxBodyBytes,
		DropUnknownKinds: cfg.UnknownPushKinds == config.UnknownDrop,
		Timeout:          cfg.RequestTimeout,
		Logger:           log,
	}
	switch cfg.Push.Auth {
	case "":
		// A command (reconcile, backfill), which takes no pushes.
		opts.Auth = pushauth.NoAuth()
	case config.AuthNone:
		opts.Auth = pushauth.NoAuth()
		log.Warn("PUSH_AUTH=none: anyone who knows the URL can push; use basic or oauth2 in production")
	case config.AuthBasic:
		opts.Auth = pushauth.Basic(cfg.Push.BasicUsername, cfg.Push.BasicPassword)
	case config.AuthOAuth2:
		o := pushauth.NewOAuth2(cfg.Push.OAuthClientID, cfg.Push.OAuthSecret, cfg.Push.OAuthTokenTTL, time.Now)
		opts.Auth, opts.TokenEndpoint = o, o.TokenHandler()
	}
	if opts.Intake, err = newIntake(ctx, cfg.Intake, deps); err != nil {
		a.close()
		return nil, err
	}
	if a.intakeQueue, err = a.intake(ctx, deps); err != nil {
		a.close()
		return nil, err
	}
	a.handler = handler.New(opts)
	return a, nil
}

// tencent returns the credential and CCC endpoint for the platform. With
// CCC_ENDPOINT=emulator it starts the embedded emulator on loopback and
// returns its key pair, so that everything runs offline; on Lambda, a
// Secrets Manager secret holds the key pair when the configuration names
// one.
func (a *app) tencent(ctx context.Context) (common.CredentialIface, string, error) {
	if a.cfg.CCC.Endpoint == config.EmulatorEndpoint {
		emu := tcemu.New(tcemu.Options{SecretID: emulatorSecretID, SecretKey: emulatorSecretKey})
		sample, err := tcemu.LoadSamples(emu, time.Now())
		if err != nil {
			return nil, "", fmt.Errorf("emulator: %w", err)
		}
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, "", fmt.Errorf("emulator: %w", err)
		}
		srv := &http.Server{Handler: emu, ReadHeaderTimeout: 5 * time.Second}
		go srv.Serve(ln)
		a.closers = append(a.closers, func() { srv.Close() })
		a.sample = &sample
		dir, err := writeSamples(sample)
		if err != nil {
			return nil, "", fmt.Errorf("emulator: %w", err)
		}
		a.log.Info("using the embedded CCC API emulator; its sample pushes, timed to match, are in "+dir,
			"addr", ln.Addr().String(), "samples", dir)
		return tcloud.StaticCredential(emulatorSecretID, emulatorSecretKey, ""), "http://" + ln.Addr().String(), nil
	}
	if arn := a.cfg.Tencent.SecretARN; arn != "" && a.cfg.Runtime.Platform == config.PlatformLambda {
		awsCfg, err := a.aws()
		if err != nil {
			return nil, "", fmt.Errorf("TENCENTCLOUD_SECRET_ARN: load AWS config: %w", err)
		}
		id, key, err := awssecret.TencentSecret(ctx, awsCfg, arn)
		if err != nil {
			return nil, "", fmt.Errorf("TENCENTCLOUD_SECRET_ARN: %w", err)
		}
		return tcloud.StaticCredential(id, key, ""), a.cfg.CCC.Endpoint, nil
	}
	sources, err := a.cfg.Tencent.Credentials()
	if err != nil {
		return nil, "", err
	}
	cred, err := tcloud.NewCredential(sources)
	if err != nil {
		return nil, "", err
	}
	return cred, a.cfg.CCC.Endpoint, nil
}

// writeSamples writes the emulator's sample pushes, timed to match its
// sessions, where scripts/send-push.sh can send them to the local server:
// the files in tcemu/samples are too old for the CCC API's 180-day window.
func writeSamples(s tcemu.Sample) (string, error) {
	dir := filepath.Join(os.TempDir(), "ccc-enricher-samples")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", err
	}
	for name, body := range map[string][]byte{"push-cdr.json": s.CDRPush, "push-record.json": s.RecordPush, "push-voicemail.json": s.VoicemailPush} {
		if err := os.WriteFile(filepath.Join(dir, name), body, 0o644); err != nil {
			return "", err
		}
	}
	return dir, nil
}

func (a *app) close() {
	for _, c := range a.closers {
		c()
	}
}
