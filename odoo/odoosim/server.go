package odoosim

import (
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// Server is a simulator listening on a local port, in the style of
// httptest.Server.
type Server struct {
	// URL is the base URL, "http://127.0.0.1:port", without a trailing slash.
	URL string

	sim  *Sim
	ln   net.Listener
	srv  *http.Server
	done chan struct{}
	once sync.Once
}

// NewServer starts a simulator on 127.0.0.1 on a free port. Close it when
// done. It panics if it cannot listen, as httptest.NewServer does.
func NewServer(opts Options) *Server {
	sim := NewHandler(opts)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		panic(fmt.Sprintf("odoosim: failed to listen on a port: %v", err))
	}
	s := &Server{
		URL:  "http://" + ln.Addr().String(),
		sim:  sim,
		ln:   ln,
		srv:  &http.Server{Handler: sim, ReadHeaderTimeout: 30 * time.Second},
		done: make(chan struct{}),
	}
	go func() {
		defer close(s.done)
		_ = s.srv.Serve(ln)
	}()
	return s
}

// Sim returns the simulator the server serves, for its knobs and data.
func (s *Server) Sim() *Sim { return s.sim }

// Close stops the server: it releases hung calls, closes every connection
// and waits for the handlers to return.
func (s *Server) Close() {
	s.once.Do(func() {
		s.sim.closeOnce.Do(func() { close(s.sim.closed) })
		_ = s.srv.Close()
		<-s.done
		s.sim.inflight.Wait()
	})
}
