// Package logging builds the functions' structured logger.
package logging

import (
	"log/slog"
	"os"
)

// New returns a JSON logger on stderr (CloudWatch reads it) at the given level: debug, info, warn or error
// (anything else means info).
func New(level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewJSONHandler(os.Stderr, &slog.HandlerOptions{Level: l}))
}
