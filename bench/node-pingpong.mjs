#!/usr/bin/env node
// The floor for a round trip in Node: bench/c/udp-pingpong.c's ping-pong, same arguments, same
// output, with as little JavaScript as a Node program can have between a receive and the next
// send. What `udpkit bench --rtt` is measured against, besides C.
//   node bench/node-pingpong.mjs server PORT [IDLE_MS] [--native]
//   node bench/node-pingpong.mjs client HOST PORT [COUNT] [SIZE] [--native]
//   node bench/node-pingpong.mjs pair [COUNT] [SIZE] [--native]
// server and client are two processes, like the C pair; `pair` runs the server on a worker
// thread of the client's process, the way `udpkit bench --loopback` does. --native uses
// udpkit's addon socket (recvmmsg/sendmmsg, build/Release/udpkit_native.node) instead of
// node:dgram. Sequence numbers, the 250 ms per-echo timeout, "bye" and the 30 s deadline are the
// C program's.
import dgram from 'node:dgram';
import { createRequire } from 'node:module';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

const nowUs = () => performance.now() * 1000;

function nativeBinding() {
  return createRequire(import.meta.url)(new URL('../build/Release/udpkit_native.node', import.meta.url).pathname);
}

/** Nearest rank, as in the C program and `udpkit bench`. */
function percentile(sorted, p) {
  const rank = Math.min(sorted.length, Math.max(1, Math.ceil((p / 100) * sorted.length - 1e-9)));
  return sorted[rank - 1];
}

/** Echoes every datagram to its sender until "bye", IDLE_MS of silence after the first, or 60 s. */
function server(port, idleMs, native, onReady) {
  let echoed = 0;
  let idle;
  let socket;
  const stop = () => {
    clearTimeout(idle);
    clearTimeout(deadline);
    socket.close();
    process.stdout.write(`echoed ${echoed}\n`);
  };
  const deadline = setTimeout(stop, 60_000);
  const seen = () => {
    if (idle) idle.refresh();
    else idle = setTimeout(stop, idleMs);
  };
  const isBye = (b, at, n) => n === 3 && b[at] === 0x62 && b[at + 1] === 0x79 && b[at + 2] === 0x65;
  if (native) {
    const { NativeUdp } = nativeBinding();
    socket = new NativeUdp(4, false);
    socket.bind('127.0.0.1', port, false);
    socket.startReceiving(
      (count, data, starts, lengths, ports, senders, addresses, families, replies) => {
        for (let i = 0; i < count; i++) {
          if (isBye(data, starts[i], lengths[i])) return stop();
          socket.send(data.subarray(starts[i], starts[i] + lengths[i]), replies[senders[i]], ports[i]);
          echoed++;
        }
        seen();
      },
      () => undefined,
    );
    onReady(socket.localAddress().port);
  } else {
    socket = dgram.createSocket('udp4');
    socket.on('message', (m, from) => {
      if (isBye(m, 0, m.length)) return stop();
      socket.send(m, from.port, from.address);
      echoed++;
      seen();
    });
    socket.bind(port, '127.0.0.1', () => onReady(socket.address().port));
  }
}

/** COUNT sequential round trips of SIZE bytes; resolves with the line the C client prints. */
function client(host, port, count, size, native) {
  return new Promise((resolve) => {
    const out = Buffer.alloc(Math.max(8, size), 'a');
    const samples = [];
    let seq = 0;
    let lost = 0;
    let t0 = 0;
    let socket;
    let send;
    const deadline = performance.now() + 30_000;
    const finish = () => {
      clearTimeout(timer);
      send(Buffer.from('bye'));
      socket.close();
      if (samples.length === 0) return resolve(`rtt none echoes 0 lost ${lost}`);
      samples.sort((a, b) => a - b);
      const f = (x) => x.toFixed(1);
      resolve(`rtt p50 ${f(percentile(samples, 50))} us p99 ${f(percentile(samples, 99))} us min ${f(samples[0])} max ${f(samples.at(-1))} echoes ${samples.length} lost ${lost}`);
    };
    const next = () => {
      if (seq >= count || performance.now() > deadline) return finish();
      out.writeUInt32LE(seq, 0);
      t0 = nowUs();
      timer.refresh();
      send(out);
    };
    const timer = setTimeout(() => {
      lost++;
      seq++;
      next();
    }, 250);
    const heard = (buf, at, n) => {
      if (n < 4 || buf.readUInt32LE(at) !== seq) return;
      samples.push(nowUs() - t0);
      seq++;
      next();
    };
    if (native) {
      const { NativeUdp } = nativeBinding();
      socket = new NativeUdp(4, false);
      socket.connect(host, port);
      send = (b) => socket.send(b);
      socket.startReceiving(
        (count, data, starts, lengths) => {
          for (let i = 0; i < count; i++) heard(data, starts[i], lengths[i]);
        },
        () => undefined,
      );
      next();
    } else {
      socket = dgram.createSocket('udp4');
      send = (b) => socket.send(b);
      socket.on('message', (m) => heard(m, 0, m.length));
      socket.connect(port, host, next);
    }
  });
}

const flag = process.argv.includes('--native');
const args = process.argv.slice(2).filter((a) => a !== '--native');

if (!isMainThread) {
  server(0, 5000, workerData.native, (port) => parentPort.postMessage(port));
} else if (args[0] === 'server' && args.length >= 2) {
  server(Number(args[1]), Number(args[2] ?? 5000), flag, () => process.stderr.write('ready\n'));
} else if (args[0] === 'client' && args.length >= 3) {
  process.stdout.write(`${await client(args[1], Number(args[2]), Number(args[3] ?? 1000), Number(args[4] ?? 64), flag)}\n`);
} else if (args[0] === 'pair') {
  const worker = new Worker(new URL(import.meta.url), { workerData: { native: flag } });
  const port = await new Promise((resolve) => worker.once('message', resolve));
  process.stdout.write(`${await client('127.0.0.1', port, Number(args[1] ?? 1000), Number(args[2] ?? 64), flag)}\n`);
  await new Promise((resolve) => worker.once('exit', resolve));
} else {
  process.stderr.write('usage: node-pingpong.mjs server PORT [IDLE_MS] [--native] | client HOST PORT [COUNT] [SIZE] [--native] | pair [COUNT] [SIZE] [--native]\n');
  process.exitCode = 2;
}
