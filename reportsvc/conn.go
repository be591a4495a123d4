package reportsvc

import (
	"errors"
	"net"
	"sync"

	"github.com/larsgo/lars/codec"
	"github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/internal/peerstats"
	"github.com/larsgo/lars/internal/policy"
)

// errBadFrame ends a connection that sent a frame the report service does not take:
// a bad length, another message id than ReportStatusRequest, or a body that does not
// decode.
var errBadFrame = errors.New("bad frame")

// maxKeptResults bounds the decoded results a connection keeps for reuse: an agent
// sends at most 1024 hosts per report, so a larger report (legal, but unusual) is
// decoded into a message that is dropped afterwards rather than kept for the life of
// the connection.
const maxKeptResults = 1024

// readBufferSize is each connection's first read buffer: a report of a key with a few
// dozen hosts fits many times over. The framer grows it to codec.MaxFrameSize (64 KiB)
// for the connection that sends a larger frame.
const readBufferSize = 4096

// conn is one agent's connection: one goroutine reads its frames and queues their
// results; nothing is ever written back. Its memory is the shared stream framer's
// buffer (readBufferSize, or 64 KiB once a frame needed it), plus the decoded report it
// reuses.
type conn struct {
	svc *Service
	nc  net.Conn
	sr  *codec.StreamReader
	req *larspb.ReportStatusRequest
	// owner names the connection's rows in the queue; droppedOwn counts those the full
	// queue dropped because the connection held at least its share (it floods).
	owner      owner
	droppedOwn uint64
	// grant judges which services the peer may report (nil: all of them, no policy).
	grant *policy.PeerGrant
	// peer counts the results of the connection's identity (nil without mutual TLS).
	peer *peerstats.Counter
	// reported is set by the first valid frame: the connection is then kept when silent.
	reported bool

	closeOnce sync.Once
}

func newConn(svc *Service, nc net.Conn) *conn {
	return &conn{svc: svc, nc: nc, sr: codec.NewStreamReader(nc, readBufferSize), req: &larspb.ReportStatusRequest{},
		owner: owner(svc.owners.Add(1))}
}

// close closes the connection once; its reader then ends.
func (c *conn) close() {
	c.closeOnce.Do(func() { c.nc.Close() })
}

// readLoop queues the results of every frame until the connection fails or sends a
// bad frame, and returns why. Each valid frame marks the connection active for the
// idle deadline, and the first one marks it to keep when silent: only a connection that
// never sent a valid frame is closed for silence.
func (c *conn) readLoop() error {
	for {
		id, body, err := c.sr.Next()
		if err != nil {
			if errors.Is(err, codec.ErrProtocol) {
				return errBadFrame
			}
			return err
		}
		if err := c.handle(id, body); err != nil {
			return err
		}
		c.svc.server.Touch(c.nc) // a valid frame: the connection is not idle
		if !c.reported {
			// An agent: kept however quiet it falls, since it reports only while its
			// callers call (at MaxConns it may still make room for a new connection).
			c.reported = true
			c.svc.server.SetKept(c.nc, true)
		}
	}
}

// handle decodes one frame and queues its results. It does not allocate once the
// connection has decoded a report of as many results.
func (c *conn) handle(id codec.MsgID, body []byte) error {
	if id != codec.MsgReportStatusRequest {
		return errBadFrame
	}
	c.req.ResetVT()
	if err := c.req.UnmarshalVT(body); err != nil {
		return errBadFrame
	}
	c.peer.Served(uint64(len(c.req.Results)))
	if dropped := c.svc.enqueueReport(c.req, c.owner, c.grant); dropped > 0 {
		if c.droppedOwn == 0 {
			c.svc.cfg.Logger.Warn("connection holds its share of the full queue: its oldest rows are dropped for its new ones",
				"remote", c.nc.RemoteAddr().String())
		}
		c.droppedOwn += dropped
	}
	if cap(c.req.Results) > maxKeptResults {
		c.req = &larspb.ReportStatusRequest{}
	}
	return nil
}
