package localaws

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"

	"gopkg.in/yaml.v3"
)

// Local pseudo-parameter values: the account and region moto answers for.
const (
	// AccountID is the AWS account moto uses.
	AccountID = "123456789012"
	// Region is the region of the local stack.
	Region = "us-east-1"
)

// template is the subset of a CloudFormation/SAM template that Provision reads.
type template struct {
	Parameters map[string]any
	Mappings   map[string]any
	Conditions map[string]any
	Resources  map[string]resource
}

type resource struct {
	Type       string
	Properties map[string]any
}

// shortTags maps the YAML short forms of intrinsic functions to their long form keys.
var shortTags = map[string]string{
	"!Ref":         "Ref",
	"!Condition":   "Condition",
	"!Sub":         "Fn::Sub",
	"!GetAtt":      "Fn::GetAtt",
	"!If":          "Fn::If",
	"!Equals":      "Fn::Equals",
	"!Not":         "Fn::Not",
	"!And":         "Fn::And",
	"!Or":          "Fn::Or",
	"!Join":        "Fn::Join",
	"!Select":      "Fn::Select",
	"!Split":       "Fn::Split",
	"!FindInMap":   "Fn::FindInMap",
	"!GetAZs":      "Fn::GetAZs",
	"!ImportValue": "Fn::ImportValue",
	"!Base64":      "Fn::Base64",
	"!Cidr":        "Fn::Cidr",
	"!Transform":   "Fn::Transform",
}

// loadTemplate reads a CloudFormation YAML template, turning the short intrinsic
// tags (!Sub, !Ref, !GetAtt, …) into their long forms ({"Fn::Sub": …}).
func loadTemplate(path string) (*template, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read template: %w", err)
	}
	tpl, err := parseTemplate(data)
	if err != nil {
		return nil, fmt.Errorf("parse template %s: %w", path, err)
	}
	return tpl, nil
}

func parseTemplate(data []byte) (*template, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		return nil, err
	}
	v, err := nodeValue(&root)
	if err != nil {
		return nil, err
	}
	doc, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("template is not a mapping")
	}
	tpl := &template{
		Parameters: asMap(doc["Parameters"]),
		Mappings:   asMap(doc["Mappings"]),
		Conditions: asMap(doc["Conditions"]),
		Resources:  map[string]resource{},
	}
	for id, raw := range asMap(doc["Resources"]) {
		m, ok := raw.(map[string]any)
		if !ok {
			return nil, fmt.Errorf("resource %s is not a mapping", id)
		}
		typ, _ := m["Type"].(string)
		tpl.Resources[id] = resource{Type: typ, Properties: asMap(m["Properties"])}
	}
	return tpl, nil
}

// resourceIDs returns the logical ids of the resources of the given type, sorted.
func (t *template) resourceIDs(typ string) []string {
	var ids []string
	for id, r := range t.Resources {
		if r.Type == typ {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

func asMap(v any) map[string]any {
	m, _ := v.(map[string]any)
	if m == nil {
		return map[string]any{}
	}
	return m
}

// nodeValue converts a YAML node into plain Go values (map[string]any, []any,
// string, int, float64, bool, nil) with intrinsic tags in long form.
func nodeValue(n *yaml.Node) (any, error) {
	switch n.Kind {
	case yaml.DocumentNode:
		if len(n.Content) == 0 {
			return nil, nil
		}
		return nodeValue(n.Content[0])
	case yaml.AliasNode:
		return nodeValue(n.Alias)
	}
	if strings.HasPrefix(n.Tag, "!") && !strings.HasPrefix(n.Tag, "!!") {
		fn, ok := shortTags[n.Tag]
		if !ok {
			return nil, fmt.Errorf("line %d: unsupported tag %s", n.Line, n.Tag)
		}
		inner := *n
		inner.Tag = ""
		if n.Kind == yaml.ScalarNode {
			inner.Tag = "!!str"
		}
		v, err := nodeValue(&inner)
		if err != nil {
			return nil, err
		}
		if s, ok := v.(string); ok && fn == "Fn::GetAtt" {
			res, attr, found := strings.Cut(s, ".")
			if !found {
				return nil, fmt.Errorf("line %d: !GetAtt %q is not Resource.Attribute", n.Line, s)
			}
			v = []any{res, attr}
		}
		return map[string]any{fn: v}, nil
	}
	switch n.Kind {
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i].Value
			v, err := nodeValue(n.Content[i+1])
			if err != nil {
				return nil, err
			}
			m[k] = v
		}
		return m, nil
	case yaml.SequenceNode:
		s := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := nodeValue(c)
			if err != nil {
				return nil, err
			}
			s = append(s, v)
		}
		return s, nil
	default:
		var v any
		if err := n.Decode(&v); err != nil {
			return nil, fmt.Errorf("line %d: %w", n.Line, err)
		}
		return v, nil
	}
}

// noValue is what AWS::NoValue resolves to; containers drop it.
type noValueT struct{}

var noValue = noValueT{}

// unresolvedError reports a reference to a resource whose attributes are not known (yet).
type unresolvedError struct{ ref string }

func (e *unresolvedError) Error() string { return "unresolved reference to " + e.ref }

// resolver evaluates intrinsic functions against pseudo parameters, parameter
// defaults, mappings, conditions and the attributes of resources already created.
type resolver struct {
	tpl    *template
	pseudo map[string]string
	// attrs[logicalID][attribute]; attribute "" is what Ref returns.
	attrs map[string]map[string]string
}

func newResolver(tpl *template, stackName string) *resolver {
	return &resolver{
		tpl: tpl,
		pseudo: map[string]string{
			"AWS::StackName": stackName,
			"AWS::StackId":   "arn:aws:cloudformation:" + Region + ":" + AccountID + ":stack/" + stackName + "/local",
			"AWS::AccountId": AccountID,
			"AWS::Region":    Region,
			"AWS::Partition": "aws",
			"AWS::URLSuffix": "amazonaws.com",
		},
		attrs: map[string]map[string]string{},
	}
}

func (r *resolver) setAttrs(id string, attrs map[string]string) { r.attrs[id] = attrs }

// prop resolves one property of a resource; a missing property is nil.
func (r *resolver) prop(props map[string]any, key string) (any, error) {
	v, ok := props[key]
	if !ok {
		return nil, nil
	}
	v, err := r.resolve(v)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", key, err)
	}
	if v == noValue {
		return nil, nil
	}
	return v, nil
}

func (r *resolver) resolve(v any) (any, error) {
	switch t := v.(type) {
	case map[string]any:
		if len(t) == 1 {
			for k, arg := range t {
				if k == "Ref" || k == "Condition" || strings.HasPrefix(k, "Fn::") {
					return r.intrinsic(k, arg)
				}
			}
		}
		out := make(map[string]any, len(t))
		for k, e := range t {
			rv, err := r.resolve(e)
			if err != nil {
				return nil, err
			}
			if rv != noValue {
				out[k] = rv
			}
		}
		return out, nil
	case []any:
		out := make([]any, 0, len(t))
		for _, e := range t {
			rv, err := r.resolve(e)
			if err != nil {
				return nil, err
			}
			if rv != noValue {
				out = append(out, rv)
			}
		}
		return out, nil
	default:
		return v, nil
	}
}

func (r *resolver) intrinsic(fn string, arg any) (any, error) {
	switch fn {
	case "Ref":
		name, ok := arg.(string)
		if !ok {
			return nil, fmt.Errorf("Ref: want a name, got %T", arg)
		}
		return r.ref(name)
	case "Fn::GetAtt":
		parts, err := r.stringList(arg)
		if err != nil || len(parts) != 2 {
			return nil, fmt.Errorf("Fn::GetAtt: want [Resource, Attribute], got %v", arg)
		}
		return r.getAtt(parts[0], parts[1])
	case "Fn::Sub":
		return r.sub(arg)
	case "Fn::If":
		args, ok := arg.([]any)
		if !ok || len(args) != 3 {
			return nil, fmt.Errorf("Fn::If: want [Condition, then, else], got %v", arg)
		}
		name, _ := args[0].(string)
		cond, err := r.condition(name)
		if err != nil {
			return nil, err
		}
		if cond {
			return r.resolve(args[1])
		}
		return r.resolve(args[2])
	case "Fn::Equals", "Fn::Not", "Fn::And", "Fn::Or", "Condition":
		return r.boolean(map[string]any{fn: arg})
	case "Fn::Join":
		args, ok := arg.([]any)
		if !ok || len(args) != 2 {
			return nil, fmt.Errorf("Fn::Join: want [delimiter, list], got %v", arg)
		}
		delim, err := r.str(args[0])
		if err != nil {
			return nil, err
		}
		items, err := r.stringList(args[1])
		if err != nil {
			return nil, fmt.Errorf("Fn::Join: %w", err)
		}
		return strings.Join(items, delim), nil
	case "Fn::Select":
		args, ok := arg.([]any)
		if !ok || len(args) != 2 {
			return nil, fmt.Errorf("Fn::Select: want [index, list], got %v", arg)
		}
		idx, err := r.str(args[0])
		if err != nil {
			return nil, err
		}
		i, err := strconv.Atoi(idx)
		if err != nil {
			return nil, fmt.Errorf("Fn::Select: index %q: %w", idx, err)
		}
		list, err := r.resolve(args[1])
		if err != nil {
			return nil, err
		}
		l, ok := list.([]any)
		if !ok || i < 0 || i >= len(l) {
			return nil, fmt.Errorf("Fn::Select: index %d out of %v", i, list)
		}
		return l[i], nil
	case "Fn::FindInMap":
		keys, err := r.stringList(arg)
		if err != nil || len(keys) != 3 {
			return nil, fmt.Errorf("Fn::FindInMap: want [Map, Key, Key], got %v", arg)
		}
		v, ok := asMap(asMap(r.tpl.Mappings[keys[0]])[keys[1]])[keys[2]]
		if !ok {
			return nil, fmt.Errorf("Fn::FindInMap: no %s/%s/%s", keys[0], keys[1], keys[2])
		}
		return v, nil
	default:
		return nil, fmt.Errorf("%s is not supported locally", fn)
	}
}

func (r *resolver) ref(name string) (any, error) {
	if name == "AWS::NoValue" {
		return noValue, nil
	}
	if v, ok := r.pseudo[name]; ok {
		return v, nil
	}
	if p, ok := r.tpl.Parameters[name]; ok {
		def, ok := asMap(p)["Default"]
		if !ok {
			return nil, fmt.Errorf("parameter %s has no Default", name)
		}
		return def, nil
	}
	if _, ok := r.tpl.Resources[name]; ok {
		return r.getAtt(name, "")
	}
	return nil, fmt.Errorf("Ref to unknown name %s", name)
}

func (r *resolver) getAtt(id, attr string) (string, error) {
	if v, ok := r.attrs[id][attr]; ok {
		return v, nil
	}
	if _, ok := r.tpl.Resources[id]; !ok {
		return "", fmt.Errorf("reference to unknown resource %s", id)
	}
	if attr == "" {
		return "", &unresolvedError{ref: id}
	}
	return "", &unresolvedError{ref: id + "." + attr}
}

func (r *resolver) sub(arg any) (any, error) {
	var (
		format string
		vars   map[string]any
	)
	switch t := arg.(type) {
	case string:
		format = t
	case []any:
		if len(t) != 2 {
			return nil, fmt.Errorf("Fn::Sub: want [string, {vars}], got %v", arg)
		}
		format, _ = t[0].(string)
		vars = asMap(t[1])
	default:
		return nil, fmt.Errorf("Fn::Sub: unexpected %T", arg)
	}
	var b strings.Builder
	rest := format
	for {
		i := strings.Index(rest, "${")
		if i < 0 {
			b.WriteString(rest)
			return b.String(), nil
		}
		b.WriteString(rest[:i])
		j := strings.Index(rest[i:], "}")
		if j < 0 {
			return nil, fmt.Errorf("Fn::Sub: unterminated ${ in %q", format)
		}
		name := rest[i+2 : i+j]
		rest = rest[i+j+1:]
		if strings.HasPrefix(name, "!") { // ${!Literal}
			b.WriteString("${" + name[1:] + "}")
			continue
		}
		var (
			val any
			err error
		)
		if v, ok := vars[name]; ok {
			val, err = r.resolve(v)
		} else if res, attr, dotted := strings.Cut(name, "."); dotted {
			val, err = r.getAtt(res, attr)
		} else {
			val, err = r.ref(name)
		}
		if err != nil {
			return nil, fmt.Errorf("Fn::Sub %q: %w", format, err)
		}
		s, err := r.str(val)
		if err != nil {
			return nil, fmt.Errorf("Fn::Sub %q: %w", format, err)
		}
		b.WriteString(s)
	}
}

func (r *resolver) condition(name string) (bool, error) {
	c, ok := r.tpl.Conditions[name]
	if !ok {
		return false, fmt.Errorf("unknown condition %q", name)
	}
	return r.boolean(c)
}

func (r *resolver) boolean(v any) (bool, error) {
	m, ok := v.(map[string]any)
	if !ok || len(m) != 1 {
		return false, fmt.Errorf("not a condition: %v", v)
	}
	for fn, arg := range m {
		switch fn {
		case "Condition":
			name, _ := arg.(string)
			return r.condition(name)
		case "Fn::Equals":
			args, ok := arg.([]any)
			if !ok || len(args) != 2 {
				return false, fmt.Errorf("Fn::Equals: want two values, got %v", arg)
			}
			a, err := r.str(args[0])
			if err != nil {
				return false, err
			}
			b, err := r.str(args[1])
			if err != nil {
				return false, err
			}
			return a == b, nil
		case "Fn::Not", "Fn::And", "Fn::Or":
			args, ok := arg.([]any)
			if !ok || len(args) == 0 {
				return false, fmt.Errorf("%s: want a list of conditions, got %v", fn, arg)
			}
			vals := make([]bool, len(args))
			for i, a := range args {
				b, err := r.boolean(a)
				if err != nil {
					return false, err
				}
				vals[i] = b
			}
			switch fn {
			case "Fn::Not":
				return !vals[0], nil
			case "Fn::And":
				for _, b := range vals {
					if !b {
						return false, nil
					}
				}
				return true, nil
			default:
				for _, b := range vals {
					if b {
						return true, nil
					}
				}
				return false, nil
			}
		}
	}
	return false, fmt.Errorf("not a condition: %v", v)
}

// str resolves v and renders it as a string (numbers and booleans as CloudFormation does).
func (r *resolver) str(v any) (string, error) {
	rv, err := r.resolve(v)
	if err != nil {
		return "", err
	}
	switch t := rv.(type) {
	case string:
		return t, nil
	case int:
		return strconv.Itoa(t), nil
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64), nil
	case bool:
		return strconv.FormatBool(t), nil
	default:
		return "", fmt.Errorf("want a string, got %T", rv)
	}
}

func (r *resolver) stringList(v any) ([]string, error) {
	rv, err := r.resolve(v)
	if err != nil {
		return nil, err
	}
	l, ok := rv.([]any)
	if !ok {
		return nil, fmt.Errorf("want a list, got %T", rv)
	}
	out := make([]string, len(l))
	for i, e := range l {
		if out[i], err = r.str(e); err != nil {
			return nil, err
		}
	}
	return out, nil
}
