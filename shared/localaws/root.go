package localaws

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// RepoRoot returns the repository root: the nearest directory at or above the
// working directory that holds go.mod.
func RepoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", fmt.Errorf("repo root: %w", err)
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		} else if !errors.Is(err, os.ErrNotExist) {
			return "", fmt.Errorf("repo root: %w", err)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("repo root: no go.mod at or above the working directory")
		}
		dir = parent
	}
}

// TestStackName is the stack name StartForTest provisions.
const TestStackName = "seatwise-test"

// TestGraphCredentials are the local app credentials (those the Graph simulator accepts).
var TestGraphCredentials = GraphCredentials{ClientID: "seatwise-local-app", ClientSecret: "local-secret"}

// StartForTest starts moto_server on a free loopback port, provisions the
// repository's template.yaml into it as stack "seatwise-test" with
// TestGraphCredentials, and stops the server when the test ends. Any failure,
// moto_server missing from PATH included, fails the test: it never skips.
func StartForTest(tb testing.TB) *Stack {
	tb.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	root, err := RepoRoot()
	if err != nil {
		tb.Fatalf("localaws: %v", err)
	}
	m, err := StartMoto(ctx, "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("localaws: %v", err)
	}
	tb.Cleanup(m.Stop)
	st, err := Provision(ctx, m.Endpoint, filepath.Join(root, "template.yaml"), TestStackName, TestGraphCredentials)
	if err != nil {
		tb.Fatalf("localaws: %v\nmoto_server output: %s", err, m.Output())
	}
	return st
}
