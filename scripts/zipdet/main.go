// Command zipdet writes a deterministic zip of the given files, for
// scripts/build.sh where the zip tool is missing: every entry sits at the
// archive's root, in argument order, with the given modification time, its
// file's permission bits, so the same input always
// gives the same bytes.
//
// Usage:
//
//	go run ./scripts/zipdet -mtime UNIX_SECONDS out.zip file...
package main

import (
	"archive/zip"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"
)

func main() {
	mtime := flag.Int64("mtime", 946684800, "modification time of every entry, in Unix seconds")
	flag.Parse()
	if flag.NArg() < 2 {
		fmt.Fprintln(os.Stderr, "usage: zipdet -mtime UNIX_SECONDS out.zip file...")
		os.Exit(2)
	}
	if err := write(flag.Arg(0), flag.Args()[1:], time.Unix(*mtime, 0).UTC()); err != nil {
		fmt.Fprintln(os.Stderr, "zipdet:", err)
		os.Exit(1)
	}
}

func write(out string, files []string, mtime time.Time) (err error) {
	f, err := os.Create(out)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := f.Close(); err == nil {
			err = cerr
		}
	}()
	zw := zip.NewWriter(f)
	for _, name := range files {
		if err := add(zw, name, mtime); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
	}
	return zw.Close()
}

func add(zw *zip.Writer, name string, mtime time.Time) error {
	src, err := os.Open(name)
	if err != nil {
		return err
	}
	defer src.Close()
	fi, err := src.Stat()
	if err != nil {
		return err
	}
	h := &zip.FileHeader{Name: filepath.Base(name), Method: zip.Deflate}
	// The writer stores Modified as MS-DOS time and as an extended
	// timestamp field; both are fixed by mtime.
	h.Modified = mtime
	h.SetMode(fi.Mode().Perm())
	w, err := zw.CreateHeader(h)
	if err != nil {
		return err
	}
	_, err = io.Copy(w, src)
	return err
}
