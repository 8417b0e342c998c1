/** `udpkit send`: its flags, examples and which flags go together. */
import { defineCommand, withFamilyFlags, withKeyFlags, type OptsOf } from '../command-spec.js';

/** Said of a flag that `--ack` ignores or `--tcp` cannot do. */
const withAck = (o: { ack?: true }): boolean => o.ack === true;
const overTcp = (o: { tcp?: true }): boolean => o.tcp === true;
const replaying = (o: { replay?: string }): boolean => o.replay !== undefined;
const notReplaying = (o: { replay?: string }): boolean => o.replay === undefined;

/** `udpkit send` as main.ts declares it and completion lists it. */
export const sendSpec = defineCommand({
  name: 'send',
  description: 'send a message (or stdin, one datagram per line) to HOST',
  examples: [
    'udpkit send 127.0.0.1 -p 9000 hello',
    'seq 1000 | udpkit send 10.0.0.7:9000 --ack',
    'udpkit send 239.1.2.3:5000 --ttl 2 --iface eth0 hello group',
    'udpkit send localhost:7 --hex "de ad be ef" -w 2',
  ],
  flags: (cmd) =>
    withKeyFlags(
      withFamilyFlags(
        cmd
          .argument('<host>', 'name or address, optionally HOST:PORT or [IPv6]:PORT')
          .argument('[message...]', 'words joined by spaces; "-" or none: read stdin')
          .option('-p, --port <port>', 'destination UDP port', '5000')
          .option('--raw', 'all of stdin as one datagram, byte for byte')
          .option('--file <path>', 'a file as one datagram')
          .option('--hex <hex>', 'send these bytes, e.g. "de ad be ef"')
          .option('-c, --count <n>', 'send the message this many times', '1')
          .option('-i, --interval <ms>', 'wait this long between datagrams', '0')
          .option('-w, --wait-reply [seconds]', 'wait for one reply and print it (default 5 s)')
          .option('-s, --source <address>', 'send from this local address')
          .option('--broadcast', 'allow a broadcast destination (set automatically for known ones)')
          .option('-q, --quiet', 'no summary line on stderr')
          .option('--tcp', 'connect over TCP and send each message as a line; exit 1 if nobody listens')
          .option('--ack', 'reliable delivery: resend until acknowledged, in order, exactly once; exit 3 if not all are')
          .option('--window <n>', 'with --ack: messages in flight at most (default 64)')
          .option('--ack-timeout <seconds>', 'with --ack: give up after this long without a new acknowledgement (default 10)')
          .option('--ttl <n>', 'to a multicast group: TTL, 0 to 255 (default 1, this link only)')
          .option('--iface <name|address>', 'to a multicast group: send out of this interface')
          .option('--loop', 'to a multicast group: also deliver to listeners on this machine (the default)')
          .option('--no-loop', 'to a multicast group: do not deliver to listeners on this machine')
          .option('--replay <file>', "send every UDP payload of a pcap or pcapng capture (\"-\": stdin), with the capture's gaps")
          .option('--speed <x>', 'with --replay: play X times as fast; 0: as fast as flow control allows (default 1)')
          .option('--filter-port <port>', 'with --replay: only packets to or from this UDP port')
          .option('--repeat <n>', 'with --replay: play the capture N times (default 1)'),
      ),
    ),
  rules: [
    { flag: 'speed', inapplicable: notReplaying, why: 'applies only with --replay' },
    { flag: 'filterPort', inapplicable: notReplaying, why: 'applies only with --replay' },
    { flag: 'repeat', inapplicable: notReplaying, why: 'applies only with --replay' },
    { flag: 'file', inapplicable: replaying, why: 'does not apply to --replay (the capture holds the payloads)' },
    { flag: 'raw', inapplicable: replaying, why: 'does not apply to --replay (the capture holds the payloads)' },
    { flag: 'hex', inapplicable: replaying, why: 'does not apply to --replay (the capture holds the payloads)' },
    { flag: 'count', inapplicable: replaying, why: 'does not apply to --replay (use --repeat)' },
    { flag: 'interval', inapplicable: replaying, why: "does not apply to --replay (the capture's gaps and --speed pace it)" },
    { flag: 'waitReply', inapplicable: replaying, why: 'does not apply to --replay' },
    { flag: 'replay', inapplicable: overTcp, why: 'does not apply to --tcp (a capture replays as UDP datagrams)' },
    { flag: 'window', inapplicable: (o) => o.ack !== true, why: 'applies only with --ack' },
    { flag: 'ackTimeout', inapplicable: (o) => o.ack !== true, why: 'applies only with --ack' },
    { flag: 'waitReply', inapplicable: withAck, why: 'does not apply to --ack (its acknowledgements are the replies)' },
    { flag: 'interval', inapplicable: withAck, why: 'does not apply to --ack (the --window paces it)' },
    { flag: 'ack', inapplicable: overTcp, why: 'does not apply to --tcp (TCP delivers reliably itself)' },
    { flag: 'waitReply', inapplicable: overTcp, why: 'does not apply to --tcp' },
    { flag: 'broadcast', inapplicable: overTcp, why: 'does not apply to --tcp' },
    { flag: 'source', inapplicable: overTcp, why: 'does not apply to --tcp' },
    { flag: 'interval', inapplicable: overTcp, why: 'does not apply to --tcp' },
    { flag: 'ttl', inapplicable: overTcp, why: 'does not apply to --tcp (multicast is UDP only)' },
    { flag: 'iface', inapplicable: overTcp, why: 'does not apply to --tcp (multicast is UDP only)' },
    { flag: 'loop', inapplicable: overTcp, why: 'does not apply to --tcp (multicast is UDP only)' },
    { flag: 'ipv4', inapplicable: overTcp, why: 'does not apply to --tcp (give an IPv4 address as HOST instead)' },
    { flag: 'ipv6', inapplicable: overTcp, why: 'does not apply to --tcp (give an IPv6 address as HOST instead)' },
  ],
});

/** What `udpkit send` parses. */
export type SendOptions = OptsOf<ReturnType<typeof sendSpec.flags>>;
