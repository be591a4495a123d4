package loadgen

import (
	"errors"

	"github.com/larsgo/lars/codec"
	"github.com/larsgo/lars/codec/larspb"
	"google.golang.org/protobuf/encoding/protowire"
)

// encoder builds request frames into caller buffers with the generated larspb
// messages, reusing one message of each type so that encoding allocates nothing.
type encoder struct {
	host   larspb.GetHostRequest
	route  larspb.GetRouteRequest
	report larspb.ReportRequest
	info   larspb.HostInfo
}

func newEncoder() *encoder {
	e := &encoder{}
	e.report.Host = &e.info
	return e
}

func (e *encoder) getHost(dst []byte, seq uint32, modid, cmdid int32) []byte {
	e.host.Seq, e.host.Modid, e.host.Cmdid = seq, modid, cmdid
	out, _ := codec.AppendFrame(dst, codec.MsgGetHostRequest, &e.host) // a few bytes: cannot fail
	return out
}

func (e *encoder) getRoute(dst []byte, modid, cmdid int32) []byte {
	e.route.Modid, e.route.Cmdid = modid, cmdid
	out, _ := codec.AppendFrame(dst, codec.MsgAPIGetRouteRequest, &e.route)
	return out
}

func (e *encoder) reportReq(dst []byte, modid, cmdid, ip, port, retcode int32, latencyUs uint32) []byte {
	e.report.Modid, e.report.Cmdid, e.report.Retcode, e.report.LatencyUs = modid, cmdid, retcode, latencyUs
	e.info.Ip, e.info.Port = ip, port
	out, _ := codec.AppendFrame(dst, codec.MsgReportRequest, &e.report)
	return out
}

// answer is a decoded GetHostResponse or API_GetRouteResponse (or, in echo mode, an
// echoed request). The answers are decoded field by field with protowire rather than
// with the generated UnmarshalVT: a reused generated message keeps fields that a
// later body omits (proto3 leaves zero values out) and allocates for repeated hosts.
type answer struct {
	kind         Kind
	seq          uint32
	modid, cmdid int32
	retcode      int32
	ip, port     int32 // get_host: the chosen host, when retcode is 0
	hosts        int   // get_route: number of hosts
}

var errBadBody = errors.New("bad body")

// decodeAnswer parses one datagram. echo accepts echoed requests.
func decodeAnswer(b []byte, echo bool, a *answer) error {
	id, body, r := codec.ParseDatagram(b)
	if r != codec.ReasonOK {
		return r.Err()
	}
	*a = answer{}
	switch {
	case id == codec.MsgGetHostResponse:
		a.kind = KindGetHost
		return decodeFields(body, a, fieldsHostResponse)
	case id == codec.MsgAPIGetRouteResponse:
		a.kind = KindGetRoute
		return decodeFields(body, a, fieldsRouteResponse)
	case echo && id == codec.MsgGetHostRequest:
		a.kind = KindGetHost
		return decodeFields(body, a, fieldsHostRequest)
	case echo && id == codec.MsgAPIGetRouteRequest:
		a.kind = KindGetRoute
		return decodeFields(body, a, fieldsRouteRequest)
	case echo && id == codec.MsgReportRequest:
		a.kind = KindReport
		return nil
	}
	return errBadBody
}

// Field layouts.
const (
	fieldsHostResponse = iota
	fieldsRouteResponse
	fieldsHostRequest
	fieldsRouteRequest
)

func decodeFields(b []byte, a *answer, layout int) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return errBadBody
		}
		b = b[n:]
		if typ == protowire.BytesType {
			v, n := protowire.ConsumeBytes(b)
			if n < 0 {
				return errBadBody
			}
			b = b[n:]
			switch {
			case layout == fieldsHostResponse && num == 5:
				if err := decodeHostInfo(v, a); err != nil {
					return err
				}
			case layout == fieldsRouteResponse && num == 3:
				a.hosts++
			}
			continue
		}
		if typ != protowire.VarintType {
			n = protowire.ConsumeFieldValue(num, typ, b)
			if n < 0 {
				return errBadBody
			}
			b = b[n:]
			continue
		}
		v, n := protowire.ConsumeVarint(b)
		if n < 0 {
			return errBadBody
		}
		b = b[n:]
		switch layout {
		case fieldsHostResponse, fieldsHostRequest:
			switch num {
			case 1:
				a.seq = uint32(v)
			case 2:
				a.modid = int32(v)
			case 3:
				a.cmdid = int32(v)
			case 4:
				if layout == fieldsHostResponse {
					a.retcode = int32(v)
				}
			}
		case fieldsRouteResponse, fieldsRouteRequest:
			switch num {
			case 1:
				a.modid = int32(v)
			case 2:
				a.cmdid = int32(v)
			}
		}
	}
	return nil
}

func decodeHostInfo(b []byte, a *answer) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return errBadBody
		}
		b = b[n:]
		n = protowire.ConsumeFieldValue(num, typ, b)
		if n < 0 {
			return errBadBody
		}
		if typ == protowire.VarintType {
			v, _ := protowire.ConsumeVarint(b)
			switch num {
			case 1:
				a.ip = int32(v)
			case 2:
				a.port = int32(v)
			}
		}
		b = b[n:]
	}
	return nil
}
