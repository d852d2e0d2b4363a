package lambdarie

import (
	"bytes"
	"debug/buildinfo"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
)

// The pinned aws-lambda-rie. The module proxy has no tagged version of the emulator; this pseudo-version is the
// latest commit.
const (
	RIEModule  = "github.com/aws/aws-lambda-runtime-interface-emulator"
	RIEVersion = "v0.0.0-20261030222936-bef5c4ba774d"
	RIEPackage = RIEModule + "/cmd/aws-lambda-rie"
)

// EnsureRIE returns the path of root/bin/aws-lambda-rie, first installing the pinned version there
// (`GOBIN=root/bin go install RIEPackage@RIEVersion`) when it is missing or another version.
func EnsureRIE(root string) (string, error) {
	bin, err := filepath.Abs(filepath.Join(root, "bin"))
	if err != nil {
		return "", fmt.Errorf("aws-lambda-rie: %w", err)
	}
	path := filepath.Join(bin, "aws-lambda-rie")
	if info, err := buildinfo.ReadFile(path); err == nil && info.Main.Path == RIEModule && info.Main.Version == RIEVersion {
		return path, nil
	}
	cmd := exec.Command("go", "install", RIEPackage+"@"+RIEVersion)
	cmd.Dir = root
	cmd.Env = append(os.Environ(), "GOBIN="+bin)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("install aws-lambda-rie (go install %s@%s): %w\n%s", RIEPackage, RIEVersion, err,
			strings.TrimSpace(out.String()))
	}
	if _, err := os.Stat(path); err != nil {
		return "", fmt.Errorf("install aws-lambda-rie: %w", err)
	}
	return path, nil
}
