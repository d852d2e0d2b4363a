package localaws

import (
	"errors"
	"testing"

	"github.com/maxatome/go-testdeep/td"
)

const sampleTemplate = `
Parameters:
  Stage:
    Type: String
    Default: dev
  Count:
    Type: Number
    Default: 3
Mappings:
  StageConfig:
    dev: {Days: 14}
Conditions:
  IsProd: !Equals [!Ref Stage, prod]
  IsDev: !Not [!Condition IsProd]
Resources:
  Queue:
    Type: AWS::SQS::Queue
    Properties:
      QueueName: !Sub ${AWS::StackName}-jobs-${AWS::AccountId}-${AWS::Region}
      Literal: !Sub "${!NotMe}-${Stage}"
      Vars: !Sub
        - "${Name}-x"
        - Name: !Ref Count
      Arn: !GetAtt DLQ.Arn
      LongArn: {"Fn::GetAtt": [DLQ, Arn]}
      Dotted: !Sub "${DLQ.Arn}/index/*"
      Days: !FindInMap [StageConfig, !Ref Stage, Days]
      Pick: !If [IsProd, prod-value, !Ref AWS::NoValue]
      Dev: !If [IsDev, yes-dev, no-dev]
      List:
        - a
        - !If [IsProd, b, !Ref AWS::NoValue]
        - !Join ["-", [x, !Ref Stage]]
      Off: "OFF"
      Num: 5
  DLQ:
    Type: AWS::SQS::Queue
`

func TestParseTemplateShortTags(t *testing.T) {
	tpl, err := parseTemplate([]byte(sampleTemplate))
	td.CmpNoError(t, err)
	props := tpl.Resources["Queue"].Properties
	td.Cmp(t, props["QueueName"], map[string]any{"Fn::Sub": "${AWS::StackName}-jobs-${AWS::AccountId}-${AWS::Region}"})
	td.Cmp(t, props["Arn"], map[string]any{"Fn::GetAtt": []any{"DLQ", "Arn"}})
	td.Cmp(t, props["LongArn"], props["Arn"])
	td.Cmp(t, tpl.Conditions["IsProd"], map[string]any{"Fn::Equals": []any{map[string]any{"Ref": "Stage"}, "prod"}})
	td.Cmp(t, tpl.resourceIDs("AWS::SQS::Queue"), []string{"DLQ", "Queue"})

	_, err = parseTemplate([]byte("Resources:\n  X:\n    Type: T\n    Properties:\n      A: !Bogus x\n"))
	td.CmpContains(t, err, "unsupported tag !Bogus")
}

func TestResolve(t *testing.T) {
	tpl, err := parseTemplate([]byte(sampleTemplate))
	td.CmpNoError(t, err)
	r := newResolver(tpl, "seatwise-local")
	props := tpl.Resources["Queue"].Properties

	get := func(key string) any {
		t.Helper()
		v, err := r.prop(props, key)
		td.CmpNoError(t, err, key)
		return v
	}
	td.Cmp(t, get("QueueName"), "seatwise-local-jobs-123456789012-us-east-1")
	td.Cmp(t, get("Literal"), "${NotMe}-dev")
	td.Cmp(t, get("Vars"), "3-x")
	td.Cmp(t, get("Days"), 14)
	td.CmpNil(t, get("Pick"))
	td.Cmp(t, get("Dev"), "yes-dev")
	td.Cmp(t, get("List"), []any{"a", "x-dev"})
	td.Cmp(t, get("Off"), "OFF")
	td.Cmp(t, get("Num"), 5)

	// References to resources not created yet are reported as unresolved …
	_, err = r.prop(props, "Arn")
	var unresolved *unresolvedError
	td.CmpTrue(t, asUnresolved(err, &unresolved), "unresolved error")
	// … and resolve once the resource exists.
	r.setAttrs("DLQ", map[string]string{"Arn": "arn:aws:sqs:us-east-1:123456789012:dlq"})
	td.Cmp(t, get("Arn"), "arn:aws:sqs:us-east-1:123456789012:dlq")
	td.Cmp(t, get("Dotted"), "arn:aws:sqs:us-east-1:123456789012:dlq/index/*")
}

func asUnresolved(err error, target **unresolvedError) bool { return errors.As(err, target) }
