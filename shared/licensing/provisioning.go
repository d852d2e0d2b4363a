package licensing

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/seatwise/seatwise/shared/catalog"
	"github.com/seatwise/seatwise/shared/domain"
)

// This file connects licence changes to provisioning: a user who gains a Teams-relevant licence is staged (when the
// customer's settings allow it), and an offboarded user's number is released.

// Stager stages users who gained a Teams-relevant licence (*staging.Service implements it); it skips those the
// customer's or site's settings do not stage, and staging a user already staged changes nothing.
type Stager interface {
	StageIfEligible(ctx context.Context, customerID string, users []domain.User, reason, actor string) (int, error)
}

// NumberReleaser releases the inventory number a user holds, into quarantine (*numbers.Service implements it). It
// returns nil when the user holds none.
type NumberReleaser interface {
	ReleaseUser(ctx context.Context, customerID, userID, actor string) (*domain.Number, error)
}

// StageReason is the reason recorded on users staged because a licence operation gave them a Teams licence.
const StageReason = "licence assigned"

type noStagingKey struct{}

// WithoutStaging returns a context in which licence changes stage no one: staging itself assigns licences while it
// provisions a user, and onboarding stages the users with its own choices after licensing them.
func WithoutStaging(ctx context.Context) context.Context {
	return context.WithValue(ctx, noStagingKey{}, true)
}

// teamsLicensed reports whether the user holds a Teams-relevant licence.
func teamsLicensed(u domain.User) bool {
	return slices.ContainsFunc(u.Licences, func(l domain.Licence) bool { return catalog.TeamsRelevant(l.SkuID) })
}

// stageGains stages the users among pairs (before → after) who gained a Teams-relevant licence. It returns a note
// for the admin, or "" when no one was staged; a staging failure does not undo the licence change and is noted.
func stageGains(ctx context.Context, st Stager, customerID, actor string, pairs ...[2]domain.User) string {
	if st == nil || ctx.Value(noStagingKey{}) != nil {
		return ""
	}
	var gained []domain.User
	for _, p := range pairs {
		if !teamsLicensed(p[0]) && teamsLicensed(p[1]) {
			gained = append(gained, p[1])
		}
	}
	if len(gained) == 0 {
		return ""
	}
	n, err := st.StageIfEligible(ctx, customerID, gained, StageReason, actor)
	switch {
	case err != nil:
		return fmt.Sprintf("Staging for Teams provisioning failed (%s): stage the user from the Staging page.", domain.ErrorMessage(err))
	case n == 1 && len(gained) == 1:
		return "Staged: Seatwise provisions the user in Teams (site, number) as soon as Teams knows them."
	case n > 0:
		return fmt.Sprintf("%d user(s) staged for Teams provisioning.", n)
	}
	return ""
}

func releasedNote(n domain.Number) string {
	if n.QuarantinedUntil != nil {
		return fmt.Sprintf("Number %s released: in quarantine until %s.", n.Number, n.QuarantinedUntil.Format("2 Jan 2006"))
	}
	return fmt.Sprintf("Number %s released: available again.", n.Number)
}

// UsageLocator finds the default usage location of a user: their site's, else their customer's ("" when neither
// has one).
type UsageLocator interface {
	DefaultUsageLocation(ctx context.Context, customerID string, u domain.User) (string, error)
}

// ActionUsageLocation is the audit action of a usage location set from a default.
const ActionUsageLocation = "user.usagelocation"

// defaultUsageLocation sets the default usage location on a user who has none, through Graph, and returns a note;
// without a default it returns the refusal that names what to do.
func (sess *session) defaultUsageLocation(ctx context.Context, u *domain.User) (string, error) {
	s := sess.s
	if s.UsageLocations == nil {
		return "", noUsageLocation(*u)
	}
	loc, err := s.UsageLocations.DefaultUsageLocation(ctx, sess.cust.ID, *u)
	if err != nil {
		return "", err
	}
	if loc == "" {
		return "", noUsageLocation(*u)
	}
	err = s.Graph.SetUsageLocation(ctx, sess.cust.TenantID, u.ID, loc)
	rec := domain.AuditRecord{At: s.now(), Actor: sess.actor, CustomerID: sess.cust.ID, UserID: u.ID, Action: ActionUsageLocation,
		Before: map[string]string{"usageLocation": ""}, After: map[string]string{"usageLocation": loc}, Outcome: OutcomeOK}
	if err != nil {
		rec.Outcome, rec.Error = OutcomeFailed, domain.ErrorMessage(err)
	}
	if aerr := s.Store.AppendAudit(context.WithoutCancel(ctx), rec); aerr != nil {
		s.log().ErrorContext(ctx, "audit failed", "customer", sess.cust.ID, "user", u.ID, "action", ActionUsageLocation, "err", aerr)
	}
	if err != nil {
		return "", domain.Wrap(err, domain.ErrorCode(err), fmt.Sprintf("setting the usage location of %s to %s failed", who(*u), loc))
	}
	u.UsageLocation = loc
	return fmt.Sprintf("Usage location set to %s (the default of the user's site or customer).", loc), nil
}

type managedByKey struct{}

// WithManagedBy returns a context in which licence changes record that users were managed by how (a
// domain.ManagedBy* value) instead of the operation's own: staging applies a site's template through single
// licence operations, which are otherwise "by user interface".
func WithManagedBy(ctx context.Context, how string) context.Context {
	return context.WithValue(ctx, managedByKey{}, how)
}

func managedBy(ctx context.Context, def string) string {
	if how, ok := ctx.Value(managedByKey{}).(string); ok && how != "" {
		return how
	}
	return def
}

// recordManaged records how Seatwise managed the users' licences (for the usage audit's factors). A failure is
// logged: the licence change itself is done.
func recordManaged(ctx context.Context, st interface {
	SetManagedBy(ctx context.Context, customerID string, userIDs []string, by string, at time.Time) error
}, log *slog.Logger, customerID string, userIDs []string, how string, at time.Time) {
	if len(userIDs) == 0 {
		return
	}
	if err := st.SetManagedBy(context.WithoutCancel(ctx), customerID, userIDs, how, at); err != nil {
		log.ErrorContext(ctx, "recording how users are managed failed", "customer", customerID, "users", len(userIDs), "err", err)
	}
}
