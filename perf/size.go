package main

import (
	"archive/zip"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// measureSize builds the Lambda exactly as deployed (linux/arm64,
// lambda.norpc, -trimpath, -s -w) and zips it as the deployment package
// (bootstrap at the root, deflate), reporting both sizes.
func measureSize(ctx context.Context) (string, error) {
	dir, err := os.MkdirTemp("", "trailguard-perf-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	bin, err := buildLambda(ctx, dir, "arm64")
	if err != nil {
		return "", err
	}
	st, err := os.Stat(bin)
	if err != nil {
		return "", err
	}
	zipPath := filepath.Join(dir, "bootstrap.zip")
	if err := zipFile(bin, zipPath); err != nil {
		return "", err
	}
	zst, err := os.Stat(zipPath)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "## Size: CGO_ENABLED=0 GOOS=linux GOARCH=arm64 go build -tags lambda.norpc -trimpath -ldflags=\"-s -w\" ./cmd/responder\n\n")
	fmt.Fprintf(&b, "| artefact | bytes | MB (10^6) |\n|---|---|---|\n")
	fmt.Fprintf(&b, "| bootstrap | %d | %.2f |\n", st.Size(), float64(st.Size())/1e6)
	fmt.Fprintf(&b, "| bootstrap.zip (deflate) | %d | %.2f |\n", zst.Size(), float64(zst.Size())/1e6)
	return b.String(), nil
}

func zipFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(dst)
	if err != nil {
		return err
	}
	zw := zip.NewWriter(out)
	hdr := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate}
	hdr.SetMode(0o755)
	fw, err := zw.CreateHeader(hdr)
	if err == nil {
		_, err = io.Copy(fw, in)
	}
	if cerr := zw.Close(); err == nil {
		err = cerr
	}
	if cerr := out.Close(); err == nil {
		err = cerr
	}
	return err
}
