package bus

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
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

// TestPairingNamesTheTablet: the name a tablet gives itself at pairing is
// in its answer and in the list `infobus bus devices` prints; a tablet
// without one gets "Tablet N"; a name with a control character is refused
// by field, in both languages.
func TestPairingNamesTheTablet(t *testing.T) {
	store := mustOpenStore(t, "", nil)
	defer store.Close()
	b := mustStartBus(t, store)
	ctx := context.Background()
	pairAs := func(name string) (int, []byte) {
		pc, err := store.NewPairingCode(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return b.do(http.MethodPost, "/api/pair", "", map[string]string{"pairing_code": pc.Code, "device_name": name})
	}
	for _, tc := range []struct{ give, want string }{
		{"  Tablet van Fatima ", "Tablet van Fatima"},
		{"", "Tablet 2"},
		{"", "Tablet 3"},
	} {
		status, body := pairAs(tc.give)
		var d Device
		if status != http.StatusCreated || json.Unmarshal(body, &d) != nil || d.Name != tc.want {
			t.Fatalf("pair as %q: got %d %s, want 201 named %q", tc.give, status, body, tc.want)
		}
	}
	status, body := pairAs("Tablet\x07")
	if e := decodeError(t, body); status != http.StatusBadRequest || e.Fields["device_name"] == "" || e.FieldsNL["device_name"] == "" {
		t.Fatalf("a control character: got %d %s, want 400 naming device_name", status, body)
	}
	devices, err := store.Devices(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, d := range devices {
		names = append(names, d.Name)
	}
	if want := []string{"Tablet van Fatima", "Tablet 2", "Tablet 3"}; !slices.Equal(names, want) {
		t.Errorf("devices named %q, want %q", names, want)
	}
	if _, err := store.UnpairDevice(ctx, "Tablet 2"); err != nil {
		t.Errorf("unpair by the default name: %v", err)
	}
}

// TestDeliveriesLeaveOutUnpairedTablets: the sync status lists when each
// paired tablet last delivered; a tablet unpaired is no longer one that
// should be sending, so it is not listed.
func TestDeliveriesLeaveOutUnpairedTablets(t *testing.T) {
	store := mustOpenStore(t, "", nil)
	defer store.Close()
	b := mustStartBus(t, store)
	ctx := context.Background()
	kept, lost := b.pair(), b.pair()
	for i, token := range []string{kept, lost} {
		v := newVisit(t, i)
		if status, body := b.do(http.MethodPut, "/api/visits/"+v["id"].(string), token, v); status != http.StatusCreated {
			t.Fatalf("put: got %d %s", status, body)
		}
	}
	keptID, _ := store.DeviceByToken(ctx, kept)
	lostID, _ := store.DeviceByToken(ctx, lost)
	if _, err := store.UnpairDevice(ctx, lostID); err != nil {
		t.Fatal(err)
	}
	status, body := b.do(http.MethodGet, "/api/sync/status", kept, nil)
	var st SyncStatus
	if status != http.StatusOK || json.Unmarshal(body, &st) != nil {
		t.Fatalf("status: got %d %s", status, body)
	}
	if len(st.Devices) != 1 || st.Devices[0].DeviceID != keptID || st.Devices[0].Name != "Tablet 1" || st.Devices[0].LastDelivered == "" {
		t.Errorf("deliveries %+v, want only %s (Tablet 1) with its delivery", st.Devices, keptID)
	}
	// The unpaired tablet and its visit stay on the bus and in the full list.
	all, err := store.Devices(ctx)
	if err != nil || len(all) != 2 {
		t.Errorf("devices %+v %v, want both, the unpaired one marked", all, err)
	}
}
