// Package faults holds no code: its test pushes a few thousand CCC pushes
// through the real handler while every outside party fails at random, and
// checks ccc-enricher's one promise to CCC, that a push acknowledged with
// ErrCode 0 is durably in the sink or the dead-letter sink.
//
// The parties, all on loopback and all real code but for the faults:
//
//   - CCC, simulated: it pushes with basic authentication and a
//     X-TCCC-PUSH-UUID, and pushes again, at most three more times with the
//     same UUID, when the answer is not ErrCode 0, not 2xx, or late;
//   - the handler (package handler) over HTTP, twice: ON_DETAIL_FAILURE
//     retry and forward-partial, sharing one CCC client;
//   - the CCC API: the emulator (package tcemu) behind the real client and
//     the SDK's request signing, answering RequestLimitExceeded,
//     InternalError, HTTP 502, AuthFailure, slow replies and
//     FailedOperation.SessionNotExists at random;
//   - the sink: the signed webhook (package sink) to a receiver that
//     verifies signatures and answers 500, 429, 400 or nothing at random;
//   - the dead-letter sink: Kafka (kfake) refusing produce requests at
//     random, transiently or for good.
//
// After CCC has given up, the dead-letter topic is redriven (package
// redrive) to the webhook with the faults off, and every acknowledged
// record must then be at the webhook receiver.
//
// go test ./faults runs 2000 pushes (in well under 20 seconds);
// CCC_ENRICHER_FAULT_PUSHES=10000 runs more, CCC_ENRICHER_FAULT_SEED
// changes the random choices, and -v prints the counts.
package faults
