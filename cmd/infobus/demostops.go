package main

import (
	"context"
	"time"

	"infobus/bus"
	"infobus/office"
	"infobus/schema"
)

// demoPlan gives a demo bus without a plan three stops: today, in two
// days and in a week, so that the tablet's day screen and the public
// schedule have something to show.
func demoPlan(ctx context.Context, o *office.Store, b *bus.Store) error {
	e, err := b.Enrollment(ctx)
	if err != nil {
		return err
	}
	now := time.Now().In(schema.Zone)
	have, err := o.Stops(ctx, office.StopFilter{From: now.Format(time.DateOnly), BusID: e.BusID})
	if err != nil || len(have) > 0 {
		return err
	}
	for _, st := range []schema.Stop{
		{Date: now.Format(time.DateOnly), Start: "09:30", End: "16:00", Place: "Grote Markt", Wijk: "WK051828"},
		{Date: now.AddDate(0, 0, 2).Format(time.DateOnly), Start: "10:00", End: "15:00", Place: "Van Stolkweg", Wijk: "WK051806"},
		{Date: now.AddDate(0, 0, 7).Format(time.DateOnly), Start: "10:00", End: "16:00", Place: "Spui", Wijk: "WK051828"},
	} {
		st.BusID = e.BusID
		if _, err := o.AddStop(ctx, "demo", st); err != nil {
			return err
		}
	}
	return nil
}
