"""Stands in for the osx broker's routing of FATE-Flow's commands, reading osx's rendered conf as osx would.

osx (Java) is not installable in CI. FATE-Flow 2.0 sends every scheduling command, its
own party's included, as a gRPC DataTransferService.unaryCall Packet to the federation
proxy (service_conf.yaml federation.osx host:port); osx looks the destination party and
role up in broker/route_table.json and passes the Packet on. This does that much and no
more: it listens on broker.properties' grpc.port, routes by route_table.json
(route_table[party][role], else route_table[party]["default"], else the "default" party),
forwards the Packet unchanged, and prints one JSON line per call. It runs inside the osx
pod's sandbox, with the osx-config ConfigMap mounted where the Deployment mounts it.

Usage: python osx_standin.py CONF_DIR
"""

import json
import sys
from concurrent import futures
from pathlib import Path

import grpc
from fate_flow.proto.rollsite import proxy_pb2_grpc


def properties(path: Path) -> dict:
    out = {}
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            out[key.strip()] = value.strip()
    return out


def main() -> None:
    conf = Path(sys.argv[1])
    broker = properties(conf / "broker.properties")
    table = json.loads((conf / "route_table.json").read_text())["route_table"]

    def route(party: str, role: str):
        entries = table.get(party) or table.get("default") or {}
        targets = entries.get(role) or entries.get("default")
        return targets[0] if targets else None

    class Router(proxy_pb2_grpc.DataTransferServiceServicer):
        def unaryCall(self, request, context):
            dst = request.header.dst
            target = route(dst.partyId, dst.role)
            record = {"src": request.header.src.partyId, "dst": dst.partyId, "role": dst.role,
                      "uri": request.body.key, "route": target}
            try:
                if target is None:
                    record["result"] = "no route"
                    context.abort(grpc.StatusCode.NOT_FOUND, f"no route to party {dst.partyId} role {dst.role}")
                with grpc.insecure_channel(f"{target['ip']}:{target['port']}") as channel:
                    reply = proxy_pb2_grpc.DataTransferServiceStub(channel).unaryCall(request, timeout=60)
                record["result"] = "forwarded"
                return reply
            except grpc.RpcError as error:
                if "result" not in record:
                    record["result"] = f"{error.code()}: {error.details()}"
                context.abort(error.code() or grpc.StatusCode.UNAVAILABLE, error.details() or "forward failed")
            finally:
                print(json.dumps(record), flush=True)

    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    proxy_pb2_grpc.add_DataTransferServiceServicer_to_server(Router(), server)
    server.add_insecure_port(f"0.0.0.0:{broker['grpc.port']}")
    server.start()
    print(json.dumps({"listening": int(broker["grpc.port"]), "self.party": broker.get("self.party")}), flush=True)
    server.wait_for_termination()


if __name__ == "__main__":
    main()
