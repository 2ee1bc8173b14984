package leakcheck

import "testing"

func park(stop chan struct{}) { <-stop }

// TestLeaked finds a goroutine of the package while it runs, and no more
// once it has ended.
func TestLeaked(t *testing.T) {
	stop := make(chan struct{})
	done := make(chan struct{})
	go func() { park(stop); close(done) }()
	if len(Leaked("internal/leakcheck.")) == 0 {
		t.Fatal("the parked goroutine was not found")
	}
	close(stop)
	<-done
	if code := Check(0, "internal/leakcheck.park"); code != 0 {
		t.Fatal("an ended goroutine was reported")
	}
}
