package export

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"hash"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
)

// Part sizes of the multipart uploads.
const (
	DefaultPartSize = 8 << 20 // 8 MiB: three files being written hold 24 MiB of buffers at most
	MinPartSize     = 5 << 20 // S3's smallest part but the last (tests against moto may go lower)
)

// objectWriter streams one S3 object: what is written fills a buffer of partSize bytes, which is uploaded as a
// part of a multipart upload each time it is full (a small object is one PutObject at Close); the SHA-256 and the
// size are computed as it goes. Memory is one buffer (growing up to partSize, then reused), whatever the object's
// size. Errors are sticky.
type objectWriter struct {
	ctx         context.Context
	api         S3API
	bucket, key string
	contentType string

	partSize int
	buf      []byte
	uploadID *string
	parts    []s3types.CompletedPart

	sha  hash.Hash
	size int64
	err  error
}

func newObjectWriter(ctx context.Context, api S3API, bucket, key, contentType string, partSize int) *objectWriter {
	return &objectWriter{ctx: ctx, api: api, bucket: bucket, key: key, contentType: contentType,
		partSize: partSize, sha: sha256.New()}
}

func (w *objectWriter) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	w.sha.Write(p)
	w.size += int64(len(p))
	n := len(p)
	for len(p) > 0 {
		k := min(len(p), w.partSize-len(w.buf))
		w.buf = append(w.buf, p[:k]...)
		p = p[k:]
		if len(w.buf) == w.partSize {
			if w.err = w.uploadPart(); w.err != nil {
				return n - len(p), w.err
			}
		}
	}
	return n, nil
}

// uploadPart uploads the buffer as the next part (starting the multipart upload first if needed).
func (w *objectWriter) uploadPart() error {
	if w.uploadID == nil {
		out, err := w.api.CreateMultipartUpload(w.ctx, &s3.CreateMultipartUploadInput{
			Bucket: &w.bucket, Key: &w.key, ContentType: &w.contentType,
			ChecksumAlgorithm: s3types.ChecksumAlgorithmCrc32,
		})
		if err != nil {
			return fmt.Errorf("start the upload of %s: %w", w.key, err)
		}
		w.uploadID = out.UploadId
	}
	n := int32(len(w.parts) + 1)
	out, err := w.api.UploadPart(w.ctx, &s3.UploadPartInput{
		Bucket: &w.bucket, Key: &w.key, UploadId: w.uploadID, PartNumber: &n,
		Body: bytes.NewReader(w.buf), ContentLength: aws.Int64(int64(len(w.buf))),
		ChecksumAlgorithm: s3types.ChecksumAlgorithmCrc32,
	})
	if err != nil {
		return fmt.Errorf("upload part %d of %s: %w", n, w.key, err)
	}
	w.parts = append(w.parts, s3types.CompletedPart{PartNumber: &n, ETag: out.ETag, ChecksumCRC32: out.ChecksumCRC32})
	w.buf = w.buf[:0]
	return nil
}

// written describes a finished object.
type written struct {
	Key, VersionID string
	Size           int64
	SHA256         string
}

// Close finishes the object: the last part and the completion of a multipart upload, or one PutObject for an
// object smaller than a part. It returns the object's size, SHA-256 and version id (empty when the bucket is not
// versioned).
func (w *objectWriter) Close() (written, error) {
	if w.err != nil {
		return written{}, w.err
	}
	var version *string
	if w.uploadID == nil {
		out, err := w.api.PutObject(w.ctx, &s3.PutObjectInput{
			Bucket: &w.bucket, Key: &w.key, ContentType: &w.contentType,
			Body: bytes.NewReader(w.buf), ContentLength: aws.Int64(int64(len(w.buf))),
		})
		if err != nil {
			w.err = fmt.Errorf("put %s: %w", w.key, err)
			return written{}, w.err
		}
		version = out.VersionId
	} else {
		if len(w.buf) > 0 {
			if w.err = w.uploadPart(); w.err != nil {
				return written{}, w.err
			}
		}
		out, err := w.api.CompleteMultipartUpload(w.ctx, &s3.CompleteMultipartUploadInput{
			Bucket: &w.bucket, Key: &w.key, UploadId: w.uploadID,
			MultipartUpload: &s3types.CompletedMultipartUpload{Parts: w.parts},
		})
		if err != nil {
			w.err = fmt.Errorf("complete the upload of %s: %w", w.key, err)
			return written{}, w.err
		}
		w.uploadID = nil
		version = out.VersionId
	}
	w.err = fmt.Errorf("%s is closed", w.key)
	w.buf = nil
	return written{Key: w.key, VersionID: aws.ToString(version), Size: w.size, SHA256: hex.EncodeToString(w.sha.Sum(nil))}, nil
}

// Abort gives up an unfinished multipart upload (its parts are freed); a writer that never uploaded a part or was
// closed has nothing to abort.
func (w *objectWriter) Abort(ctx context.Context) {
	if w.uploadID != nil {
		_, _ = w.api.AbortMultipartUpload(ctx, &s3.AbortMultipartUploadInput{Bucket: &w.bucket, Key: &w.key, UploadId: w.uploadID})
		w.uploadID = nil
	}
	if w.err == nil {
		w.err = fmt.Errorf("the upload of %s was aborted", w.key)
	}
	w.buf = nil
}
