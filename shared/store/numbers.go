package store

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/feature/dynamodb/attributevalue"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb"
	"github.com/aws/aws-sdk-go-v2/service/dynamodb/types"

	"github.com/seatwise/seatwise/shared/domain"
)

// Number items: PK CUST#<customerId>#NUM#<+E164>, SK NUM — one partition per number, so that reservations of
// different numbers never contend. GSI1 (CUSTNUMS#<customerId>, <+E164>) lists a customer's inventory by number
// and finds numbers by prefix. GSI2 is the sparse free index: only an available or quarantined number carries
// GSI2PK NUMFREE#<customerId>#<siteId>#<type> and GSI2SK <freeFrom>#<+E164>, where freeFrom is "0000" for an
// available number and the (fixed-width, UTC) end of quarantine otherwise; so a Query for GSI2SK < now finds the
// numbers free now, available ones first (by number), then those whose quarantine ended (oldest end first).
//
// The holder of a number and the holder's provisioning item change in one transaction: a number is reserved or
// assigned to U exactly when U's provisioning names it (ReservedNumber, Number), and a user holds at most one.
type numberItem struct {
	PK, SK         string
	GSI1PK, GSI1SK string
	GSI2PK         string `dynamodbav:",omitempty"`
	GSI2SK         string `dynamodbav:",omitempty"`
	Kind           string `dynamodbav:"type"`
	// UserNameLower is UserName in lower case, for case-insensitive search.
	UserNameLower string `dynamodbav:"userNameLower"`
	domain.Number
}

const numberSK = "NUM"

func numberPK(customerID, number string) string { return customerPK(customerID) + "#NUM#" + number }

func numbersGSI1PK(customerID string) string { return "CUSTNUMS#" + customerID }

func numberFreePK(customerID, siteID, numberType string) string {
	return "NUMFREE#" + customerID + "#" + siteID + "#" + numberType
}

func numberKey(customerID, number string) map[string]types.AttributeValue {
	return key(numberPK(customerID, number), numberSK)
}

// normNumber returns number with its leading "+" (an API path may lose it).
func normNumber(number string) string {
	number = strings.TrimSpace(number)
	if number != "" && !strings.HasPrefix(number, "+") {
		number = "+" + number
	}
	return number
}

func newNumberItem(n domain.Number) numberItem {
	it := numberItem{
		PK: numberPK(n.CustomerID, n.Number), SK: numberSK,
		GSI1PK: numbersGSI1PK(n.CustomerID), GSI1SK: n.Number,
		Kind: "number", UserNameLower: strings.ToLower(n.UserName), Number: n,
	}
	switch n.Status {
	case domain.NumberAvailable:
		it.GSI2PK, it.GSI2SK = numberFreePK(n.CustomerID, n.SiteID, n.Type), "0000#"+n.Number
	case domain.NumberQuarantined:
		from := "0000"
		if n.QuarantinedUntil != nil {
			from = sortableTime(*n.QuarantinedUntil)
		}
		it.GSI2PK, it.GSI2SK = numberFreePK(n.CustomerID, n.SiteID, n.Type), from+"#"+n.Number
	}
	return it
}

func decodeNumber(raw map[string]types.AttributeValue) (domain.Number, error) {
	var it numberItem
	if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
		return domain.Number{}, fmt.Errorf("decode number: %w", err)
	}
	return it.Number, nil
}

// numberPut is a put of n, conditional on the stored number being at version (0: on there being none).
func (s *Store) numberPut(n domain.Number, version int64) (*types.Put, error) {
	item, err := attributevalue.MarshalMap(newNumberItem(n))
	if err != nil {
		return nil, fmt.Errorf("marshal number %s: %w", n.Number, err)
	}
	put := &types.Put{TableName: &s.table, Item: item, ConditionExpression: ptr("attribute_not_exists(PK)")}
	if version > 0 {
		put.ConditionExpression = ptr("#ver = :v")
		put.ExpressionAttributeNames = map[string]string{"#ver": "Version"}
		put.ExpressionAttributeValues = map[string]types.AttributeValue{":v": num(version)}
	}
	return put, nil
}

func (s *Store) transact(ctx context.Context, items ...types.TransactWriteItem) error {
	for _, it := range items {
		if it.Update != nil {
			it.Update.TableName = &s.table
		}
	}
	_, err := s.db.TransactWriteItems(ctx, &dynamodb.TransactWriteItemsInput{TransactItems: items})
	return err
}

func isFree(n domain.Number) bool {
	return n.Status == domain.NumberAvailable || n.Status == domain.NumberQuarantined
}

// addConcurrency bounds the conditional puts AddNumbers runs at once.
const addConcurrency = 8

// AddNumbers adds numbers to the customer's inventory (each stored at version 1, available unless its Status says
// otherwise, Source "manual" unless set), each with a conditional put, a few at a time. Numbers already in the
// inventory are left unchanged and listed in existing; both lists are sorted. One audit record ("number.add")
// summarises what was added: count, first and last number.
func (s *Store) AddNumbers(ctx context.Context, customerID string, nums []domain.Number, actor string, at time.Time) (added []string, existing []string, err error) {
	seen := map[string]bool{}
	var todo []domain.Number
	for _, n := range nums {
		n.CustomerID, n.Number = customerID, normNumber(n.Number)
		if n.Number == "" {
			return nil, nil, domain.Invalid(map[string]string{"number": "required"})
		}
		if seen[n.Number] {
			continue
		}
		seen[n.Number] = true
		if n.Status == "" {
			n.Status = domain.NumberAvailable
		}
		if n.Source == "" {
			n.Source = "manual"
		}
		n.Version, n.UpdatedAt = 1, at
		todo = append(todo, n)
	}
	var (
		mu       sync.Mutex
		wg       sync.WaitGroup
		firstErr error
		sem      = make(chan struct{}, addConcurrency)
	)
	for _, n := range todo {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			put, err := s.numberPut(n, 0)
			if err == nil {
				_, err = s.db.PutItem(ctx, &dynamodb.PutItemInput{TableName: &s.table, Item: put.Item, ConditionExpression: put.ConditionExpression})
			}
			var failed *types.ConditionalCheckFailedException
			mu.Lock()
			defer mu.Unlock()
			switch {
			case err == nil:
				added = append(added, n.Number)
			case errors.As(err, &failed):
				existing = append(existing, n.Number)
			case firstErr == nil:
				firstErr = fmt.Errorf("add number %s: %w", n.Number, err)
			}
		}()
	}
	wg.Wait()
	slices.Sort(added)
	slices.Sort(existing)
	if len(added) > 0 {
		aerr := s.AppendAudit(ctx, domain.AuditRecord{
			At: at, Actor: actor, CustomerID: customerID, Action: "number.add", Outcome: "ok",
			After: map[string]any{"count": len(added), "first": added[0], "last": added[len(added)-1], "existing": len(existing)},
		})
		if firstErr == nil && aerr != nil {
			firstErr = aerr
		}
	}
	return added, existing, firstErr
}

// GetNumber returns one number of the customer's inventory (with or without its "+"), or an ENotFound error.
func (s *Store) GetNumber(ctx context.Context, customerID, number string) (domain.Number, error) {
	number = normNumber(number)
	out, err := s.db.GetItem(ctx, &dynamodb.GetItemInput{TableName: &s.table, Key: numberKey(customerID, number), ConsistentRead: ptr(true)})
	if err != nil {
		return domain.Number{}, fmt.Errorf("get number %s: %w", number, err)
	}
	if out.Item == nil {
		return domain.Number{}, domain.Errorf(domain.ENotFound, "number %s is not in the inventory", number)
	}
	return decodeNumber(out.Item)
}

// NumberQuery selects a page of a customer's numbers.
type NumberQuery struct {
	// Q is a number prefix (with or without "+"; spaces, dashes and brackets ignored), an extension (prefix), or
	// part of the holder's name or id (case-insensitive).
	Q string
	// SiteID, Status and Type keep the numbers with exactly that value ("" = any).
	SiteID, Status, Type string
	Cursor               string
	Limit                int
}

// maxExtensionDigits is the longest extension: a shorter all-digit Q may be an extension as well as a number
// prefix.
const maxExtensionDigits = 8

// ListNumbers returns one page of the customer's numbers ordered by number. A Q starting with "+" (or of more
// digits than an extension has) is a number prefix read straight from the index; other criteria are filters, so a
// page may be short while more remain: page on until NextCursor is "".
func (s *Store) ListNumbers(ctx context.Context, customerID string, q NumberQuery) (Page[domain.Number], error) {
	in := &dynamodb.QueryInput{
		IndexName:                 ptr(gsi1),
		KeyConditionExpression:    ptr("GSI1PK = :pk"),
		ExpressionAttributeNames:  map[string]string{},
		ExpressionAttributeValues: map[string]types.AttributeValue{":pk": str(numbersGSI1PK(customerID))},
	}
	var conds []string
	names, values := in.ExpressionAttributeNames, in.ExpressionAttributeValues
	if text := strings.TrimSpace(q.Q); text != "" {
		digits, plus, isNumber := numberPrefix(text)
		switch {
		case isNumber && digits == "":
		case isNumber && (plus || len(digits) > maxExtensionDigits):
			in.KeyConditionExpression = ptr("GSI1PK = :pk AND begins_with(GSI1SK, :prefix)")
			values[":prefix"] = str("+" + digits)
		case isNumber:
			conds = append(conds, "(begins_with(GSI1SK, :prefix) OR begins_with(#ext, :digits))")
			names["#ext"] = "Extension"
			values[":prefix"], values[":digits"] = str("+"+digits), str(digits)
		default:
			conds = append(conds, "(contains(userNameLower, :text) OR contains(#uid, :text))")
			names["#uid"] = "UserID"
			values[":text"] = str(strings.ToLower(text))
		}
	}
	if q.SiteID != "" {
		conds = append(conds, "#site = :site")
		names["#site"], values[":site"] = "SiteID", str(q.SiteID)
	}
	switch q.Status {
	case "":
	case domain.NumberAvailable, domain.NumberReserved, domain.NumberAssigned, domain.NumberQuarantined:
		conds = append(conds, "#status = :status")
		names["#status"], values[":status"] = "Status", str(q.Status)
	default:
		return Page[domain.Number]{}, domain.Invalid(map[string]string{"status": "must be available, reserved, assigned or quarantined"})
	}
	switch q.Type {
	case "":
	case domain.NumberDirectRouting, domain.NumberOperatorConnect, domain.NumberCallingPlan:
		conds = append(conds, "#ntype = :ntype")
		names["#ntype"], values[":ntype"] = "Type", str(q.Type)
	default:
		return Page[domain.Number]{}, domain.Invalid(map[string]string{"type": "must be directRouting, operatorConnect or callingPlan"})
	}
	if len(conds) > 0 {
		in.FilterExpression = ptr(strings.Join(conds, " AND "))
	}
	if len(names) == 0 {
		in.ExpressionAttributeNames = nil
	}
	page, err := fillPage(ctx, s, in, []string{"PK", "SK", "GSI1PK", "GSI1SK"}, q.Cursor, q.Limit, decodeNumber)
	if err != nil {
		return page, fmt.Errorf("list numbers of %s: %w", customerID, err)
	}
	return page, nil
}

// numberPrefix reads q as a number prefix: its digits, whether it starts with "+", and whether it is one at all
// (only digits, after an optional "+", ignoring spaces, dashes, dots and brackets).
func numberPrefix(q string) (digits string, plus, ok bool) {
	plus = strings.HasPrefix(q, "+")
	var b strings.Builder
	for _, r := range strings.TrimPrefix(q, "+") {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune(r)
		case strings.ContainsRune(" -.()", r):
		default:
			return "", false, false
		}
	}
	return b.String(), plus, true
}

// UpdateNumber changes the site, extension and type of a number that is still at version (the version the caller
// read), and audits it ("number.update"), in one transaction; when the number is assigned, its holder's
// provisioning item follows (extension, type). It returns the stored number (version + 1), an EConflict error when
// someone else changed it since, ENotFound for an unknown number.
func (s *Store) UpdateNumber(ctx context.Context, n domain.Number, version int64, actor string, at time.Time) (domain.Number, error) {
	before, err := s.GetNumber(ctx, n.CustomerID, n.Number)
	if err != nil {
		return domain.Number{}, err
	}
	if before.Version != version {
		return domain.Number{}, stale("number %s", before.Number)
	}
	after := before
	after.SiteID, after.Extension, after.Type = n.SiteID, n.Extension, n.Type
	after.Version, after.UpdatedAt = version+1, at
	put, err := s.numberPut(after, version)
	if err != nil {
		return domain.Number{}, err
	}
	audit, err := s.auditItem(domain.AuditRecord{
		At: at, Actor: actor, CustomerID: n.CustomerID, Action: "number.update", Before: before, After: after, Outcome: "ok",
	})
	if err != nil {
		return domain.Number{}, err
	}
	items := []types.TransactWriteItem{{Put: put}, {Put: &types.Put{TableName: &s.table, Item: audit}}}
	if before.Status == domain.NumberAssigned && before.UserID != "" {
		prov, err := s.GetProvisioning(ctx, n.CustomerID, before.UserID)
		if err != nil {
			return domain.Number{}, err
		}
		if prov.Number == before.Number {
			upd := provisioningUpdate(n.CustomerID, before.UserID, at, map[string]types.AttributeValue{
				"Extension": str(after.Extension), "NumberType": str(after.Type)})
			items = append(items, types.TransactWriteItem{Update: withCondition(upd, "#num = :num",
				map[string]string{"#num": "Number"}, map[string]types.AttributeValue{":num": str(before.Number)})})
		}
	}
	err = s.transact(ctx, items...)
	switch failed := failedConditions(err); {
	case err == nil:
		return after, nil
	case len(failed) > 0:
		return domain.Number{}, stale("number %s", before.Number)
	default:
		return domain.Number{}, fmt.Errorf("update number %s: %w", before.Number, err)
	}
}

// DeleteNumber deletes a free (available or quarantined) number that is still at version, and audits it
// ("number.delete"), in one transaction. It returns an EConflict error when the number is reserved or assigned
// (release it first) or when someone else changed it since, ENotFound for an unknown number.
func (s *Store) DeleteNumber(ctx context.Context, customerID, number string, version int64, actor string, at time.Time) error {
	before, err := s.GetNumber(ctx, customerID, number)
	if err != nil {
		return err
	}
	if before.Version != version {
		return stale("number %s", before.Number)
	}
	if !isFree(before) {
		return domain.Errorf(domain.EConflict, "number %s is %s (%s): release it first", before.Number, before.Status, holderName(before))
	}
	audit, err := s.auditItem(domain.AuditRecord{
		At: at, Actor: actor, CustomerID: customerID, Action: "number.delete", Before: before, Outcome: "ok",
	})
	if err != nil {
		return err
	}
	err = s.transact(ctx,
		types.TransactWriteItem{Delete: &types.Delete{TableName: &s.table, Key: numberKey(customerID, before.Number),
			ConditionExpression:      ptr("#ver = :v AND #status IN (:avail, :quar)"),
			ExpressionAttributeNames: map[string]string{"#ver": "Version", "#status": "Status"},
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":v": num(version), ":avail": str(domain.NumberAvailable), ":quar": str(domain.NumberQuarantined)}}},
		types.TransactWriteItem{Put: &types.Put{TableName: &s.table, Item: audit}})
	switch failed := failedConditions(err); {
	case err == nil:
		return nil
	case failed[0]:
		return stale("number %s", before.Number)
	default:
		return fmt.Errorf("delete number %s: %w", before.Number, err)
	}
}

func holderName(n domain.Number) string {
	if n.UserName != "" {
		return n.UserName
	}
	if n.UserID != "" {
		return n.UserID
	}
	return "nobody"
}

// Reservation outcomes of reserve that its callers act on.
var (
	errNumberTaken = errors.New("the number changed since it was read")
	errUserHolds   = errors.New("the user already holds a number")
)

// reserve reserves the free number n (as read, at its version) for user, with the user's provisioning item, in one
// transaction.
func (s *Store) reserve(ctx context.Context, n domain.Number, user domain.User, now time.Time) (domain.Number, error) {
	userID := strings.ToLower(user.ID)
	after := n
	after.Status, after.UserID, after.UserName, after.QuarantinedUntil = domain.NumberReserved, userID, user.DisplayName, nil
	after.Version, after.UpdatedAt = n.Version+1, now
	put, err := s.numberPut(after, n.Version)
	if err != nil {
		return domain.Number{}, err
	}
	put.ConditionExpression = ptr("#ver = :v AND #status IN (:avail, :quar)")
	put.ExpressionAttributeNames["#status"] = "Status"
	put.ExpressionAttributeValues[":avail"], put.ExpressionAttributeValues[":quar"] = str(domain.NumberAvailable), str(domain.NumberQuarantined)
	prov := withCondition(
		provisioningUpdate(n.CustomerID, userID, now, map[string]types.AttributeValue{"ReservedNumber": str(n.Number)}),
		"(attribute_not_exists(#res) OR #res = :empty) AND (attribute_not_exists(#num) OR #num = :empty)",
		map[string]string{"#res": "ReservedNumber", "#num": "Number"}, map[string]types.AttributeValue{":empty": str("")})
	err = s.transact(ctx, types.TransactWriteItem{Put: put}, types.TransactWriteItem{Update: prov})
	switch failed := failedConditions(err); {
	case err == nil:
		return after, nil
	case failed[0]:
		return domain.Number{}, errNumberTaken
	case failed[1]:
		return domain.Number{}, errUserHolds
	default:
		return domain.Number{}, fmt.Errorf("reserve number %s: %w", n.Number, err)
	}
}

// heldNumber returns the number the user's provisioning names, reserved first, then assigned (ok=false: none).
func (s *Store) heldNumber(ctx context.Context, customerID, userID string) (domain.Number, bool, error) {
	prov, err := s.GetProvisioning(ctx, customerID, userID)
	if err != nil {
		return domain.Number{}, false, err
	}
	for _, held := range []string{prov.ReservedNumber, prov.Number} {
		if held != "" {
			n, err := s.GetNumber(ctx, customerID, held)
			return n, err == nil, err
		}
	}
	return domain.Number{}, false, nil
}

// Bounds of ReserveNumber's search: candidates read per round, and rounds (a round whose candidates were all
// taken by others reads the index again).
const (
	reserveCandidates = 10
	reserveRounds     = 5
)

// ReserveNumber reserves a number of the site for user: the first one free at now (available ones first, by
// number, then those whose quarantine has ended, the longest-ended first) of numberType ("" = any of the three
// types). The number (→ reserved for the user, out of the free index) and the user's provisioning item
// (ReservedNumber) change in one transaction; a number taken by someone else meanwhile is skipped for the next.
//
// When the user's provisioning already names a number — one reserved for them (a provisioning resumed after a
// crash) or one assigned to them (a user keeps their number) — that number is returned as is.
//
// Errors: EConflict "no free … number on site …" when none is left.
func (s *Store) ReserveNumber(ctx context.Context, customerID, siteID, numberType string, user domain.User, now time.Time) (domain.Number, error) {
	for attempt := 0; ; attempt++ {
		held, ok, err := s.heldNumber(ctx, customerID, user.ID)
		if err != nil || ok {
			return held, err
		}
		n, err := s.reserveFree(ctx, customerID, siteID, numberType, user, now)
		if errors.Is(err, errUserHolds) && attempt < 2 {
			continue // a concurrent reservation for the same user won: return its number
		}
		if errors.Is(err, errUserHolds) {
			return domain.Number{}, domain.Errorf(domain.EConflict, "user %s already holds a number", user.ID)
		}
		return n, err
	}
}

func (s *Store) reserveFree(ctx context.Context, customerID, siteID, numberType string, user domain.User, now time.Time) (domain.Number, error) {
	typesWanted := []string{numberType}
	if numberType == "" {
		typesWanted = []string{domain.NumberDirectRouting, domain.NumberOperatorConnect, domain.NumberCallingPlan}
	}
	tried := map[string]bool{}
	for round := 0; round < reserveRounds; round++ {
		cands, err := s.freeNumbers(ctx, customerID, siteID, typesWanted, now)
		if err != nil {
			return domain.Number{}, err
		}
		fresh := 0
		for _, c := range cands {
			key := fmt.Sprintf("%s@%d", c.Number, c.Version)
			if tried[key] {
				continue
			}
			tried[key] = true
			fresh++
			n, err := s.reserve(ctx, c, user, now)
			if errors.Is(err, errNumberTaken) {
				continue
			}
			return n, err
		}
		if fresh == 0 {
			break
		}
	}
	where := siteID
	if site, err := s.GetSite(ctx, customerID, siteID); err == nil {
		where = site.Name
	}
	if numberType == "" {
		return domain.Number{}, domain.Errorf(domain.EConflict, "no free number on site %s", where)
	}
	return domain.Number{}, domain.Errorf(domain.EConflict, "no free %s number on site %s", numberType, where)
}

// freeNumbers reads the first numbers of the site's free index free at now, of each type, merged in index order.
func (s *Store) freeNumbers(ctx context.Context, customerID, siteID string, numberTypes []string, now time.Time) ([]domain.Number, error) {
	type cand struct {
		sk string
		n  domain.Number
	}
	var all []cand
	for _, t := range numberTypes {
		out, err := s.db.Query(ctx, &dynamodb.QueryInput{
			TableName: &s.table, IndexName: ptr(gsi2),
			KeyConditionExpression: ptr("GSI2PK = :pk AND GSI2SK < :bound"),
			ExpressionAttributeValues: map[string]types.AttributeValue{
				":pk": str(numberFreePK(customerID, siteID, t)), ":bound": str(sortableTime(now) + "$"), // '$' sorts after '#'
			},
			Limit: ptr(int32(reserveCandidates)),
		})
		if err != nil {
			return nil, fmt.Errorf("free numbers of site %s: %w", siteID, err)
		}
		for _, raw := range out.Items {
			var it numberItem
			if err := attributevalue.UnmarshalMap(raw, &it); err != nil {
				return nil, fmt.Errorf("decode number: %w", err)
			}
			all = append(all, cand{it.GSI2SK, it.Number})
		}
	}
	slices.SortFunc(all, func(a, b cand) int { return strings.Compare(a.sk, b.sk) })
	out := make([]domain.Number, 0, min(len(all), reserveCandidates))
	for _, c := range all[:min(len(all), reserveCandidates)] {
		out = append(out, c.n)
	}
	return out, nil
}

// ReserveSpecificNumber reserves one given number for user, as ReserveNumber does. A number already reserved for
// or assigned to the user is returned as is.
//
// Errors: ENotFound when the number is not in the inventory; EConflict when someone else holds it (naming them),
// when it is in quarantine at now, or when the user already holds another number.
func (s *Store) ReserveSpecificNumber(ctx context.Context, customerID, number string, user domain.User, now time.Time) (domain.Number, error) {
	userID := strings.ToLower(user.ID)
	for attempt := 0; ; attempt++ {
		n, err := s.GetNumber(ctx, customerID, number)
		if err != nil {
			return domain.Number{}, err
		}
		switch {
		case !isFree(n) && n.UserID == userID:
			return n, nil
		case !isFree(n):
			return domain.Number{}, domain.Errorf(domain.EConflict, "number %s is %s (%s)", n.Number, n.Status, holderName(n))
		case n.Status == domain.NumberQuarantined && n.QuarantinedUntil != nil && n.QuarantinedUntil.After(now):
			return domain.Number{}, domain.Errorf(domain.EConflict, "number %s is in quarantine until %s",
				n.Number, n.QuarantinedUntil.UTC().Format(time.RFC3339))
		}
		reserved, err := s.reserve(ctx, n, user, now)
		switch {
		case errors.Is(err, errNumberTaken) && attempt < 2:
			continue // read it again: the message names who took it
		case errors.Is(err, errNumberTaken):
			return domain.Number{}, domain.Errorf(domain.EConflict, "number %s keeps changing: try again", n.Number)
		case errors.Is(err, errUserHolds):
			prov, perr := s.GetProvisioning(ctx, customerID, userID)
			if perr != nil {
				return domain.Number{}, perr
			}
			return domain.Number{}, domain.Errorf(domain.EConflict, "user %s already holds number %s",
				cmp.Or(user.DisplayName, userID), cmp.Or(prov.ReservedNumber, prov.Number))
		}
		return reserved, err
	}
}

// CompleteNumberAssignment marks a number reserved for user as assigned to them (UserName = their display name)
// and records it in their provisioning item (Number, NumberType, Extension, and SiteID when siteID is not "";
// ReservedNumber cleared), in one transaction. A number already assigned to the user is returned as is, without a
// write.
//
// Errors: EConflict when the number is not reserved for the user, when it changed meanwhile, or when the user's
// provisioning holds another number (a user never holds two); nothing is changed then.
func (s *Store) CompleteNumberAssignment(ctx context.Context, customerID, number string, user domain.User, siteID string, at time.Time) (domain.Number, error) {
	userID := strings.ToLower(user.ID)
	n, err := s.GetNumber(ctx, customerID, number)
	if err != nil {
		return domain.Number{}, err
	}
	switch {
	case n.Status == domain.NumberAssigned && n.UserID == userID:
		return n, nil
	case n.Status != domain.NumberReserved || n.UserID != userID:
		return domain.Number{}, domain.Errorf(domain.EConflict, "number %s is not reserved for user %s (it is %s, %s)",
			n.Number, cmp.Or(user.DisplayName, userID), n.Status, holderName(n))
	}
	after := n
	after.Status, after.UserName = domain.NumberAssigned, cmp.Or(user.DisplayName, n.UserName)
	after.Version, after.UpdatedAt = n.Version+1, at
	put, err := s.numberPut(after, n.Version)
	if err != nil {
		return domain.Number{}, err
	}
	set := map[string]types.AttributeValue{
		"Number": str(n.Number), "NumberType": str(n.Type), "Extension": str(n.Extension), "ReservedNumber": str(""),
	}
	if siteID != "" {
		set["SiteID"] = str(siteID)
	}
	prov := withCondition(provisioningUpdate(customerID, userID, at, set),
		"attribute_not_exists(#num) OR #num = :empty OR #num = :num",
		map[string]string{"#num": "Number"}, map[string]types.AttributeValue{":empty": str(""), ":num": str(n.Number)})
	err = s.transact(ctx, types.TransactWriteItem{Put: put}, types.TransactWriteItem{Update: prov})
	switch failed := failedConditions(err); {
	case err == nil:
		return after, nil
	case failed[0]:
		return domain.Number{}, stale("number %s", n.Number)
	case failed[1]:
		p, perr := s.GetProvisioning(ctx, customerID, userID)
		if perr != nil {
			return domain.Number{}, perr
		}
		return domain.Number{}, domain.Errorf(domain.EConflict, "user %s already holds number %s: release it first",
			cmp.Or(user.DisplayName, userID), p.Number)
	default:
		return domain.Number{}, fmt.Errorf("assign number %s: %w", n.Number, err)
	}
}

// CancelReservation makes a number reserved for userID available again (back in the free index) and clears the
// user's ReservedNumber, in one transaction. It does nothing when the number is not (or no longer) reserved for
// the user. Errors: ENotFound for an unknown number, EConflict when the number changed meanwhile.
func (s *Store) CancelReservation(ctx context.Context, customerID, number, userID string, at time.Time) error {
	userID = strings.ToLower(userID)
	n, err := s.GetNumber(ctx, customerID, number)
	if err != nil {
		return err
	}
	prov, err := s.GetProvisioning(ctx, customerID, userID)
	if err != nil {
		return err
	}
	var items []types.TransactWriteItem
	if n.Status == domain.NumberReserved && n.UserID == userID {
		after := n
		after.Status, after.UserID, after.UserName, after.QuarantinedUntil = domain.NumberAvailable, "", "", nil
		after.Version, after.UpdatedAt = n.Version+1, at
		put, err := s.numberPut(after, n.Version)
		if err != nil {
			return err
		}
		items = append(items, types.TransactWriteItem{Put: put})
	}
	if prov.ReservedNumber == n.Number {
		upd := withCondition(provisioningUpdate(customerID, userID, at, map[string]types.AttributeValue{"ReservedNumber": str("")}),
			"#res = :num", map[string]string{"#res": "ReservedNumber"}, map[string]types.AttributeValue{":num": str(n.Number)})
		items = append(items, types.TransactWriteItem{Update: upd})
	}
	if len(items) == 0 {
		return nil
	}
	err = s.transact(ctx, items...)
	switch failed := failedConditions(err); {
	case err == nil:
		return nil
	case len(failed) > 0:
		return stale("number %s", n.Number)
	default:
		return fmt.Errorf("cancel reservation of %s: %w", n.Number, err)
	}
}

// releaseHolder is the update that takes number off its holder's provisioning item (nil when it does not name
// it): Number (with its type and extension) and ReservedNumber, each when it is this number.
func (s *Store) releaseHolder(ctx context.Context, customerID, userID, number string, at time.Time) (*types.Update, error) {
	if userID == "" {
		return nil, nil
	}
	prov, err := s.GetProvisioning(ctx, customerID, userID)
	if err != nil {
		return nil, err
	}
	set := map[string]types.AttributeValue{}
	var conds []string
	names := map[string]string{}
	if prov.Number == number {
		set["Number"], set["NumberType"], set["Extension"] = str(""), str(""), str("")
		conds, names["#num"] = append(conds, "#num = :num"), "Number"
	}
	if prov.ReservedNumber == number {
		set["ReservedNumber"] = str("")
		conds, names["#res"] = append(conds, "#res = :num"), "ReservedNumber"
	}
	if len(set) == 0 {
		return nil, nil
	}
	return withCondition(provisioningUpdate(customerID, userID, at, set), strings.Join(conds, " AND "), names,
		map[string]types.AttributeValue{":num": str(number)}), nil
}

// ReleaseNumber takes a reserved or assigned number from its holder: the number becomes quarantined until
// quarantineUntil (available at once when quarantineUntil <= at), back in the free index from then, and its
// holder's provisioning item no longer names it, in one transaction. A free number is returned unchanged.
// Errors: ENotFound for an unknown number, EConflict when it changed meanwhile.
func (s *Store) ReleaseNumber(ctx context.Context, customerID, number string, quarantineUntil time.Time, at time.Time) (domain.Number, error) {
	n, err := s.GetNumber(ctx, customerID, number)
	if err != nil {
		return domain.Number{}, err
	}
	if isFree(n) {
		return n, nil
	}
	after := n
	after.Status, after.UserID, after.UserName, after.QuarantinedUntil = domain.NumberAvailable, "", "", nil
	if quarantineUntil.After(at) {
		until := quarantineUntil.UTC()
		after.Status, after.QuarantinedUntil = domain.NumberQuarantined, &until
	}
	after.Version, after.UpdatedAt = n.Version+1, at
	put, err := s.numberPut(after, n.Version)
	if err != nil {
		return domain.Number{}, err
	}
	items := []types.TransactWriteItem{{Put: put}}
	upd, err := s.releaseHolder(ctx, customerID, n.UserID, n.Number, at)
	if err != nil {
		return domain.Number{}, err
	}
	if upd != nil {
		items = append(items, types.TransactWriteItem{Update: upd})
	}
	err = s.transact(ctx, items...)
	switch failed := failedConditions(err); {
	case err == nil:
		return after, nil
	case len(failed) > 0:
		return domain.Number{}, stale("number %s", n.Number)
	default:
		return domain.Number{}, fmt.Errorf("release number %s: %w", n.Number, err)
	}
}

// ImportNumber stores a number read from Graph (n: its number, Type, Status available or assigned, the holder's
// UserID and UserName, and for a new number SiteID and Extension). A number not in the inventory is created
// (Source "graph", version 1); one in it gets Graph's Status, holder and Type, keeping its site and extension — but
// a reserved or quarantined number that Graph shows unassigned is left as it is (an assignment in progress, or a
// quarantine Seatwise started). When the number is assigned, its holder's provisioning item gets Number and
// NumberType, and a previous holder's provisioning stops naming it, in the same transaction.
//
// Errors: EConflict when the holder's provisioning names another number (nothing is changed), or when the number
// changed meanwhile.
func (s *Store) ImportNumber(ctx context.Context, n domain.Number, at time.Time) (created bool, err error) {
	n.Number, n.UserID = normNumber(n.Number), strings.ToLower(n.UserID)
	if n.Status != domain.NumberAssigned {
		n.Status, n.UserID, n.UserName = domain.NumberAvailable, "", ""
	}
	if n.Status == domain.NumberAssigned && n.UserID == "" {
		return false, domain.Invalid(map[string]string{"userId": "an assigned number needs its user"})
	}
	before, err := s.GetNumber(ctx, n.CustomerID, n.Number)
	if domain.ErrorCode(err) == domain.ENotFound {
		return true, s.importNew(ctx, n, at)
	}
	if err != nil {
		return false, err
	}
	after := before
	switch {
	case n.Status == domain.NumberAssigned:
		after.Status, after.UserID, after.UserName, after.QuarantinedUntil = n.Status, n.UserID, n.UserName, nil
	case before.Status == domain.NumberAssigned:
		after.Status, after.UserID, after.UserName = domain.NumberAvailable, "", ""
	}
	if n.Type != "" {
		after.Type = n.Type
	}
	if after.Status == before.Status && after.UserID == before.UserID && after.UserName == before.UserName && after.Type == before.Type {
		return false, nil
	}
	after.Version, after.UpdatedAt = before.Version+1, at
	put, err := s.numberPut(after, before.Version)
	if err != nil {
		return false, err
	}
	items := []types.TransactWriteItem{{Put: put}}
	if before.UserID != "" && before.UserID != after.UserID {
		upd, err := s.releaseHolder(ctx, n.CustomerID, before.UserID, before.Number, at)
		if err != nil {
			return false, err
		}
		if upd != nil {
			items = append(items, types.TransactWriteItem{Update: upd})
		}
	}
	holderAt := -1
	if after.Status == domain.NumberAssigned {
		upd, err := s.importHolder(ctx, after, at)
		if err != nil {
			return false, err
		}
		holderAt = len(items)
		items = append(items, types.TransactWriteItem{Update: upd})
	}
	err = s.transact(ctx, items...)
	switch failed := failedConditions(err); {
	case err == nil:
		return false, nil
	case holderAt >= 0 && failed[holderAt]:
		return false, s.holdsAnother(ctx, after)
	case len(failed) > 0:
		return false, stale("number %s", before.Number)
	default:
		return false, fmt.Errorf("import number %s: %w", before.Number, err)
	}
}

func (s *Store) importNew(ctx context.Context, n domain.Number, at time.Time) error {
	n.Source, n.Version, n.UpdatedAt, n.QuarantinedUntil = "graph", 1, at, nil
	put, err := s.numberPut(n, 0)
	if err != nil {
		return err
	}
	items := []types.TransactWriteItem{{Put: put}}
	if n.Status == domain.NumberAssigned {
		upd, err := s.importHolder(ctx, n, at)
		if err != nil {
			return err
		}
		items = append(items, types.TransactWriteItem{Update: upd})
	}
	err = s.transact(ctx, items...)
	switch failed := failedConditions(err); {
	case err == nil:
		return nil
	case failed[0]:
		return domain.Errorf(domain.EConflict, "number %s was added meanwhile: import again", n.Number)
	case failed[1]:
		return s.holdsAnother(ctx, n)
	default:
		return fmt.Errorf("import number %s: %w", n.Number, err)
	}
}

// importHolder is the update giving the assigned number n to its holder's provisioning item, on the condition
// that it names no other number (a reservation of n for them ends).
func (s *Store) importHolder(ctx context.Context, n domain.Number, at time.Time) (*types.Update, error) {
	prov, err := s.GetProvisioning(ctx, n.CustomerID, n.UserID)
	if err != nil {
		return nil, err
	}
	set := map[string]types.AttributeValue{"Number": str(n.Number), "NumberType": str(n.Type), "Extension": str(n.Extension)}
	if prov.ReservedNumber == n.Number {
		set["ReservedNumber"] = str("")
	}
	return withCondition(provisioningUpdate(n.CustomerID, n.UserID, at, set),
		"attribute_not_exists(#num) OR #num = :empty OR #num = :num",
		map[string]string{"#num": "Number"}, map[string]types.AttributeValue{":empty": str(""), ":num": str(n.Number)}), nil
}

func (s *Store) holdsAnother(ctx context.Context, n domain.Number) error {
	prov, err := s.GetProvisioning(ctx, n.CustomerID, n.UserID)
	if err != nil {
		return err
	}
	return domain.Errorf(domain.EConflict, "number %s: user %s already holds number %s", n.Number, cmp.Or(n.UserName, n.UserID), prov.Number)
}
