// Command testsum reads go test -json on standard input, prints what go
// test prints without -v (each package's result, and the output of the
// tests that failed), and ends with the tests that skipped and why:
// scripts/test.sh pipes the whole suite through it, so that a test that
// needs a missing outside tool is not skipped in silence.
//
//	go test -json ./... | go run ./scripts/testsum
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
)

// event is one line of go test -json (cmd/test2json).
type event struct {
	Action  string
	Package string
	Test    string
	Output  string
}

// skip is a skipped test and the reason it gave.
type skip struct{ pkg, test, why string }

func main() {
	skips, err := summarise(os.Stdin, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testsum:", err)
		os.Exit(1)
	}
	if len(skips) == 0 {
		fmt.Println("\nno test skipped")
		return
	}
	fmt.Printf("\n%d tests skipped:\n", len(skips))
	for _, s := range skips {
		fmt.Printf("  %s %s: %s\n", s.pkg, s.test, s.why)
	}
}

func summarise(r io.Reader, w io.Writer) ([]skip, error) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	held := map[string][]string{} // a test's output until it ends
	var skips []skip
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			// Not an event (go vet or the build speaking): pass it on.
			fmt.Fprintln(w, sc.Text())
			continue
		}
		key := e.Package + " " + e.Test
		switch {
		case e.Action == "build-output":
			fmt.Fprint(w, e.Output)
		case e.Test == "" && e.Action == "output":
			if e.Output != "PASS\n" && !strings.HasPrefix(e.Output, "=== ") {
				fmt.Fprint(w, e.Output)
			}
		case e.Action == "output":
			held[key] = append(held[key], e.Output)
		case e.Action == "fail":
			fmt.Fprint(w, strings.Join(held[key], ""))
			delete(held, key)
		case e.Action == "skip" && e.Test == "":
			// A package without tests: go test said so already.
		case e.Action == "skip":
			skips = append(skips, skip{e.Package, e.Test, reason(held[key])})
			delete(held, key)
		case e.Action == "pass":
			delete(held, key)
		}
	}
	return skips, sc.Err()
}

// reason is what a skipped test said: its output less the framing lines.
func reason(out []string) string {
	var parts []string
	for _, l := range out {
		l = strings.TrimSpace(l)
		if l == "" || strings.HasPrefix(l, "=== ") || strings.HasPrefix(l, "--- SKIP") {
			continue
		}
		parts = append(parts, l)
	}
	if len(parts) == 0 {
		return "(no reason given)"
	}
	return strings.Join(parts, " ")
}
