package luabind

import (
	"context"
	"errors"
	"reflect"
	"testing"
)

// TestSettle: settle functions run after the OnFinish functions whatever
// the order of registration, as a success only when the script and every
// OnFinish function succeeded, once, and as failures after a failed one.
func TestSettle(t *testing.T) {
	t.Parallel()
	boom := errors.New("boom")
	cases := []struct {
		name      string
		finishErr error
		settleErr error // returned by the first settle function when ok
		call      func(e *Env) error
		want      []string
		wantErr   error
	}{
		{name: "success", call: (*Env).Finish,
			want: []string{"finish", "settle1 true", "settle2 true", "close"}},
		{name: "a finish function fails", finishErr: boom, call: (*Env).Finish,
			want: []string{"finish", "settle1 false", "settle2 false", "close"}, wantErr: boom},
		{name: "a commit fails", settleErr: boom, call: (*Env).Finish,
			want: []string{"finish", "settle1 true", "settle2 false", "close"}, wantErr: boom},
		{name: "the script failed: only Close", call: func(*Env) error { return nil },
			want: []string{"settle1 false", "settle2 false", "close"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var got []string
			e := &Env{Ctx: context.Background()}
			e.OnSettle(func(ok bool) error {
				got = append(got, "settle1 "+map[bool]string{true: "true", false: "false"}[ok])
				if ok {
					return tc.settleErr
				}
				return nil
			})
			e.OnFinish(func() error { got = append(got, "finish"); return tc.finishErr })
			e.OnSettle(func(ok bool) error {
				got = append(got, "settle2 "+map[bool]string{true: "true", false: "false"}[ok])
				return nil
			})
			e.OnClose(func() { got = append(got, "close") })
			if err := tc.call(e); !errors.Is(err, tc.wantErr) {
				t.Fatalf("error %v, want %v", err, tc.wantErr)
			}
			e.Close()
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("order %q, want %q", got, tc.want)
			}
		})
	}
}

// TestSettleAgain: a session settles after each input; functions run once
// and modules register again for new work.
func TestSettleAgain(t *testing.T) {
	t.Parallel()
	e := &Env{Ctx: context.Background()}
	n := 0
	e.OnSettle(func(bool) error { n++; return nil })
	_ = e.Settle(true)
	_ = e.Settle(true)
	if n != 1 {
		t.Fatalf("ran %d times, want once", n)
	}
	e.OnSettle(func(ok bool) error {
		if ok {
			t.Error("settled as a success by Close")
		}
		n++
		return nil
	})
	e.Close()
	if n != 2 {
		t.Fatalf("Close did not settle the second registration")
	}
}
