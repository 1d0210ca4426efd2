package bus

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
)

func TestUnpairedTabletIsRefusedWithACode(t *testing.T) {
	store := mustOpenStore(t, "", nil)
	defer store.Close()
	b := mustStartBus(t, store)
	ctx := context.Background()
	lost, kept := b.pair(), b.pair()
	if status, body := b.do(http.MethodGet, "/api/visits", lost, nil); status != http.StatusOK {
		t.Fatalf("before unpair: got %d %s", status, body)
	}
	devices, err := store.Devices(ctx)
	if err != nil || len(devices) != 2 {
		t.Fatalf("devices: %+v %v", devices, err)
	}
	lostID, err := store.DeviceByToken(ctx, lost)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := store.UnpairDevice(ctx, lostID[:len(lostID)-4]); err != nil {
		t.Fatal(err)
	}
	status, body := b.do(http.MethodGet, "/api/visits", lost, nil)
	var answer apiError
	_ = json.Unmarshal(body, &answer)
	if status != http.StatusUnauthorized || answer.Error != "device_unpaired" || answer.MessageNL == "" {
		t.Fatalf("after unpair: got %d %s, want 401 device_unpaired in both languages", status, body)
	}
	if status, body := b.do(http.MethodGet, "/api/visits", kept, nil); status != http.StatusOK {
		t.Fatalf("the other tablet after unpair: got %d %s", status, body)
	}
	if status, _ := b.do(http.MethodGet, "/api/visits", "no-such-token", nil); status != http.StatusUnauthorized {
		t.Fatalf("unknown token: got %d", status)
	}
	devices, _ = store.Devices(ctx)
	for _, d := range devices {
		if (d.ID == lostID) != (d.RevokedAt != "") {
			t.Errorf("device %s revoked_at %q", d.ID, d.RevokedAt)
		}
	}
	if _, err := store.UnpairDevice(ctx, "nobody"); !errors.Is(err, ErrNotFound) {
		t.Errorf("unpair unknown: %v, want ErrNotFound", err)
	}
}

func TestDeviceIDIsTheTokens(t *testing.T) {
	store := mustOpenStore(t, "", nil)
	defer store.Close()
	b := mustStartBus(t, store)
	ctx := context.Background()
	a, other := b.pair(), b.pair()
	aID, _ := store.DeviceByToken(ctx, a)
	otherID, _ := store.DeviceByToken(ctx, other)
	v := newVisit(t, 9)
	v["device_id"] = otherID // a tablet posing as another
	if status, body := b.do(http.MethodPut, "/api/visits/"+v["id"].(string), a, v); status != http.StatusCreated {
		t.Fatalf("put: got %d %s", status, body)
	}
	got, err := store.FindVisitByID(ctx, v["id"].(string))
	if err != nil || got.DeviceID != aID {
		t.Fatalf("device_id %q, want the token's %q", got.DeviceID, aID)
	}
	// An edit from another tablet keeps the device that recorded it.
	v["rev"] = 2
	if status, body := b.do(http.MethodPut, "/api/visits/"+v["id"].(string), other, v); status != http.StatusOK {
		t.Fatalf("edit: got %d %s", status, body)
	}
	got, _ = store.FindVisitByID(ctx, v["id"].(string))
	if got.DeviceID != aID {
		t.Fatalf("after another tablet's edit device_id %q, want the recorder %q", got.DeviceID, aID)
	}
	// A replay from the other tablet is still a replay.
	if status, body := b.do(http.MethodPut, "/api/visits/"+v["id"].(string), other, v); status != http.StatusOK {
		t.Fatalf("replay: got %d %s", status, body)
	}
}
