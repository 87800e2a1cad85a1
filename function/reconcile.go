package main

import (
	"context"
	"fmt"
	"time"
)

// reconcileJob reconciles the slot that the scheduled time designates.
func (a *app) reconcileJob(ctx context.Context, scheduled time.Time) error {
	return fmt.Errorf("reconcile at %s: not implemented yet", scheduled.Format(time.RFC3339))
}

// runCommand runs the reconcile and backfill subcommands.
func runCommand(ctx context.Context, args []string) error {
	return fmt.Errorf("%s: not implemented yet", args[0])
}
