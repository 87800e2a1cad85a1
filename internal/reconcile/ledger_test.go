package reconcile_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/ccc-enricher/ccc-enricher/internal/archive"
	"github.com/ccc-enricher/ccc-enricher/internal/archive/archivetest"
	"github.com/ccc-enricher/ccc-enricher/internal/record"
	"github.com/ccc-enricher/ccc-enricher/internal/sink"
)

// With the records archive as the ledger, a run of 250 listed calls of
// which 240 are archived already makes 10 DescribeSessionDetail calls and
// delivers those 10 records, to every destination.
func TestSkipDelivered(t *testing.T) {
	e := newEnv(t, envOpts{})
	slot, scheduled := past()
	ids := e.addCalls("ledger", 250, slot)
	mem := &archivetest.Mem{Bucket: "calls"}
	records := &archive.Records{Store: mem, Keys: archive.NewKeys("ccc/")}
	e.enr.Sink = sink.All(e.out, records)
	e.r.Ledger = records

	// The first 240 were pushed and delivered: their records are archived
	// where the push put them, by the call's start.
	step := slot.End.Sub(slot.Start) / 250
	for i, id := range ids[:240] {
		start := slot.Start.Add(time.Duration(i)*step - 90*time.Second)
		body := fmt.Sprintf(`{"schemaVersion":%q,"id":%q,"push":{"SessionId":%q,"StartTimestamp":%d}}`, record.SchemaVersion, recordID(id), id, start.Unix())
		m := sink.Message{ID: recordID(id), SchemaVersion: record.SchemaVersion, Key: id, Body: []byte(body)}
		if err := records.Send(context.Background(), m); err != nil {
			t.Fatal(err)
		}
	}
	before := e.emu.Calls("DescribeSessionDetail")

	sum, err := e.r.Reconcile(context.Background(), scheduled)
	if err != nil {
		t.Fatal(err)
	}
	if n := e.emu.Calls("DescribeSessionDetail") - before; n != 10 {
		t.Errorf("%d DescribeSessionDetail calls, want 10", n)
	}
	if sum.InSlot != 250 || sum.Skipped != 240 || sum.Forwarded != 10 || sum.Failed != 0 {
		t.Errorf("summary %+v, want 250 in slot, 240 skipped, 10 forwarded", sum)
	}
	e.checkDelivered(ids[240:], record.SourceReconcile)
	if n := len(mem.Keys("ccc/records/")); n != 250 {
		t.Errorf("the archive holds %d records, want 250", n)
	}
}
