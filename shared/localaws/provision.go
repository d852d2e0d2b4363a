package localaws

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	ddbtypes "github.com/aws/aws-sdk-go-v2/service/dynamodb/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	s3types "github.com/aws/aws-sdk-go-v2/service/s3/types"
	"github.com/aws/aws-sdk-go-v2/service/secretsmanager"
	smtypes "github.com/aws/aws-sdk-go-v2/service/secretsmanager/types"
	"github.com/aws/aws-sdk-go-v2/service/sqs"
	sqstypes "github.com/aws/aws-sdk-go-v2/service/sqs/types"
)

// Logical ids in template.yaml that Stack exposes by name.
const (
	tableID          = "Table"
	jobsQueueID      = "JobsQueue"
	jobsDLQID        = "JobsDLQ"
	stagingQueueID   = "StagingQueue"
	stagingDLQID     = "StagingDLQ"
	exportQueueID    = "ExportQueue"
	reportsBucketID  = "ReportsBucket"
	frontendBucketID = "FrontendBucket"
	graphSecretID    = "GraphSecret"
)

// Local static credentials; moto accepts any.
const (
	accessKeyID     = "test"
	secretAccessKey = "test"
)

// GraphCredentials is the Microsoft Graph app registration stored in the Graph
// secret as {"clientId":"…","clientSecret":"…"}.
type GraphCredentials struct {
	ClientID     string `json:"clientId"`
	ClientSecret string `json:"clientSecret"`
}

// Stack is a provisioned local stack: where it runs and the physical names of
// the template's resources.
type Stack struct {
	Endpoint  string
	Region    string
	StackName string

	TableName       string
	JobsQueueURL    string
	StagingQueueURL string
	ExportQueueURL  string
	JobsDLQURL      string
	StagingDLQURL   string
	ReportsBucket   string
	FrontendBucket  string
	// GraphSecretID is the secret's name (GetSecretValue accepts name or ARN).
	GraphSecretID string

	// Resources maps every provisioned logical id to its physical id: table or
	// bucket name, queue URL, secret name.
	Resources map[string]string
}

// Env returns the function environment variables for the AWS part of the
// stack, as KEY=value pairs to append to a process environment.
func (s *Stack) Env() []string {
	return []string{
		"TABLE_NAME=" + s.TableName,
		"JOBS_QUEUE_URL=" + s.JobsQueueURL,
		"STAGING_QUEUE_URL=" + s.StagingQueueURL,
		"EXPORT_QUEUE_URL=" + s.ExportQueueURL,
		"REPORTS_BUCKET=" + s.ReportsBucket,
		"GRAPH_SECRET_ID=" + s.GraphSecretID,
		"AWS_ENDPOINT_URL=" + s.Endpoint,
		"AWS_REGION=" + s.Region,
		"AWS_ACCESS_KEY_ID=" + accessKeyID,
		"AWS_SECRET_ACCESS_KEY=" + secretAccessKey,
		"SEATWISE_ISOLATE_TRANSACTIONS=true", // moto's transactions are not atomic (store.TxIsolated)
	}
}

// AWSConfig returns an SDK configuration for the local stack: its endpoint,
// region and static test credentials, independent of the caller's AWS
// environment and shared config files.
func (s *Stack) AWSConfig(ctx context.Context) (aws.Config, error) {
	return localConfig(s.Endpoint, s.Region), nil
}

func localConfig(endpoint, region string) aws.Config {
	return aws.Config{
		Region:       region,
		BaseEndpoint: aws.String(endpoint),
		Credentials: aws.NewCredentialsCache(
			credentials.NewStaticCredentialsProvider(accessKeyID, secretAccessKey, "")),
	}
}

// Provision creates in the AWS endpoint (moto) every DynamoDB table, SQS queue,
// S3 bucket and Secrets Manager secret of the template at templatePath, named
// as the template names them for stack stackName (account 123456789012, region
// us-east-1): key schemas, indexes, TTL, queue attributes and redrive policies,
// bucket versioning and lifecycle rules all come from the template. The Graph
// secret holds creds as JSON. Running it again against the same endpoint
// updates what exists and creates what is missing.
func Provision(ctx context.Context, endpoint, templatePath, stackName string, creds GraphCredentials) (*Stack, error) {
	tpl, err := loadTemplate(templatePath)
	if err != nil {
		return nil, err
	}
	cfg := localConfig(endpoint, Region)
	p := &provisioner{
		res:       newResolver(tpl, stackName),
		stackName: stackName,
		creds:     creds,
		ddb:       dynamodb.NewFromConfig(cfg),
		sqs:       sqs.NewFromConfig(cfg),
		s3:        s3.NewFromConfig(cfg),
		sm:        secretsmanager.NewFromConfig(cfg),
		physical:  map[string]string{},
	}
	if err := p.run(ctx, tpl); err != nil {
		return nil, fmt.Errorf("provision %s at %s: %w", stackName, endpoint, err)
	}
	st := &Stack{
		Endpoint:  endpoint,
		Region:    Region,
		StackName: stackName,
		Resources: p.physical,
	}
	for id, dst := range map[string]*string{
		tableID:          &st.TableName,
		jobsQueueID:      &st.JobsQueueURL,
		jobsDLQID:        &st.JobsDLQURL,
		stagingQueueID:   &st.StagingQueueURL,
		stagingDLQID:     &st.StagingDLQURL,
		exportQueueID:    &st.ExportQueueURL,
		reportsBucketID:  &st.ReportsBucket,
		frontendBucketID: &st.FrontendBucket,
		graphSecretID:    &st.GraphSecretID,
	} {
		v, ok := p.physical[id]
		if !ok {
			return nil, fmt.Errorf("provision %s: template %s has no resource %s", stackName, templatePath, id)
		}
		*dst = v
	}
	return st, nil
}

type provisioner struct {
	res       *resolver
	stackName string
	creds     GraphCredentials
	ddb       *dynamodb.Client
	sqs       *sqs.Client
	s3        *s3.Client
	sm        *secretsmanager.Client
	physical  map[string]string
}

type createFunc func(ctx context.Context, id string, props map[string]any) error

// run creates the supported resources; one that refers to another not created
// yet (a queue's redrive policy to its DLQ) waits for a later round.
func (p *provisioner) run(ctx context.Context, tpl *template) error {
	creators := map[string]createFunc{
		"AWS::DynamoDB::Table":        p.table,
		"AWS::SQS::Queue":             p.queue,
		"AWS::S3::Bucket":             p.bucket,
		"AWS::SecretsManager::Secret": p.secret,
	}
	type job struct {
		id     string
		create createFunc
	}
	var pending []job
	for _, typ := range []string{"AWS::DynamoDB::Table", "AWS::S3::Bucket", "AWS::SecretsManager::Secret", "AWS::SQS::Queue"} {
		for _, id := range tpl.resourceIDs(typ) {
			pending = append(pending, job{id, creators[typ]})
		}
	}
	for len(pending) > 0 {
		var (
			next    []job
			lastErr error
		)
		for _, j := range pending {
			err := j.create(ctx, j.id, tpl.Resources[j.id].Properties)
			var unresolved *unresolvedError
			switch {
			case errors.As(err, &unresolved):
				next = append(next, j)
				lastErr = fmt.Errorf("%s: %w", j.id, err)
			case err != nil:
				return fmt.Errorf("%s: %w", j.id, err)
			}
		}
		if len(next) == len(pending) {
			return lastErr
		}
		pending = next
	}
	return nil
}

// name resolves a resource's name property, or derives stack-logicalid like
// CloudFormation does (without its random suffix) when the template sets none.
func (p *provisioner) name(id string, props map[string]any, key string) (string, error) {
	v, err := p.res.prop(props, key)
	if err != nil {
		return "", err
	}
	if v == nil {
		return p.stackName + "-" + id, nil
	}
	return p.res.str(v)
}

// convert copies a resolved template value into an SDK type whose field names
// match the CloudFormation property names.
func convert(src, dst any) error {
	b, err := json.Marshal(src)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, dst)
}

// ---------------------------------------------------------------- DynamoDB

func (p *provisioner) table(ctx context.Context, id string, props map[string]any) error {
	name, err := p.name(id, props, "TableName")
	if err != nil {
		return err
	}
	in := &dynamodb.CreateTableInput{TableName: aws.String(name)}
	for key, dst := range map[string]any{
		"AttributeDefinitions":   &in.AttributeDefinitions,
		"KeySchema":              &in.KeySchema,
		"GlobalSecondaryIndexes": &in.GlobalSecondaryIndexes,
		"LocalSecondaryIndexes":  &in.LocalSecondaryIndexes,
		"ProvisionedThroughput":  &in.ProvisionedThroughput,
		"StreamSpecification":    &in.StreamSpecification,
	} {
		v, err := p.res.prop(props, key)
		if err != nil {
			return err
		}
		if v == nil {
			continue
		}
		if err := convert(v, dst); err != nil {
			return fmt.Errorf("%s: %w", key, err)
		}
	}
	billing, err := p.res.prop(props, "BillingMode")
	if err != nil {
		return err
	}
	if billing == nil {
		billing = string(ddbtypes.BillingModeProvisioned)
	}
	bm, err := p.res.str(billing)
	if err != nil {
		return fmt.Errorf("BillingMode: %w", err)
	}
	in.BillingMode = ddbtypes.BillingMode(bm)
	if in.StreamSpecification != nil && in.StreamSpecification.StreamViewType != "" {
		in.StreamSpecification.StreamEnabled = aws.Bool(true)
	}

	_, err = p.ddb.CreateTable(ctx, in)
	var inUse *ddbtypes.ResourceInUseException
	if err != nil && !errors.As(err, &inUse) {
		return fmt.Errorf("create table %s: %w", name, err)
	}
	if err := dynamodb.NewTableExistsWaiter(p.ddb).Wait(ctx,
		&dynamodb.DescribeTableInput{TableName: aws.String(name)}, 30*time.Second); err != nil {
		return fmt.Errorf("wait for table %s: %w", name, err)
	}

	ttl, err := p.res.prop(props, "TimeToLiveSpecification")
	if err != nil {
		return err
	}
	var spec ddbtypes.TimeToLiveSpecification
	if ttl != nil {
		if err := convert(ttl, &spec); err != nil {
			return fmt.Errorf("TimeToLiveSpecification: %w", err)
		}
	}
	if aws.ToBool(spec.Enabled) && aws.ToString(spec.AttributeName) != "" {
		cur, err := p.ddb.DescribeTimeToLive(ctx, &dynamodb.DescribeTimeToLiveInput{TableName: aws.String(name)})
		if err != nil {
			return fmt.Errorf("describe TTL of %s: %w", name, err)
		}
		d := cur.TimeToLiveDescription
		enabled := d != nil && aws.ToString(d.AttributeName) == aws.ToString(spec.AttributeName) &&
			(d.TimeToLiveStatus == ddbtypes.TimeToLiveStatusEnabled || d.TimeToLiveStatus == ddbtypes.TimeToLiveStatusEnabling)
		if !enabled {
			if _, err := p.ddb.UpdateTimeToLive(ctx, &dynamodb.UpdateTimeToLiveInput{
				TableName: aws.String(name), TimeToLiveSpecification: &spec,
			}); err != nil {
				return fmt.Errorf("enable TTL on %s: %w", name, err)
			}
		}
	}

	p.physical[id] = name
	p.res.setAttrs(id, map[string]string{
		"":    name,
		"Arn": "arn:aws:dynamodb:" + Region + ":" + AccountID + ":table/" + name,
	})
	return nil
}

// ---------------------------------------------------------------- SQS

// queueAttributes maps CloudFormation AWS::SQS::Queue properties to SQS
// attribute names; the two policies are JSON documents.
var queueAttributes = []string{
	"ContentBasedDeduplication", "DeduplicationScope", "DelaySeconds", "FifoQueue",
	"FifoThroughputLimit", "MaximumMessageSize", "MessageRetentionPeriod",
	"ReceiveMessageWaitTimeSeconds", "RedriveAllowPolicy", "RedrivePolicy",
	"VisibilityTimeout",
}

func (p *provisioner) queue(ctx context.Context, id string, props map[string]any) error {
	name, err := p.name(id, props, "QueueName")
	if err != nil {
		return err
	}
	attrs := map[string]string{}
	for _, key := range queueAttributes {
		v, err := p.res.prop(props, key)
		if err != nil {
			return err
		}
		switch t := v.(type) {
		case nil:
		case map[string]any:
			b, err := json.Marshal(t)
			if err != nil {
				return fmt.Errorf("%s: %w", key, err)
			}
			attrs[key] = string(b)
		default:
			if attrs[key], err = p.res.str(t); err != nil {
				return fmt.Errorf("%s: %w", key, err)
			}
		}
	}

	var url string
	out, err := p.sqs.CreateQueue(ctx, &sqs.CreateQueueInput{QueueName: aws.String(name), Attributes: attrs})
	var exists *sqstypes.QueueNameExists
	switch {
	case err == nil:
		url = aws.ToString(out.QueueUrl)
	case errors.As(err, &exists):
		// The queue exists with other attributes (the template changed): update it.
		got, err := p.sqs.GetQueueUrl(ctx, &sqs.GetQueueUrlInput{QueueName: aws.String(name)})
		if err != nil {
			return fmt.Errorf("get URL of queue %s: %w", name, err)
		}
		url = aws.ToString(got.QueueUrl)
		delete(attrs, "FifoQueue")
		if _, err := p.sqs.SetQueueAttributes(ctx, &sqs.SetQueueAttributesInput{
			QueueUrl: aws.String(url), Attributes: attrs,
		}); err != nil {
			return fmt.Errorf("update queue %s: %w", name, err)
		}
	default:
		return fmt.Errorf("create queue %s: %w", name, err)
	}

	p.physical[id] = url
	p.res.setAttrs(id, map[string]string{
		"":          url,
		"QueueUrl":  url,
		"QueueName": name,
		"Arn":       "arn:aws:sqs:" + Region + ":" + AccountID + ":" + name,
	})
	return nil
}

// ---------------------------------------------------------------- S3

func (p *provisioner) bucket(ctx context.Context, id string, props map[string]any) error {
	name, err := p.name(id, props, "BucketName")
	if err != nil {
		return err
	}
	_, err = p.s3.CreateBucket(ctx, &s3.CreateBucketInput{Bucket: aws.String(name)})
	var (
		owned  *s3types.BucketAlreadyOwnedByYou
		exists *s3types.BucketAlreadyExists
	)
	if err != nil && !errors.As(err, &owned) && !errors.As(err, &exists) {
		return fmt.Errorf("create bucket %s: %w", name, err)
	}

	versioning, err := p.res.prop(props, "VersioningConfiguration")
	if err != nil {
		return err
	}
	if versioning != nil {
		var vc s3types.VersioningConfiguration
		if err := convert(versioning, &vc); err != nil {
			return fmt.Errorf("VersioningConfiguration: %w", err)
		}
		if _, err := p.s3.PutBucketVersioning(ctx, &s3.PutBucketVersioningInput{
			Bucket: aws.String(name), VersioningConfiguration: &vc,
		}); err != nil {
			return fmt.Errorf("versioning of %s: %w", name, err)
		}
	}

	lifecycle, err := p.res.prop(props, "LifecycleConfiguration")
	if err != nil {
		return err
	}
	if lifecycle != nil {
		rules, err := lifecycleRules(lifecycle)
		if err != nil {
			return fmt.Errorf("LifecycleConfiguration: %w", err)
		}
		if _, err := p.s3.PutBucketLifecycleConfiguration(ctx, &s3.PutBucketLifecycleConfigurationInput{
			Bucket:                 aws.String(name),
			LifecycleConfiguration: &s3types.BucketLifecycleConfiguration{Rules: rules},
		}); err != nil {
			return fmt.Errorf("lifecycle of %s: %w", name, err)
		}
	}

	p.physical[id] = name
	p.res.setAttrs(id, map[string]string{
		"":                   name,
		"Arn":                "arn:aws:s3:::" + name,
		"DomainName":         name + ".s3.amazonaws.com",
		"RegionalDomainName": name + ".s3." + Region + ".amazonaws.com",
	})
	return nil
}

// cfnLifecycleRule is the CloudFormation shape of a lifecycle rule (the parts used here).
type cfnLifecycleRule struct {
	ID                          string `json:"Id"`
	Status                      string
	Prefix                      *string
	ExpirationInDays            *int32
	ExpiredObjectDeleteMarker   *bool
	NoncurrentVersionExpiration *struct {
		NoncurrentDays          *int32
		NewerNoncurrentVersions *int32
	}
	NoncurrentVersionExpirationInDays *int32
	AbortIncompleteMultipartUpload    *struct{ DaysAfterInitiation *int32 }
	Transitions                       []any
	NoncurrentVersionTransitions      []any
	TagFilters                        []any
}

// lifecycleRules turns the template's LifecycleConfiguration into S3 rules.
func lifecycleRules(v any) ([]s3types.LifecycleRule, error) {
	var cfg struct{ Rules []cfnLifecycleRule }
	if err := convert(v, &cfg); err != nil {
		return nil, err
	}
	rules := make([]s3types.LifecycleRule, 0, len(cfg.Rules))
	for _, c := range cfg.Rules {
		if len(c.Transitions)+len(c.NoncurrentVersionTransitions)+len(c.TagFilters) > 0 {
			return nil, fmt.Errorf("rule %q: transitions and tag filters are not supported locally", c.ID)
		}
		r := s3types.LifecycleRule{
			ID:     aws.String(c.ID),
			Status: s3types.ExpirationStatus(c.Status),
			Filter: &s3types.LifecycleRuleFilter{Prefix: aws.String(aws.ToString(c.Prefix))},
		}
		if c.ExpirationInDays != nil || c.ExpiredObjectDeleteMarker != nil {
			r.Expiration = &s3types.LifecycleExpiration{
				Days: c.ExpirationInDays, ExpiredObjectDeleteMarker: c.ExpiredObjectDeleteMarker,
			}
		}
		switch {
		case c.NoncurrentVersionExpiration != nil:
			r.NoncurrentVersionExpiration = &s3types.NoncurrentVersionExpiration{
				NoncurrentDays:          c.NoncurrentVersionExpiration.NoncurrentDays,
				NewerNoncurrentVersions: c.NoncurrentVersionExpiration.NewerNoncurrentVersions,
			}
		case c.NoncurrentVersionExpirationInDays != nil:
			r.NoncurrentVersionExpiration = &s3types.NoncurrentVersionExpiration{
				NoncurrentDays: c.NoncurrentVersionExpirationInDays,
			}
		}
		if c.AbortIncompleteMultipartUpload != nil {
			r.AbortIncompleteMultipartUpload = &s3types.AbortIncompleteMultipartUpload{
				DaysAfterInitiation: c.AbortIncompleteMultipartUpload.DaysAfterInitiation,
			}
		}
		rules = append(rules, r)
	}
	return rules, nil
}

// ---------------------------------------------------------------- Secrets Manager

func (p *provisioner) secret(ctx context.Context, id string, props map[string]any) error {
	name, err := p.name(id, props, "Name")
	if err != nil {
		return err
	}
	value, err := p.secretValue(id, props)
	if err != nil {
		return err
	}
	var arn string
	out, err := p.sm.CreateSecret(ctx, &secretsmanager.CreateSecretInput{
		Name: aws.String(name), SecretString: aws.String(value),
	})
	var exists *smtypes.ResourceExistsException
	switch {
	case err == nil:
		arn = aws.ToString(out.ARN)
	case errors.As(err, &exists):
		put, err := p.sm.PutSecretValue(ctx, &secretsmanager.PutSecretValueInput{
			SecretId: aws.String(name), SecretString: aws.String(value),
		})
		if err != nil {
			return fmt.Errorf("update secret %s: %w", name, err)
		}
		arn = aws.ToString(put.ARN)
	default:
		return fmt.Errorf("create secret %s: %w", name, err)
	}
	p.physical[id] = name
	p.res.setAttrs(id, map[string]string{"": arn, "Id": arn})
	return nil
}

// secretValue is the Graph credentials for the Graph secret; other secrets get
// their SecretString, or their SecretStringTemplate with a local placeholder in
// GenerateStringKey.
func (p *provisioner) secretValue(id string, props map[string]any) (string, error) {
	if id == graphSecretID {
		b, err := json.Marshal(p.creds)
		return string(b), err
	}
	v, err := p.res.prop(props, "SecretString")
	if err != nil || v != nil {
		if err != nil {
			return "", err
		}
		return p.res.str(v)
	}
	gen, err := p.res.prop(props, "GenerateSecretString")
	if err != nil {
		return "", err
	}
	g := asMap(gen)
	tmpl, _ := g["SecretStringTemplate"].(string)
	key, _ := g["GenerateStringKey"].(string)
	if tmpl == "" || key == "" {
		return "local-" + id, nil
	}
	m := map[string]any{}
	if err := json.Unmarshal([]byte(tmpl), &m); err != nil {
		return "", fmt.Errorf("SecretStringTemplate: %w", err)
	}
	m[key] = "local-" + id
	b, err := json.Marshal(m)
	return string(b), err
}
