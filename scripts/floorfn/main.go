// Command floorfn is the floor of the side-by-side run (go run
// ./scripts/loadtest -node): a Go program that makes the three HTTP
// exchanges of a push and nothing else. It reads each push, POSTs a small
// unsigned body to the CCC endpoint (the emulator refuses it), POSTs the
// push as it came to the webhook (the receiver refuses it) and answers
// ErrCode 0. What it costs per push is what net/http, the Go runtime and
// the kernel's loopback cost any Go function doing this job: no signing,
// parsing, record or log line.
package main

import (
	"bytes"
	"io"
	"net/http"
	"os"
	"strings"
)

func main() {
	ccc, hook := os.Getenv("CCC_ENDPOINT")+"/", os.Getenv("WEBHOOK_URL")
	client := &http.Client{}
	post := func(url string, body io.Reader) {
		resp, err := client.Post(url, "application/json", body)
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}
	http.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") })
	http.HandleFunc("/push", func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		post(ccc, strings.NewReader(`{}`))
		post(hook, bytes.NewReader(b))
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"ErrCode":0,"ErrMsg":"ok"}`)
	})
	if err := http.ListenAndServe("127.0.0.1:"+os.Getenv("PORT"), nil); err != nil {
		os.Stderr.WriteString(err.Error() + "\n")
		os.Exit(1)
	}
}
