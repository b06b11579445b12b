"""DHCP for containers: the ``netavark dhcp-proxy`` daemon and what talks to it.

Pure codecs (no I/O): :mod:`.protobuf` and :mod:`.proto` (the messages of
upstream's ``proxy.proto``), :mod:`.hpack`, :mod:`.h2` (HTTP/2 frames and a
connection state machine), :mod:`.grpc` (message framing and status), and
:mod:`.dhcpv4` (DHCP messages inside Ethernet/IPv4/UDP frames).

I/O: :mod:`.rpc_client` (blocking gRPC call used by ``netavark setup``),
and, for the daemon only, :mod:`.server`, :mod:`.service`, :mod:`.client`
(the DHCP client state machine on a packet socket), :mod:`.rawsock`,
:mod:`.cache` and :mod:`.netconf`.
"""
