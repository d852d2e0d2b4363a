// Package licensing is the daily work of a customer admin on licences: assign (with add-ons), change add-ons,
// remove, reassign a seat, offboard, and templates (service profiles), each checked before Microsoft Graph is
// called, applied through Graph, stored as Graph answered, and audited.
package licensing
