package httpapi

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/seatwise/seatwise/shared/domain"
	"github.com/seatwise/seatwise/shared/store"
)

// listAudit answers GET /customers/{id}/audit?cursor=&limit=&userId=: the customer's audit records (or one user's),
// newest first, a page at a time.
func (a *api) listAudit(c echo.Context) error {
	cursor, limit, err := pageParams(c)
	if err != nil {
		return err
	}
	userID := strings.TrimSpace(c.QueryParam("userId"))
	if strings.ContainsAny(userID, "#/?") || len(userID) > 200 {
		return domain.Invalid(map[string]string{"userId": "must be a user id"})
	}
	ctx := c.Request().Context()
	if _, err := a.Store.GetCustomer(ctx, c.Param("id")); err != nil {
		return err
	}
	page, err := a.Store.ListAudit(ctx, c.Param("id"), store.AuditQuery{UserID: userID, Cursor: cursor, Limit: limit})
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, page)
}
