package localaws_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
	"github.com/maxatome/go-testdeep/td"

	"github.com/seatwise/seatwise/shared/localaws"
)

func key(name string, typ ddbtypes.KeyType) ddbtypes.KeySchemaElement {
	return ddbtypes.KeySchemaElement{AttributeName: aws.String(name), KeyType: typ}
}

// jsonString matches a string holding JSON against td.JSON(expected, params...).
func jsonString(expected string, params ...any) td.TestDeep {
	return td.Smuggle(func(s string) (any, error) {
		var v any
		err := json.Unmarshal([]byte(s), &v)
		return v, err
	}, td.JSON(expected, params...))
}

// TestProvision checks the local stack against the contracts of template.yaml.
func TestProvision(t *testing.T) {
	st := localaws.StartForTest(t)
	ctx := context.Background()
	cfg, err := st.AWSConfig(ctx)
	td.Require(t).CmpNoError(err)

	td.Cmp(t, st, td.Struct(&localaws.Stack{
		Region:         "us-east-1",
		StackName:      "seatwise-test",
		TableName:      "seatwise-test-table",
		ReportsBucket:  "seatwise-test-reports-123456789012",
		FrontendBucket: "seatwise-test-frontend-123456789012",
		GraphSecretID:  "seatwise-test/graph-credentials",
	}, td.StructFields{
		"Endpoint":        td.Re(`^http://127\.0\.0\.1:\d+$`),
		"JobsQueueURL":    td.HasSuffix("/123456789012/seatwise-test-jobs"),
		"JobsDLQURL":      td.HasSuffix("/123456789012/seatwise-test-jobs-dlq"),
		"StagingQueueURL": td.HasSuffix("/123456789012/seatwise-test-staging"),
		"StagingDLQURL":   td.HasSuffix("/123456789012/seatwise-test-staging-dlq"),
		"ExportQueueURL":  td.HasSuffix("/123456789012/seatwise-test-export"),
		"Resources":       td.Len(td.Gte(8)),
	}))

	t.Run("env", func(t *testing.T) {
		td.Cmp(t, st.Env(), []string{
			"TABLE_NAME=seatwise-test-table",
			"JOBS_QUEUE_URL=" + st.JobsQueueURL,
			"STAGING_QUEUE_URL=" + st.StagingQueueURL,
			"EXPORT_QUEUE_URL=" + st.ExportQueueURL,
			"REPORTS_BUCKET=seatwise-test-reports-123456789012",
			"GRAPH_SECRET_ID=seatwise-test/graph-credentials",
			"AWS_ENDPOINT_URL=" + st.Endpoint,
			"AWS_REGION=us-east-1",
			"AWS_ACCESS_KEY_ID=test",
			"AWS_SECRET_ACCESS_KEY=test",
			"SEATWISE_ISOLATE_TRANSACTIONS=true",
		})
	})

	t.Run("table", func(t *testing.T) {
		db := dynamodb.NewFromConfig(cfg)
		out, err := db.DescribeTable(ctx, &dynamodb.DescribeTableInput{TableName: aws.String(st.TableName)})
		td.Require(t).CmpNoError(err)
		tbl := out.Table
		td.Cmp(t, tbl.KeySchema, []ddbtypes.KeySchemaElement{key("PK", ddbtypes.KeyTypeHash), key("SK", ddbtypes.KeyTypeRange)})
		var attrs []string
		for _, a := range tbl.AttributeDefinitions {
			td.Cmp(t, a.AttributeType, ddbtypes.ScalarAttributeTypeS, aws.ToString(a.AttributeName))
			attrs = append(attrs, aws.ToString(a.AttributeName))
		}
		td.Cmp(t, attrs, td.Bag("PK", "SK", "GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK"))
		td.Cmp(t, tbl.BillingModeSummary, td.Ptr(td.SStruct(ddbtypes.BillingModeSummary{
			BillingMode: ddbtypes.BillingModePayPerRequest,
		}, td.StructFields{"LastUpdateToPayPerRequestDateTime": td.Ignore()})))
		gsi := map[string][]ddbtypes.KeySchemaElement{}
		for _, g := range tbl.GlobalSecondaryIndexes {
			td.Cmp(t, g.Projection.ProjectionType, ddbtypes.ProjectionTypeAll, aws.ToString(g.IndexName))
			gsi[aws.ToString(g.IndexName)] = g.KeySchema
		}
		td.Cmp(t, gsi, map[string][]ddbtypes.KeySchemaElement{
			"GSI1": {key("GSI1PK", ddbtypes.KeyTypeHash), key("GSI1SK", ddbtypes.KeyTypeRange)},
			"GSI2": {key("GSI2PK", ddbtypes.KeyTypeHash), key("GSI2SK", ddbtypes.KeyTypeRange)},
		})
		ttl, err := db.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(st.TableName)})
		td.Require(t).CmpNoError(err)
		td.Cmp(t, aws.ToString(ttl.TimeToLiveDescription.AttributeName), "ttl")
		td.Cmp(t, ttl.TimeToLiveDescription.TimeToLiveStatus, ddbtypes.TimeToLiveStatusEnabled)
	})

	t.Run("queues", func(t *testing.T) {
		q := sqs.NewFromConfig(cfg)
		attrs := func(url string) map[string]string {
			t.Helper()
			out, err := q.GetQueueAttributes(ctx, &sqs.GetQueueAttributesInput{
				QueueUrl: aws.String(url), AttributeNames: []sqstypes.QueueAttributeName{sqstypes.QueueAttributeNameAll},
			})
			td.Require(t).CmpNoError(err, url)
			return out.Attributes
		}
		for _, c := range []struct{ queue, dlq, visibility string }{
			{st.JobsQueueURL, st.JobsDLQURL, "1800"},      // 6 x SyncFunction Timeout (300)
			{st.StagingQueueURL, st.StagingDLQURL, "360"}, // 6 x StagingFunction Timeout (60)
		} {
			qa, da := attrs(c.queue), attrs(c.dlq)
			td.Cmp(t, qa["VisibilityTimeout"], c.visibility, c.queue)
			td.Cmp(t, qa["RedrivePolicy"], jsonString(`{"deadLetterTargetArn": $1, "maxReceiveCount": 5}`, da["QueueArn"]), c.queue)
			td.Cmp(t, da["MessageRetentionPeriod"], "1209600", c.dlq)
		}

		// The URLs work for sending and receiving.
		_, err := q.SendMessage(ctx, &sqs.SendMessageInput{QueueUrl: aws.String(st.JobsQueueURL), MessageBody: aws.String(`{"type":"sync"}`)})
		td.Require(t).CmpNoError(err)
		got, err := q.ReceiveMessage(ctx, &sqs.ReceiveMessageInput{QueueUrl: aws.String(st.JobsQueueURL), WaitTimeSeconds: 1})
		td.Require(t).CmpNoError(err)
		td.Cmp(t, got.Messages, td.All(td.Len(1), td.ArrayEach(td.Smuggle("Body", td.Ptr(`{"type":"sync"}`)))))
	})

	t.Run("reports bucket", func(t *testing.T) {
		c := s3.NewFromConfig(cfg) // no path-style option: the SDK uses path style for an IP endpoint
		lc, err := c.GetBucketLifecycleConfiguration(ctx, &s3.GetBucketLifecycleConfigurationInput{Bucket: aws.String(st.ReportsBucket)})
		td.Require(t).CmpNoError(err)
		td.Cmp(t, lc.Rules, td.Contains(td.Struct(s3types.LifecycleRule{
			ID:     aws.String("expire-exports-after-two-years"),
			Status: s3types.ExpirationStatusEnabled,
		}, td.StructFields{
			"Filter":                      td.Ptr(td.Struct(s3types.LifecycleRuleFilter{Prefix: aws.String("exports/")})),
			"Expiration":                  td.Ptr(td.Struct(s3types.LifecycleExpiration{Days: aws.Int32(730)})),
			"NoncurrentVersionExpiration": td.Ptr(td.Struct(s3types.NoncurrentVersionExpiration{NoncurrentDays: aws.Int32(30)})),
		})))
		v, err := c.GetBucketVersioning(ctx, &s3.GetBucketVersioningInput{Bucket: aws.String(st.ReportsBucket)})
		td.Require(t).CmpNoError(err)
		td.Cmp(t, v.Status, s3types.BucketVersioningStatusEnabled)

		_, err = c.PutObject(ctx, &s3.PutObjectInput{
			Bucket: aws.String(st.ReportsBucket), Key: aws.String("exports/2026-10/manifest.json"),
			Body: bytes.NewReader([]byte(`{"files":[]}`)),
		})
		td.Require(t).CmpNoError(err)
		obj, err := c.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(st.ReportsBucket), Key: aws.String("exports/2026-10/manifest.json")})
		td.Require(t).CmpNoError(err)
		body, _ := io.ReadAll(obj.Body)
		obj.Body.Close()
		td.Cmp(t, string(body), `{"files":[]}`)

		_, err = c.HeadBucket(ctx, &s3.HeadBucketInput{Bucket: aws.String(st.FrontendBucket)})
		td.CmpNoError(t, err, "frontend bucket exists")
	})

	t.Run("secret", func(t *testing.T) {
		out, err := secretsmanager.NewFromConfig(cfg).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(st.GraphSecretID)})
		td.Require(t).CmpNoError(err)
		td.Cmp(t, aws.ToString(out.SecretString), jsonString(`{"clientId":"seatwise-local-app","clientSecret":"local-secret"}`))
	})

	t.Run("twice", func(t *testing.T) {
		root, err := localaws.RepoRoot()
		td.Require(t).CmpNoError(err)
		creds := localaws.GraphCredentials{ClientID: "other-app", ClientSecret: "other-secret"}
		again, err := localaws.Provision(ctx, st.Endpoint, filepath.Join(root, "template.yaml"), st.StackName, creds)
		td.Require(t).CmpNoError(err)
		td.Cmp(t, again, st)

		out, err := secretsmanager.NewFromConfig(cfg).GetSecretValue(ctx, &secretsmanager.GetSecretValueInput{SecretId: aws.String(st.GraphSecretID)})
		td.Require(t).CmpNoError(err)
		td.Cmp(t, aws.ToString(out.SecretString), jsonString(`{"clientId":"other-app","clientSecret":"other-secret"}`))

		// A second stack name in the same moto gets its own resources.
		other, err := localaws.Provision(ctx, st.Endpoint, filepath.Join(root, "template.yaml"), "seatwise-other", creds)
		td.Require(t).CmpNoError(err)
		td.Cmp(t, other.TableName, "seatwise-other-table")
	})
}

func TestStartMotoBusyPort(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	td.Require(t).CmpNoError(err)
	defer l.Close()
	_, port, _ := net.SplitHostPort(l.Addr().String())

	m, err := localaws.StartMoto(context.Background(), l.Addr().String())
	td.CmpNil(t, m)
	td.Cmp(t, err, td.All(td.Contains("port "+port), td.Contains("MOTO_PORT")))
}

func TestStartMotoNotInstalled(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := localaws.StartMoto(context.Background(), "127.0.0.1:0")
	td.CmpString(t, err, "moto_server not found: install moto 5.2.1 with its server extra "+
		"(it is preinstalled on this machine kind; PyPI is not reachable here)")
}

func TestMotoStop(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	m, err := localaws.StartMoto(ctx, "127.0.0.1:0")
	td.Require(t).CmpNoError(err)
	t.Cleanup(m.Stop)
	resp, err := http.Get(m.Endpoint + "/moto-api/")
	td.Require(t).CmpNoError(err)
	resp.Body.Close()

	m.Stop()
	m.Stop() // idempotent
	_, err = net.DialTimeout("tcp", m.Endpoint[len("http://"):], time.Second)
	td.CmpError(t, err, "nothing listens after Stop")
}

func TestMotoAddr(t *testing.T) {
	t.Setenv("MOTO_PORT", "")
	td.Cmp(t, localaws.MotoAddr(), "127.0.0.1:5000")
	t.Setenv("MOTO_PORT", "5123")
	td.Cmp(t, localaws.MotoAddr(), "127.0.0.1:5123")
}

func TestRepoRoot(t *testing.T) {
	root, err := localaws.RepoRoot()
	td.Require(t).CmpNoError(err)
	_, err = os.Stat(filepath.Join(root, "go.mod"))
	td.CmpNoError(t, err)
	_, err = os.Stat(filepath.Join(root, "template.yaml"))
	td.CmpNoError(t, err)
}

// recordTB records how StartForTest ends a test, without ending this one.
type recordTB struct {
	testing.TB
	failed, skipped bool
	msg             string
	cleanups        []func()
}

func (r *recordTB) Helper()              {}
func (r *recordTB) Cleanup(f func())     { r.cleanups = append(r.cleanups, f) }
func (r *recordTB) Fatal(a ...any)       { r.Fatalf("%s", fmt.Sprint(a...)) }
func (r *recordTB) Skip(a ...any)        { r.skipped = true; runtime.Goexit() }
func (r *recordTB) SkipNow()             { r.skipped = true; runtime.Goexit() }
func (r *recordTB) Skipf(string, ...any) { r.skipped = true; runtime.Goexit() }
func (r *recordTB) FailNow()             { r.failed = true; runtime.Goexit() }
func (r *recordTB) Fatalf(format string, a ...any) {
	r.failed, r.msg = true, fmt.Sprintf(format, a...)
	runtime.Goexit()
}

func TestStartForTestFailsWithoutMoto(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	rec := &recordTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		localaws.StartForTest(rec)
	}()
	<-done
	td.CmpFalse(t, rec.skipped, "never skips")
	td.CmpTrue(t, rec.failed, "fails")
	td.Cmp(t, rec.msg, td.Contains("moto_server not found: install moto 5.2.1"))
}
