package benchmarks

import (
	"errors"
	"net"
	"os"
	"time"

	"github.com/larsgo/lars/codec"
	pb "github.com/larsgo/lars/codec/larspb"
	"github.com/larsgo/lars/internal/batchio"
)

func getHostFrame(seq uint32, modid, cmdid int32) []byte {
	f, _ := codec.AppendFrame(nil, codec.MsgGetHostRequest, &pb.GetHostRequest{Seq: seq, Modid: modid, Cmdid: cmdid})
	return f
}

func getRouteFrame(modid, cmdid int32) []byte {
	f, _ := codec.AppendFrame(nil, codec.MsgAPIGetRouteRequest, &pb.GetRouteRequest{Modid: modid, Cmdid: cmdid})
	return f
}

func reportFrame(modid, cmdid int32, ip, port int32, retcode int32) []byte {
	f, _ := codec.AppendFrame(nil, codec.MsgReportRequest, &pb.ReportRequest{Modid: modid, Cmdid: cmdid,
		Host: &pb.HostInfo{Ip: ip, Port: port}, Retcode: retcode})
	return f
}

// batchSize is the batched client's datagrams per sendmmsg.
const batchSize = 64

// roundWait is how long the benchmarks' clients wait for the answers of a round
// before counting the missing ones lost.
const roundWait = 200 * time.Millisecond

// patience is how long the tests' clients wait for an answer instead: never reached on
// a working build however busy the machine, so that only a real loss counts as lost.
const patience = 30 * time.Second

// batchClient sends rounds of one batch of requests with one sendmmsg and waits for
// their answers with recvmmsg: the batched client of the benchmarks.
type batchClient struct {
	uc         *net.UDPConn
	conn       *batchio.Conn
	send, recv *batchio.Batch
	wait       time.Duration // for a round's answers: roundWait unless a test says otherwise
}

func newBatchClient(addr string) (*batchClient, error) {
	uc, err := batchio.DialUDP("udp", addr, batchio.ListenOptions{RecvBuf: 4 << 20, SendBuf: 4 << 20})
	if err != nil {
		return nil, err
	}
	conn, err := batchio.NewConn(uc)
	if err != nil {
		uc.Close()
		return nil, err
	}
	return &batchClient{uc: uc, conn: conn, send: batchio.NewBatch(batchSize, 2048), recv: batchio.NewBatch(batchSize, 65536),
		wait: roundWait}, nil
}

func (c *batchClient) close() { c.conn.Close() }

// load fills the send batch with the frames, repeated in order.
func (c *batchClient) load(frames [][]byte) {
	for i := range c.send.Msgs {
		m := &c.send.Msgs[i]
		m.N = copy(m.Buf, frames[i%len(frames)])
	}
}

// rounds sends n requests in rounds of one batch, expecting answers per round, and
// returns how many answers arrived and how many were missing (lost) after c.wait.
func (c *batchClient) rounds(n, answers int) (got, lost int, err error) {
	for sent := 0; sent < n; sent += batchSize {
		if _, err := c.conn.WriteBatch(c.send, batchSize); err != nil {
			return got, lost, err
		}
		want := answers
		c.uc.SetReadDeadline(time.Now().Add(c.wait))
		for want > 0 {
			k, err := c.conn.ReadBatch(c.recv)
			if errors.Is(err, os.ErrDeadlineExceeded) {
				lost += want
				break
			}
			if err != nil {
				return got, lost, err
			}
			got += k
			want -= k
		}
	}
	return got, lost, nil
}
