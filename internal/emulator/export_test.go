package emulator

import "context"

// BuildEchoFunction builds testdata/echofn, the tests' throwaway handler.
func BuildEchoFunction(ctx context.Context, outDir string) (string, error) {
	return buildMain(ctx, "./internal/emulator/testdata/echofn", outDir)
}
