package workos

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/ssogate/ssogate/workostest"
)

func TestEmulatorDirectories(t *testing.T) {
	ctx := context.Background()
	srv := newEmulator(t)
	c, _, _ := newEmulatorClient(t, srv, srv.APIKey)

	var dirs []string
	for d, err := range c.AllDirectories(ctx, ListDirectoriesOptions{Page: Page{Limit: 1, Order: OrderAsc}}) {
		if err != nil {
			t.Fatal(err)
		}
		dirs = append(dirs, d.ID)
	}
	if !slices.Equal(dirs, []string{workostest.AcmeDirectoryID, workostest.GlobexDirectoryID}) {
		t.Errorf("directories: %v", dirs)
	}
	d, err := c.GetDirectory(ctx, workostest.AcmeDirectoryID)
	if err != nil || d.OrganizationID != workostest.AcmeOrganizationID || d.State != DirectoryLinked || d.Type != "okta scim v2.0" {
		t.Errorf("GetDirectory: %+v, %v", d, err)
	}
	globex, err := c.ListDirectories(ctx, ListDirectoriesOptions{OrganizationID: workostest.GlobexOrganizationID})
	if err != nil || len(globex.Data) != 1 || globex.Data[0].ID != workostest.GlobexDirectoryID {
		t.Errorf("ListDirectories of Globex: %+v, %v", globex, err)
	}

	// Every user of Acme's directory, a page at a time, in both orders.
	alice := workostest.DirectoryUserID(workostest.AcmeDirectoryID, workostest.AliceEmail)
	bob := workostest.DirectoryUserID(workostest.AcmeDirectoryID, workostest.BobEmail)
	for order, want := range map[Order][]string{OrderAsc: {alice, bob}, OrderDesc: {bob, alice}, OrderNormal: {bob, alice}} {
		var got []string
		for u, err := range c.AllDirectoryUsers(ctx, ListDirectoryUsersOptions{Directory: workostest.AcmeDirectoryID, Page: Page{Limit: 1, Order: order}}) {
			if err != nil {
				t.Fatal(err)
			}
			if u.OrganizationID != workostest.AcmeOrganizationID || !u.Active() || u.IdPID == "" || len(u.Groups) == 0 {
				t.Errorf("user %+v", u)
			}
			got = append(got, u.ID)
		}
		if !slices.Equal(got, want) {
			t.Errorf("order %q: users %v, want %v", order, got, want)
		}
	}
	u, err := c.GetDirectoryUser(ctx, alice)
	if err != nil || u.Email != workostest.AliceEmail || u.FirstName != "Alice" || len(u.Groups) != 2 {
		t.Fatalf("GetDirectoryUser: %+v, %v", u, err)
	}
	byEmail, err := c.ListDirectoryUsers(ctx, ListDirectoryUsersOptions{Directory: workostest.GlobexDirectoryID, Email: "hank@globex.com"})
	if err != nil || len(byEmail.Data) != 1 || byEmail.Data[0].IdPID != workostest.GlobexDirectoryIdPID {
		t.Errorf("by email: %+v, %v", byEmail, err)
	}

	var groups []string
	for g, err := range c.AllDirectoryGroups(ctx, ListDirectoryGroupsOptions{User: alice}) {
		if err != nil {
			t.Fatal(err)
		}
		groups = append(groups, g.Name)
	}
	slices.Sort(groups)
	if !slices.Equal(groups, []string{"admins", "engineering"}) {
		t.Errorf("alice's groups: %v", groups)
	}
	if g, err := c.GetDirectoryGroup(ctx, u.Groups[0].ID); err != nil || g.DirectoryID != workostest.AcmeDirectoryID {
		t.Errorf("GetDirectoryGroup: %+v, %v", g, err)
	}
	if _, err := c.GetDirectoryUser(ctx, "directory_user_nope"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unknown user: %v, want ErrNotFound", err)
	}
}

func TestDirectoryOptionsChecked(t *testing.T) {
	ctx := context.Background()
	srv := newEmulator(t)
	c, _, rr := newEmulatorClient(t, srv, srv.APIKey)
	calls := []func() error{
		func() error { _, err := c.ListDirectoryUsers(ctx, ListDirectoryUsersOptions{}); return err },
		func() error {
			_, err := c.ListDirectoryUsers(ctx, ListDirectoryUsersOptions{Email: "a@b.c"})
			return err
		},
		func() error { _, err := c.ListDirectoryGroups(ctx, ListDirectoryGroupsOptions{}); return err },
		func() error {
			_, err := c.ListDirectories(ctx, ListDirectoriesOptions{Page: Page{Limit: 101}})
			return err
		},
		func() error {
			_, err := c.ListDirectories(ctx, ListDirectoriesOptions{Page: Page{Order: "sideways"}})
			return err
		},
		func() error { _, err := c.GetDirectory(ctx, ".."); return err },
		func() error { return c.DeleteDirectory(ctx, "") },
		func() error { _, err := c.ListEvents(ctx, ListEventsOptions{}); return err },
		func() error { _, err := c.ListEvents(ctx, ListEventsOptions{Events: []string{"a,b"}}); return err },
		func() error {
			_, err := c.ListEvents(ctx, ListEventsOptions{Events: []string{"x"}, RangeStart: time.Now(), RangeEnd: time.Now().Add(-time.Hour)})
			return err
		},
	}
	for i, call := range calls {
		if err := call(); !errors.Is(err, ErrInvalidOptions) {
			t.Errorf("call %d: %v, want ErrInvalidOptions", i, err)
		}
	}
	rr.mu.Lock()
	n := len(rr.reqs)
	rr.mu.Unlock()
	if n != 0 {
		t.Errorf("%d requests sent for invalid options", n)
	}
}

func TestEmulatorEvents(t *testing.T) {
	ctx := context.Background()
	srv := newEmulator(t)
	c, waits, _ := newEmulatorClient(t, srv, srv.APIKey)
	bob := workostest.DirectoryUserID(workostest.AcmeDirectoryID, workostest.BobEmail)
	if err := srv.SetDirectoryUserState(bob, "inactive"); err != nil {
		t.Fatal(err)
	}
	if err := c.DeleteDirectory(ctx, workostest.GlobexDirectoryID); err != nil {
		t.Fatal(err)
	}
	names := []string{EventDirectoryUserUpdated, EventDirectoryUserDeleted, EventDirectoryDeleted}
	var got []Event
	for ev, err := range c.AllEvents(ctx, ListEventsOptions{Events: names, Limit: 1}) {
		if err != nil {
			t.Fatal(err)
		}
		got = append(got, ev)
	}
	if len(got) != 2 || got[0].Event != EventDirectoryUserUpdated || got[1].Event != EventDirectoryDeleted {
		t.Fatalf("events: %+v", got)
	}
	if !strings.Contains(string(got[0].Data), `"state":"inactive"`) || !strings.HasPrefix(got[0].ID, "event_") {
		t.Errorf("dsync.user.updated: %s", got[0].Data)
	}
	// Resuming after the last id handled finds nothing new, then the next
	// event.
	if l, err := c.ListEvents(ctx, ListEventsOptions{Events: names, After: got[1].ID}); err != nil || len(l.Data) != 0 {
		t.Errorf("after the last: %+v, %v", l, err)
	}
	if err := srv.DeleteDirectoryUser(workostest.DirectoryUserID(workostest.AcmeDirectoryID, workostest.AliceEmail)); err != nil {
		t.Fatal(err)
	}
	if l, err := c.ListEvents(ctx, ListEventsOptions{Events: names, After: got[1].ID}); err != nil || len(l.Data) != 1 || l.Data[0].Event != EventDirectoryUserDeleted {
		t.Errorf("after the last, once alice is deleted: %+v, %v", l, err)
	}
	if l, err := c.ListEvents(ctx, ListEventsOptions{Events: names, OrganizationID: workostest.GlobexOrganizationID}); err != nil || len(l.Data) != 1 || l.Data[0].Event != EventDirectoryDeleted {
		t.Errorf("Globex's events: %+v, %v", l, err)
	}
	if l, err := c.ListEvents(ctx, ListEventsOptions{Events: names, RangeStart: srv.Now().Add(time.Minute)}); err != nil || len(l.Data) != 0 {
		t.Errorf("events from a minute on: %+v, %v", l, err)
	}

	// The Events API is rate limited like any other: a 429 is waited out.
	srv.Fail("GET /events", workostest.Fault{Status: 429, RetryAfter: "3"})
	if _, err := c.ListEvents(ctx, ListEventsOptions{Events: names}); err != nil {
		t.Fatal(err)
	}
	if w := waits.got(); !slices.Equal(w, []time.Duration{3 * time.Second}) {
		t.Errorf("waits %v, want 3s", w)
	}
	if _, err := c.ListEvents(ctx, ListEventsOptions{Events: names, After: "event_nope"}); !errors.Is(err, ErrValidation) {
		var apiErr *APIError
		errors.As(err, &apiErr)
		t.Errorf("unknown cursor: %v (%+v)", err, apiErr)
	}
}
