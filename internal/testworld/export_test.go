package testworld

import "context"

// BuildEchoFunction builds testdata/echofn, the tests' throwaway handler.
func BuildEchoFunction(ctx context.Context, outDir string) (string, error) {
	return buildMain(ctx, "./internal/testworld/testdata/echofn", outDir)
}
