package export

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"

	"github.com/seatwise/seatwise/shared/domain"
)

// KindManifest is the kind of the manifest when it is listed beside the files it names (ManifestFile).
const KindManifest = "manifest"

// maxManifestBytes bounds what is read of a manifest.
const maxManifestBytes = 1 << 20

// ManifestFile reads a month's manifest once and returns it with its own description as a file: its name
// (ManifestName), key, version, size and SHA-256 — what a reader who downloads it can check it against. Errors:
// EInvalid for a malformed month; ENotFound when the month has no manifest.
func (r *Runner) ManifestFile(ctx context.Context, month string) (*Manifest, File, error) {
	if err := validMonth(month); err != nil {
		return nil, File{}, err
	}
	key := ManifestKey(month)
	out, err := r.S3.GetObject(ctx, &s3.GetObjectInput{Bucket: &r.Bucket, Key: aws.String(key)})
	if err != nil {
		var noKey *s3types.NoSuchKey
		if errors.As(err, &noKey) {
			return nil, File{}, domain.Errorf(domain.ENotFound, "no export of %s", month)
		}
		return nil, File{}, fmt.Errorf("get the manifest of %s: %w", month, err)
	}
	defer out.Body.Close()
	data, err := io.ReadAll(io.LimitReader(out.Body, maxManifestBytes))
	if err != nil {
		return nil, File{}, fmt.Errorf("read the manifest of %s: %w", month, err)
	}
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, File{}, fmt.Errorf("decode the manifest of %s: %w", month, err)
	}
	sum := sha256.Sum256(data)
	f := File{Name: ManifestName, Kind: KindManifest, Key: key, VersionID: aws.ToString(out.VersionId),
		ContentType: contentTypeJSON, Size: int64(len(data)), SHA256: hex.EncodeToString(sum[:]), Rows: len(m.Files),
		WrittenAt: m.GeneratedAt}
	return &m, f, nil
}
