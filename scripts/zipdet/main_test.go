package main

import (
	"archive/zip"
	"bytes"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestWriteIsDeterministic(t *testing.T) {
	dir := t.TempDir()
	bin := filepath.Join(dir, "bootstrap")
	if err := os.WriteFile(bin, []byte("#!/bin/sh\necho hi\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	mtime := time.Unix(946684800, 0).UTC()
	var zips [2][]byte
	for i := range zips {
		out := filepath.Join(dir, "out.zip")
		// A different file time must not show in the archive.
		os.Chtimes(bin, time.Now(), time.Now().Add(time.Duration(i)*time.Hour))
		if err := write(out, []string{bin}, mtime); err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		zips[i] = b
	}
	if !bytes.Equal(zips[0], zips[1]) {
		t.Fatal("two archives of the same file differ")
	}
	zr, err := zip.NewReader(bytes.NewReader(zips[0]), int64(len(zips[0])))
	if err != nil {
		t.Fatal(err)
	}
	if len(zr.File) != 1 {
		t.Fatalf("%d entries, want 1", len(zr.File))
	}
	f := zr.File[0]
	if f.Name != "bootstrap" || f.Mode().Perm() != 0o755 || !f.Modified.Equal(mtime) {
		t.Errorf("entry %s %v %v, want bootstrap -rwxr-xr-x %v", f.Name, f.Mode(), f.Modified, mtime)
	}
}
