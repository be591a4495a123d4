// Package codec speaks the Lars wire protocol: the 8-byte frame header, message ids,
// return codes, datagram and TCP stream framing, and the IPv4 wire form.
package codec

// MsgID identifies the protobuf message a frame carries.
type MsgID int32

// Message ids of the Lars protocol, as PROTOCOL.md lists them.
const (
	MsgGetRouteRequest     MsgID = 1 // agent -> route service (TCP)
	MsgGetRouteResponse    MsgID = 2 // route service -> agent (TCP), answer or push
	MsgReportStatusRequest MsgID = 3 // agent -> report service (TCP), no answer
	MsgGetHostRequest      MsgID = 4 // API -> agent (UDP)
	MsgGetHostResponse     MsgID = 5 // agent -> API (UDP)
	MsgReportRequest       MsgID = 6 // API -> agent (UDP), no answer
	MsgAPIGetRouteRequest  MsgID = 7 // API -> agent (UDP), body GetRouteRequest
	MsgAPIGetRouteResponse MsgID = 8 // agent -> API (UDP), body GetRouteResponse
)

// Message ids of our extensions (docs/PROTOCOL.md): Lars's parts never send them, and
// ours send them only to a peer that answered a Hello.
const (
	MsgHello       MsgID = 100 // agent -> route service (TCP): first frame, and keepalive
	MsgHelloReply  MsgID = 101 // route service -> agent (TCP): answers each Hello
	MsgUnsubscribe MsgID = 102 // agent -> route service (TCP): keys given back, no answer

	MsgRegisterRequest MsgID = 103 // API -> agent (UDP): register, keep alive or deregister an instance
	MsgRegisterReply   MsgID = 104 // agent -> API (UDP): the registration's state
	MsgLease           MsgID = 105 // agent -> route service (TCP): register, renew, remove instances
	MsgLeaseReply      MsgID = 106 // route service -> agent (TCP): one result per entry
)

// String returns the protocol name of the message id, or "unknown".
func (id MsgID) String() string {
	switch id {
	case MsgGetRouteRequest:
		return "get_route_request"
	case MsgGetRouteResponse:
		return "get_route_response"
	case MsgReportStatusRequest:
		return "report_status_request"
	case MsgGetHostRequest:
		return "get_host_request"
	case MsgGetHostResponse:
		return "get_host_response"
	case MsgReportRequest:
		return "report_request"
	case MsgAPIGetRouteRequest:
		return "api_get_route_request"
	case MsgAPIGetRouteResponse:
		return "api_get_route_response"
	case MsgHello:
		return "hello"
	case MsgHelloReply:
		return "hello_reply"
	case MsgUnsubscribe:
		return "unsubscribe"
	case MsgRegisterRequest:
		return "register_request"
	case MsgRegisterReply:
		return "register_reply"
	case MsgLease:
		return "lease"
	case MsgLeaseReply:
		return "lease_reply"
	}
	return "unknown"
}

// RetCode is the retcode field of GetHostResponse.
type RetCode int32

// Return codes of the Lars protocol.
const (
	RetSucc        RetCode = 0 // a host was chosen
	RetOverload    RetCode = 1 // every host of the key is overloaded and this call is not a probe
	RetSystemError RetCode = 2 // the agent could not answer
	RetNoExist     RetCode = 3 // the key has no hosts known to the agent (yet)
)

// String returns the protocol name of the return code, or "unknown".
func (c RetCode) String() string {
	switch c {
	case RetSucc:
		return "succ"
	case RetOverload:
		return "overload"
	case RetSystemError:
		return "system_error"
	case RetNoExist:
		return "noexist"
	}
	return "unknown"
}
